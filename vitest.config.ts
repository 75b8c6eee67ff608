import { defineConfig } from 'vitest/config';

// Two groups, run one after the other:
// - `unit`: everything that needs no audio server (parallel across the machine's cores);
// - `real-audio`: tests against a real PulseAudio daemon (test/integration), one file at a time and after the
//   unit group, so CPU-heavy analysis tests never starve the daemon into underruns while a test asserts
//   "0 dropouts, bit-exact" (pulseaudio.md: underruns under load even at 50 ms buffers);
// - `wasapi` (Windows only: a real runner, or the Windows node.exe under Wine via `npm run test:wine`): the
//   WASAPI backend against real endpoints (test/wine), one file at a time. On Linux the project does not exist,
//   so `npm test` never reports these as skipped: they run where WASAPI is.
const shared = {
  // DSP tests chew through seconds of audio; the limit is a hang guard, not a speed assertion.
  testTimeout: 120_000,
  hookTimeout: 120_000,
  pool: 'forks' as const,
};

export default defineConfig({
  test: {
    reporters: process.env.LOOPCHECK_JUNIT ? ['default', ['junit', { outputFile: process.env.LOOPCHECK_JUNIT }]] : ['default'],
    projects: [
      {
        test: { ...shared, name: 'unit', include: ['test/**/*.test.ts'], exclude: ['test/integration/**', 'test/browser/**', 'test/wine/**'], sequence: { groupOrder: 0 } },
      },
      {
        // Reports rendered in headless Chromium (Debian's package, driven by playwright-core).
        test: { ...shared, name: 'browser', include: ['test/browser/**/*.test.ts'], sequence: { groupOrder: 0 } },
      },
      {
        test: { ...shared, name: 'real-audio', include: ['test/integration/**/*.test.ts'], fileParallelism: false, sequence: { groupOrder: 1 } },
      },
      ...(process.platform === 'win32'
        ? [
            { test: { ...shared, name: 'wasapi', include: ['test/wine/*.test.ts'], fileParallelism: false, sequence: { groupOrder: 2 } } },
            // Removes the endpoint (host agent under Wine): after every other WASAPI test.
            { test: { ...shared, name: 'wasapi-loss', include: ['test/wine/loss/*.test.ts'], sequence: { groupOrder: 3 } } },
          ]
        : []),
    ],
  },
});
