import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // DSP tests chew through seconds of audio; the limit is a hang guard, not a speed assertion.
    testTimeout: 120_000,
    hookTimeout: 120_000,
    pool: 'forks',
    reporters: process.env.LOOPCHECK_JUNIT ? ['default', ['junit', { outputFile: process.env.LOOPCHECK_JUNIT }]] : ['default'],
  },
});
