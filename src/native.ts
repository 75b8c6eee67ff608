/**
 * Loads the Node-API addon. Tries each candidate path in order and, when none loads, throws one
 * LoopcheckError listing what was tried and how to fix it (the way sharp does).
 */
import { createRequire } from 'node:module';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import { LoopcheckError, type ErrorCode } from './errors.js';

export interface NativeBackendInfo {
  name: string;
  available: boolean;
  error?: { code: ErrorCode; message: string; hint: string; osCode?: number };
}

/** The typed surface of native/addon.cc. */
export interface NativeBinding {
  version(): string;
  /** Monotonic clock, nanoseconds. */
  now(): bigint;
  backendInfo(): NativeBackendInfo;
}

const require = createRequire(import.meta.url);

/** Package root, whether running from src/ (tests, tsx) or dist/src/ (built). */
export function packageRoot(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 5; i++) {
    if (existsSync(path.join(dir, 'package.json'))) return dir;
    dir = path.dirname(dir);
  }
  throw new LoopcheckError('INTERNAL', 'cannot find the loopcheck package root');
}

export function nativeCandidates(root = packageRoot()): string[] {
  const fromEnv = process.env.LOOPCHECK_NATIVE_PATH;
  return [
    ...(fromEnv ? [path.resolve(fromEnv)] : []),
    path.join(root, 'build', 'Release-cmake', 'Release', 'loopcheck.node'),
    path.join(root, 'build', 'Release', 'loopcheck.node'),
    path.join(root, 'prebuilds', `${process.platform}-${process.arch}`, 'loopcheck.node'),
  ];
}

let cached: NativeBinding | undefined;

export function loadNative(candidates = nativeCandidates()): NativeBinding {
  const tried: string[] = [];
  for (const file of candidates) {
    if (!existsSync(file)) {
      tried.push(`${file} (missing)`);
      continue;
    }
    try {
      const binding = require(file) as NativeBinding;
      return binding;
    } catch (e) {
      tried.push(`${file} (${(e as Error).message.split('\n')[0]})`);
    }
  }
  throw new LoopcheckError('BACKEND_UNAVAILABLE', `the native addon could not be loaded; tried: ${tried.join('; ')}`, {
    hint: 'run `npm run build` (needs cmake and a C++17 compiler), or use --backend virtual',
  });
}

/** The addon, loaded once; throws the combined error when it cannot be loaded. */
export function native(): NativeBinding {
  cached ??= loadNative();
  return cached;
}
