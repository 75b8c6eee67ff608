/**
 * Shared by the pulse integration tests: finds a PulseAudio server and decides skip vs fail.
 * When PULSE_SERVER is unset and scripts/ci/pulse.sh's socket exists ($LOOPCHECK_PULSE_DIR or
 * /tmp/loopcheck-pulse), that server is used. No server: skip with a visible reason, or — with
 * LOOPCHECK_REQUIRE_REAL_AUDIO=1 — fail (CI never passes by skipping).
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { native, type NativeBinding } from '../../src/native.js';
import { strict } from '../support/require.js';

export interface PulseProbe {
  /** libpulse and the addon's PulseSession are present (no server needed). */
  libpulse: boolean;
  /** A server answered. */
  server: boolean;
  reason: string;
  binding: NativeBinding | undefined;
}

export function probePulse(): PulseProbe {
  if (!process.env.PULSE_SERVER) {
    const sock = path.join(process.env.LOOPCHECK_PULSE_DIR ?? '/tmp/loopcheck-pulse', 'sock', 'native');
    if (existsSync(sock)) process.env.PULSE_SERVER = `unix:${sock}`;
  }
  let binding: NativeBinding;
  try {
    binding = native();
  } catch (e) {
    return { libpulse: false, server: false, reason: `native addon not loadable: ${(e as Error).message}`, binding: undefined };
  }
  if (!binding.PulseSession || !binding.backendInfo().available) {
    return { libpulse: false, server: false, reason: 'the addon has no usable pulse backend (libpulse missing?)', binding };
  }
  try {
    new binding.PulseSession({ timeoutMs: 3000 }).close();
    return { libpulse: true, server: true, reason: '', binding };
  } catch (e) {
    return {
      libpulse: true,
      server: false,
      reason: `no PulseAudio server answered (${(e as Error).message}); run scripts/ci/pulse.sh start`,
      binding,
    };
  }
}

/** true: run the tests. false: skip them (reason printed). Throws under LOOPCHECK_REQUIRE_REAL_AUDIO=1. */
export function requirePulseServer(probe: PulseProbe): boolean {
  if (probe.server) return true;
  if (strict) throw new Error(`PulseAudio is required (LOOPCHECK_REQUIRE_REAL_AUDIO=1): ${probe.reason}`);
  process.stderr.write(`[skip] pulse integration tests: ${probe.reason}\n`);
  return false;
}
