/**
 * The `pulse` backend (Linux): render + loopback capture through the native addon's PulseSession
 * (native/linux). The record stream reads the sink's `.monitor`; the playback stream writes to the sink.
 *
 * Clock: every time here is ms on the addon's monotonic clock (`nativeNowMs()`), onto which the addon maps
 * PulseAudio's stream timing (deviceTime = now − pa_stream_get_latency at the read callback).
 */
import type { Audio } from '../audio.js';
import { frameCount, interleave } from '../audio.js';
import { LoopcheckError } from '../errors.js';
import {
  NATIVE_CHUNK_FLAG,
  callNative,
  native,
  nativeNowMs,
  toLoopcheckError,
  type NativeBinding,
  type NativeChunk,
  type NativeDeviceEvent,
  type NativePulseSession,
  type NativeStreamInfo,
} from '../native.js';
import type {
  Backend,
  CaptureChunk,
  CaptureStream,
  DeviceEvent,
  DeviceInfo,
  DeviceWatch,
  LoopbackSession,
  OpenOptions,
  PlayResult,
  RenderStream,
  StreamFormat,
} from './types.js';

/** An idle null sink can take 1–2 s to deliver its first data (pulseaudio.md): never give up before 3 s. */
export const FIRST_DATA_TIMEOUT_MS = 3000;
const DEFAULT_BUFFER_MS = 50;
/** JS-side bound on undelivered chunks (~60 s at 10 ms per chunk); beyond it chunks are dropped and counted. */
const MAX_PENDING_CHUNKS = 6000;

function binding(): NativeBinding {
  const b = native();
  if (!b.PulseSession) {
    const info = b.backendInfo();
    throw new LoopcheckError('BACKEND_UNAVAILABLE', `this loopcheck addon has no PulseAudio backend (native backend: ${info.name})`, {
      hint: 'the pulse backend exists on Linux only; use --backend virtual',
    });
  }
  return b;
}

function openSession(): NativePulseSession {
  const b = binding();
  const Session = b.PulseSession!;
  return callNative(() => new Session({ timeoutMs: FIRST_DATA_TIMEOUT_MS }));
}

export async function listPulseDevices(): Promise<DeviceInfo[]> {
  const session = openSession();
  try {
    return callNative(() => session.listDevices()).map((d) => ({
      id: d.id,
      name: d.name,
      kind: d.kind,
      isDefault: d.isDefault,
      sampleRate: d.sampleRate,
      channels: d.channels,
    }));
  } finally {
    session.close();
  }
}

function toChunk(c: NativeChunk, extraOverruns: number): CaptureChunk {
  return {
    samples: c.samples,
    frames: c.frames,
    channels: c.channels,
    sampleRate: c.sampleRate,
    framePosition: c.framePosition,
    deviceTime: c.deviceTimeMs,
    receivedAt: c.receivedAtMs,
    flags: {
      discontinuity: (c.flags & NATIVE_CHUNK_FLAG.discontinuity) !== 0 || extraOverruns > 0,
      silent: (c.flags & NATIVE_CHUNK_FLAG.silent) !== 0,
      timestampError: (c.flags & NATIVE_CHUNK_FLAG.timestampError) !== 0,
    },
    overruns: c.overruns + extraOverruns,
    ...(c.serverLatencyMs === undefined ? {} : { serverLatencyMs: c.serverLatencyMs }),
  };
}

/** Capture over the native pump: a bounded queue of chunks consumed by one async iterator. */
class PulseCaptureStream implements CaptureStream {
  readonly format: StreamFormat;
  readonly bufferMs: number;
  private readonly pending: CaptureChunk[] = [];
  private waiter: (() => void) | undefined;
  private ended = false;
  private error: LoopcheckError | undefined;
  private droppedFrames = 0;
  private firstData: Promise<void>;
  private resolveFirst!: () => void;
  private endPromise: Promise<void>;
  private resolveEnd!: () => void;
  private stopped = false;

  constructor(
    private readonly session: NativePulseSession,
    sink: string,
    sampleRate: number,
    channels: number,
    bufferMs: number,
  ) {
    this.firstData = new Promise((r) => (this.resolveFirst = r));
    this.endPromise = new Promise((r) => (this.resolveEnd = r));
    const info: NativeStreamInfo = callNative(() =>
      session.openCapture({ device: sink, sampleRate, channels, bufferMs }, (chunk, err) => this.onNative(chunk, err)),
    );
    this.format = { sampleRate: info.sampleRate, channels: info.channels, sampleFormat: 'f32' };
    this.bufferMs = info.bufferMs;
  }

  private onNative(chunk: NativeChunk | null, err: unknown): void {
    if (chunk) {
      if (this.pending.length >= MAX_PENDING_CHUNKS) {
        this.droppedFrames += chunk.frames; // nobody reads: drop, count, flag the next chunk
      } else {
        this.pending.push(toChunk(chunk, this.droppedFrames));
        this.droppedFrames = 0;
      }
      this.resolveFirst();
    } else if (err) {
      this.error = toLoopcheckError(err);
      this.resolveFirst();
    } else {
      this.ended = true;
      this.resolveFirst();
      this.resolveEnd();
    }
    const w = this.waiter;
    this.waiter = undefined;
    w?.();
  }

  /** Resolves on the first chunk; TIMEOUT after `timeoutMs` (≥ 3 s: an idle null sink can be slow). */
  async waitForFirstData(timeoutMs = FIRST_DATA_TIMEOUT_MS): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () =>
          reject(
            new LoopcheckError('TIMEOUT', `no capture data from the PulseAudio monitor within ${timeoutMs} ms`, {
              hint: 'check that the sink is running (pactl list short sinks) and not suspended',
            }),
          ),
        Math.max(timeoutMs, FIRST_DATA_TIMEOUT_MS),
      );
    });
    try {
      await Promise.race([this.firstData, timeout]);
    } finally {
      clearTimeout(timer);
    }
    if (this.error && this.pending.length === 0) throw this.error;
  }

  async stop(): Promise<void> {
    if (!this.stopped) {
      this.stopped = true;
      this.session.stopCapture();
    }
    if (!this.ended && !this.error) await this.endPromise;
  }

  async *[Symbol.asyncIterator](): AsyncIterator<CaptureChunk> {
    for (;;) {
      const next = this.pending.shift();
      if (next) {
        yield next;
        continue;
      }
      if (this.error) throw this.error;
      if (this.ended) return;
      await new Promise<void>((r) => (this.waiter = r));
    }
  }
}

class PulseRenderStream implements RenderStream {
  readonly format: StreamFormat;
  readonly bufferMs: number;
  private closed = false;

  constructor(
    private readonly session: NativePulseSession,
    sink: string,
    sampleRate: number,
    channels: number,
    bufferMs: number,
  ) {
    const info = callNative(() => session.openPlayback({ device: sink, sampleRate, channels, bufferMs }));
    this.format = { sampleRate: info.sampleRate, channels: info.channels, sampleFormat: 'f32' };
    this.bufferMs = info.bufferMs;
  }

  async play(signal: Audio): Promise<PlayResult> {
    if (this.closed) throw new LoopcheckError('INVALID_ARGUMENT', 'play() on a closed render stream', { hint: 'open a new session' });
    const { sampleRate, channels } = this.format;
    if (signal.sampleRate !== sampleRate) {
      throw new LoopcheckError('FORMAT_UNSUPPORTED', `signal is ${signal.sampleRate} Hz but the render stream runs at ${sampleRate} Hz`, {
        hint: `resample the signal or open the session with sampleRate ${signal.sampleRate}`,
      });
    }
    let planar = signal.channels;
    if (planar.length === 1 && channels > 1) planar = Array.from({ length: channels }, () => signal.channels[0]!);
    if (planar.length !== channels) {
      throw new LoopcheckError('FORMAT_UNSUPPORTED', `signal has ${signal.channels.length} channels, the render stream ${channels}`, {
        hint: 'pass a mono signal (copied to every channel) or one with the stream channel count',
      });
    }
    const interleaved = frameCount(signal) === 0 ? new Float32Array(0) : interleave(planar);
    try {
      const r = await this.session.play(interleaved);
      return { writeTime: r.writeTimeMs, framesWritten: r.framesWritten, underruns: r.underruns };
    } catch (e) {
      throw toLoopcheckError(e);
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.session.closePlayback();
  }
}

export async function openPulseLoopback(options: OpenOptions): Promise<LoopbackSession> {
  if (options.exclusive) {
    throw new LoopcheckError('FORMAT_UNSUPPORTED', 'PulseAudio has no exclusive mode', { hint: 'drop --exclusive for --backend pulse' });
  }
  const b = binding();
  const session = openSession();
  try {
    const devices = callNative(() => session.listDevices());
    const sinks = devices.filter((d) => d.kind === 'render');
    const sink = options.device === undefined ? sinks.find((d) => d.isDefault) : sinks.find((d) => d.id === options.device);
    if (!sink) {
      throw new LoopcheckError(
        'DEVICE_NOT_FOUND',
        options.device === undefined ? 'PulseAudio has no default sink' : `no PulseAudio sink named "${options.device}"`,
        { hint: `render devices: ${sinks.map((d) => d.id).join(', ') || '(none)'}; scripts/ci/pulse.sh start creates "loop"` },
      );
    }
    const sampleRate = options.sampleRate ?? sink.sampleRate;
    const channels = options.channels ?? 2;
    const bufferMs = options.bufferMs ?? DEFAULT_BUFFER_MS;
    // Record first and wait for its first data, then open playback (pulseaudio.md).
    const capture = new PulseCaptureStream(session, sink.id, sampleRate, channels, bufferMs);
    try {
      await capture.waitForFirstData();
    } catch (e) {
      await capture.stop().catch(() => undefined);
      throw e;
    }
    const render = new PulseRenderStream(session, sink.id, sampleRate, channels, bufferMs);
    let closed = false;
    return {
      backend: 'pulse',
      simulated: false,
      device: { id: sink.id, name: sink.name },
      capture,
      render,
      now: () => nativeNowMs(b),
      wait: (ms: number) => new Promise((r) => setTimeout(r, Math.max(0, ms))),
      close: async () => {
        if (closed) return;
        closed = true;
        await render.close();
        await capture.stop();
        session.close();
      },
    };
  } catch (e) {
    session.close();
    throw toLoopcheckError(e);
  }
}

/**
 * Hot-plug on a dedicated PulseAudio connection (pa_context_subscribe SINK | SOURCE | SERVER). Throws
 * SERVICE_UNAVAILABLE when no server answers. Connection loss: onError(SERVICE_UNAVAILABLE, osCode 11),
 * after which the watch is already closed. Events carry `time` on the addon's monotonic clock (ms).
 */
export function watchPulseDevices(onEvent: (event: DeviceEvent) => void, onError?: (error: Error) => void): DeviceWatch {
  const b = binding();
  if (!b.PulseDeviceWatch) {
    throw new LoopcheckError('BACKEND_UNAVAILABLE', 'this loopcheck addon cannot watch PulseAudio devices', {
      hint: 'rebuild the addon (npm run build)',
    });
  }
  const Watch = b.PulseDeviceWatch;
  let closed = false;
  const watch = callNative(
    () =>
      new Watch({ timeoutMs: FIRST_DATA_TIMEOUT_MS }, (event: NativeDeviceEvent | null, error: unknown) => {
        if (closed) return;
        if (event) {
          onEvent({
            type: event.type,
            kind: event.kind,
            id: event.id,
            ...(event.name === undefined ? {} : { name: event.name }),
            time: event.timeMs,
            ...(event.missed === undefined ? {} : { missed: event.missed }),
          });
          return;
        }
        closed = true;
        watch.close(); // JS thread: joins libpulse's thread and lets the process exit
        onError?.(toLoopcheckError(error));
      }),
  );
  return {
    close: async () => {
      if (closed) return;
      closed = true;
      watch.close();
    },
  };
}

/** The `pulse` backend: Linux, a PulseAudio (or pipewire-pulse) server reachable via $PULSE_SERVER. */
export function createPulseBackend(): Backend {
  return {
    name: 'pulse',
    simulated: false,
    listDevices: listPulseDevices,
    openLoopback: openPulseLoopback,
    watchDevices: watchPulseDevices,
  };
}
