/**
 * Backend registry: the one place that turns a backend name into a Backend.
 *
 * - `virtual`        the simulated device (always available).
 * - `pulse`/`wasapi` native backends; they plug in at `nativeBackend()` (next issue). A backend named
 *                    explicitly never falls back: when it cannot be used, this throws its error.
 * - `auto`           wasapi on Windows, pulse when a server answers, else virtual (SIMULATED), saying so
 *                    through `log`.
 */
import { LoopcheckError } from '../errors.js';
import { native } from '../native.js';
import type { Backend, BackendName } from './types.js';
import { createVirtualBackend } from './virtual.js';
import { createPulseBackend } from './pulse.js';
import { createWasapiBackend } from './wasapi.js';

export const BACKEND_NAMES = ['auto', 'virtual', 'pulse', 'wasapi'] as const;
export type BackendChoice = (typeof BACKEND_NAMES)[number];

export interface GetBackendOptions {
  /** One line per decision worth telling the user (e.g. that auto chose the simulated device). */
  log?: ((line: string) => void) | undefined;
}

export function isBackendChoice(name: string): name is BackendChoice {
  return (BACKEND_NAMES as readonly string[]).includes(name);
}

/**
 * Native backend factory: asks the addon which backend it was built with and whether it can run.
 * Throws the addon's own error (BACKEND_UNAVAILABLE, SERVICE_UNAVAILABLE, …) when it cannot.
 */
export function nativeBackend(name: Exclude<BackendName, 'virtual'>): Backend {
  const info = native().backendInfo(); // throws BACKEND_UNAVAILABLE listing what was tried when the addon is missing
  if (!info.available || info.name !== name) {
    const err = info.error;
    if (err && info.name === name) throw new LoopcheckError(err.code, err.message, { hint: err.hint, ...(err.osCode === undefined ? {} : { osCode: err.osCode }) });
    const why = info.available ? `it was built with the ${info.name} backend` : (err?.message ?? `its ${info.name} backend is unavailable`);
    throw new LoopcheckError('BACKEND_UNAVAILABLE', `the ${name} backend is not available in this build of the addon: ${why}`, {
      hint: err?.hint ?? `build on ${name === 'wasapi' ? 'Windows' : 'Linux with libpulse'}, or use --backend virtual`,
    });
  }
  return name === 'pulse' ? createPulseBackend() : createWasapiBackend();
}

/**
 * auto: the platform's native backend when it answers, else the virtual device (SIMULATED). Only
 * "nothing to talk to" falls back (no addon, no libpulse, no server); any other error is real and thrown.
 */
async function autoBackend(options: GetBackendOptions): Promise<Backend> {
  const platformBackend = process.platform === 'win32' ? 'wasapi' : process.platform === 'linux' ? 'pulse' : null;
  if (platformBackend) {
    try {
      const backend = nativeBackend(platformBackend);
      await backend.listDevices(); // connects: SERVICE_UNAVAILABLE when no server answers
      options.log?.(`backend auto: using ${platformBackend}`);
      return backend;
    } catch (e) {
      if (!(e instanceof LoopcheckError) || !FALLBACK_CODES.has(e.code)) throw e;
      options.log?.(`backend auto: ${platformBackend} unavailable (${e.code}: ${e.message}); using the virtual device (SIMULATED)`);
    }
  } else {
    options.log?.(`backend auto: no native backend for ${process.platform}; using the virtual device (SIMULATED)`);
  }
  return createVirtualBackend({ log: options.log });
}

const FALLBACK_CODES = new Set(['BACKEND_UNAVAILABLE', 'SERVICE_UNAVAILABLE']);

export async function getBackend(name: string, options: GetBackendOptions = {}): Promise<Backend> {
  if (typeof name !== 'string' || !isBackendChoice(name)) {
    const shown = typeof name === 'string' ? JSON.stringify(name.length > 40 ? `${name.slice(0, 40)}…` : name) : String(name);
    throw new LoopcheckError('INVALID_ARGUMENT', `unknown backend ${shown}; valid: ${BACKEND_NAMES.join(', ')}`, {
      hint: 'pass --backend auto, virtual, pulse or wasapi',
    });
  }
  switch (name) {
    case 'virtual':
      return createVirtualBackend({ log: options.log });
    case 'pulse':
    case 'wasapi':
      return nativeBackend(name);
    case 'auto':
      return autoBackend(options);
  }
}
