/**
 * Loads the Node-API addon. Tries each candidate path in order and, when none loads, throws one
 * LoopcheckError listing what was tried and how to fix it (the way sharp does).
 */
import { createRequire } from 'node:module';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import { ERROR_CODES, LoopcheckError, type ErrorCode } from './errors.js';

export interface NativeBackendInfo {
  name: string;
  available: boolean;
  error?: { code: ErrorCode; message: string; hint: string; osCode?: number };
}

/** A device as native/linux/pulse_binding.cc lists it (`related`: a sink's monitor, or the sink a monitor watches). */
export interface NativeDevice {
  id: string;
  name: string;
  kind: 'render' | 'capture' | 'monitor';
  isDefault: boolean;
  sampleRate: number;
  channels: number;
  related: string;
}

/** What a native stream was granted. `bufferMs`: fragsize (capture) or tlength (render). */
export interface NativeStreamInfo {
  device: string;
  sampleRate: number;
  channels: number;
  bufferMs: number;
}

/** Bits of NativeChunk.flags (native/common/capture_queue.h ChunkFlag). */
export const NATIVE_CHUNK_FLAG = { discontinuity: 1, silent: 2, timestampError: 4 } as const;

/** One capture chunk from the pump. Times are ms on the addon's monotonic clock (`now()` / 1e6). */
export interface NativeChunk {
  /** Interleaved float32, a fresh array per chunk. */
  samples: Float32Array;
  frames: number;
  channels: number;
  sampleRate: number;
  framePosition: number;
  deviceTimeMs: number;
  receivedAtMs: number;
  flags: number;
  /** Frames dropped by the native ring or the bounded JS queue since the previous chunk. */
  overruns: number;
  underruns: number;
  /**
   * pulse: pa_stream_get_latency on the record stream when the device block holding this chunk's first frame
   * was read, µs → ms, negative when libpulse set its `negative` flag. Absent when the server gave none.
   */
  serverLatencyMs?: number;
}

/** A hot-plug event from PulseDeviceWatch. `id` is the pulse name (the same id listDevices reports). */
export interface NativeDeviceEvent {
  type: 'added' | 'removed' | 'changed' | 'default-changed';
  kind: 'render' | 'capture' | 'monitor';
  id: string;
  /** The device description, when known. */
  name?: string;
  /** When libpulse delivered the subscription event, ms on the addon's monotonic clock. */
  timeMs: number;
  /** Events dropped (bounded queue full) just before this one. */
  missed?: number;
}

/** onEvent(event, null) per event; onEvent(null, error) once when the server connection is lost. */
export type NativeDeviceEventCallback = (event: NativeDeviceEvent | null, error: unknown) => void;

/** native/linux/pulse_binding.cc: a dedicated connection subscribed to sink/source/server events. */
export interface NativePulseDeviceWatch {
  /** Stops the connection's thread; no callback runs afterwards. Idempotent. */
  close(): void;
}

export interface NativePlayResult {
  /** When frame 0 was handed to pa_stream_write, ms on the addon's monotonic clock. */
  writeTimeMs: number;
  framesWritten: number;
  /** Underflows while the signal still had data. */
  underruns: number;
  /** [frame, timeMs, …], one pair per write call (native/common/write_marks.h). */
  writeMarks: Float64Array;
  /** Marks past the capacity reserved for the signal (0 unless the device wrote in tiny blocks). */
  writeMarksDropped: number;
}

/**
 * onChunk(chunk, null) per chunk; onChunk(null, error) when the stream failed (error carries code/hint/osCode);
 * onChunk(null, null) once at the end, after stopCapture() or after an error.
 */
export type NativeChunkCallback = (chunk: NativeChunk | null, error: unknown) => void;

/** native/linux/pulse_binding.cc: one PulseAudio connection, at most one capture and one playback stream. */
export interface NativePulseSession {
  listDevices(): NativeDevice[];
  libraryVersion(): string;
  /** Record stream on the sink's monitor (device = sink id; default sink when omitted). */
  openCapture(
    options: { device?: string; sampleRate: number; channels: number; bufferMs: number },
    onChunk: NativeChunkCallback,
  ): NativeStreamInfo;
  stopCapture(): void;
  openPlayback(options: { device?: string; sampleRate: number; channels: number; bufferMs: number }): NativeStreamInfo;
  /** Resolves when the last frame was handed to PulseAudio. */
  play(interleaved: Float32Array): Promise<NativePlayResult>;
  closePlayback(): void;
  close(): void;
}

/** The typed surface of native/addon.cc. */
export interface NativeBinding {
  version(): string;
  /** Monotonic clock, nanoseconds. */
  now(): bigint;
  backendInfo(): NativeBackendInfo;
  /** Linux builds only. Throws SERVICE_UNAVAILABLE (no server) or BACKEND_UNAVAILABLE (no libpulse). */
  PulseSession?: new (options?: { timeoutMs?: number }) => NativePulseSession;
  /** Linux builds only. Active (subscribed) when the constructor returns; keeps the event loop alive until close(). */
  PulseDeviceWatch?: new (options: { timeoutMs?: number }, onEvent: NativeDeviceEventCallback) => NativePulseDeviceWatch;
}

/**
 * Converts what the addon throws (an Error with `code`, `hint`, `osCode`) into a LoopcheckError;
 * anything else becomes INTERNAL.
 */
export function toLoopcheckError(e: unknown): LoopcheckError {
  if (e instanceof LoopcheckError) return e;
  const o = (typeof e === 'object' && e !== null ? e : {}) as { code?: unknown; message?: unknown; hint?: unknown; osCode?: unknown };
  const code = typeof o.code === 'string' && (ERROR_CODES as readonly string[]).includes(o.code) ? (o.code as ErrorCode) : 'INTERNAL';
  const message = typeof o.message === 'string' ? o.message : String(e);
  return new LoopcheckError(code, message, {
    ...(typeof o.hint === 'string' && o.hint ? { hint: o.hint } : {}),
    ...(typeof o.osCode === 'number' ? { osCode: o.osCode } : {}),
    cause: e,
  });
}

/** Runs a native call, rethrowing its errors as LoopcheckError. */
export function callNative<T>(fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    throw toLoopcheckError(e);
  }
}

/** The addon's monotonic clock in ms (µs resolution), the clock native chunk and play times use. */
export function nativeNowMs(binding: NativeBinding = native()): number {
  return Number(binding.now() / 1000n) / 1000;
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

/**
 * Where the addon may be, in the order tried (node-gyp-build's order, see docs/prebuilds.md):
 * LOOPCHECK_NATIVE_PATH; the local source build (`npm run build`, or the install script's fallback);
 * the mingw cross build (Windows only); the prebuild shipped in the package, prebuilds/<platform>-<arch>/.
 * An installed package has no local build unless its prebuild did not load at install time
 * (scripts/install.js), so there the prebuild is what loads; in a checkout a fresh build wins over a
 * prebuild made earlier by `npm pack`.
 */
export function nativeCandidates(root = packageRoot()): string[] {
  const fromEnv = process.env.LOOPCHECK_NATIVE_PATH;
  const target = `${process.platform}-${process.arch}`;
  return [
    ...(fromEnv ? [path.resolve(fromEnv)] : []),
    path.join(root, 'build', 'Release-cmake', 'Release', 'loopcheck.node'),
    path.join(root, 'build', 'Release', 'loopcheck.node'),
    // The mingw cross build (`npm run build:win`), used by the Windows node.exe under Wine.
    ...(process.platform === 'win32' ? [path.join(root, 'build', target, 'loopcheck.node')] : []),
    path.join(root, 'prebuilds', target, 'loopcheck.node'),
  ];
}

let cached: NativeBinding | undefined;
let loadedFrom: string | undefined;

/** The file the addon was loaded from (undefined until native() succeeded). */
export function nativePath(): string | undefined {
  return loadedFrom;
}

/** LOOPCHECK_DEBUG_NATIVE=1: one stderr line saying which file loaded (after which failed candidates), or that none did. */
function debugNative(line: string): void {
  if (process.env.LOOPCHECK_DEBUG_NATIVE === '1') process.stderr.write(`loopcheck: native: ${line}\n`);
}

export function loadNative(candidates = nativeCandidates()): NativeBinding {
  const tried: string[] = [];
  for (const file of candidates) {
    if (!existsSync(file)) {
      tried.push(`${file} (missing)`);
      continue;
    }
    try {
      const binding = require(file) as NativeBinding;
      debugNative(`loaded ${file}${tried.length ? ` (after ${tried.join('; ')})` : ''}`);
      loadedFrom = file;
      return binding;
    } catch (e) {
      tried.push(`${file} (${(e as Error).message.split('\n')[0]})`);
    }
  }
  debugNative(`nothing loaded; tried ${tried.join('; ')}`);
  const target = `${process.platform}-${process.arch}`;
  throw new LoopcheckError('BACKEND_UNAVAILABLE', `the native addon could not be loaded; tried: ${tried.join('; ')}`, {
    hint:
      `the package has no working prebuild for ${target}: build it from source (cmake and a C++17 compiler, then ` +
      '`npm rebuild loopcheck --build-from-source`, or `npm run build` in a checkout), or use --backend virtual',
  });
}

/** The addon, loaded once; throws the combined error when it cannot be loaded. */
export function native(): NativeBinding {
  cached ??= loadNative();
  return cached;
}
