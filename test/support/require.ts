/**
 * Tests that need an outside tool or service (sox, PulseAudio, Wine, Chromium) call these.
 * Locally, a missing tool skips the test with a visible reason. With LOOPCHECK_REQUIRE_REAL_AUDIO=1
 * (set by .ci/run) a missing tool FAILS the test instead: CI never passes by skipping.
 */
import { spawnSync } from 'node:child_process';

export const strict = process.env.LOOPCHECK_REQUIRE_REAL_AUDIO === '1';

export function hasCommand(command: string): boolean {
  const r = spawnSync('sh', ['-c', 'command -v "$1"', 'sh', command], { encoding: 'utf8' });
  return r.status === 0 && r.stdout.trim().length > 0;
}

/**
 * Returns true when the tool is there. When it is not: throws under LOOPCHECK_REQUIRE_REAL_AUDIO=1,
 * else returns false so the caller can `it.skipIf(!available)`.
 */
export function requireCommand(command: string, howToInstall: string): boolean {
  if (hasCommand(command)) return true;
  if (strict) throw new Error(`${command} is required (LOOPCHECK_REQUIRE_REAL_AUDIO=1) but missing. Fix: ${howToInstall}`);
  process.stderr.write(`[skip] ${command} not found; tests that need it are skipped. Fix: ${howToInstall}\n`);
  return false;
}
