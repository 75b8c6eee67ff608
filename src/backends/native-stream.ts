/**
 * Capture and render streams over a native session (PulseSession on Linux, WasapiSession on Windows): the part
 * of a native backend that is the same whatever the OS. A backend finds its device and stream options; this file
 * turns the addon's chunks into `CaptureChunk`s, plays `Audio`, and assembles the `LoopbackSession`.
 *
 * Clock: every time here is ms on the addon's monotonic clock (`nativeNowMs()`).
 */
import type { Audio } from '../audio.js';
import { frameCount, interleave } from '../audio.js';
import { LoopcheckError } from '../errors.js';
import {
  NATIVE_CHUNK_FLAG,
  callNative,
  nativeNowMs,
  toLoopcheckError,
  type NativeBinding,
  type NativeChunk,
  type NativeChunkCallback,
  type NativeDeviceEventCallback,
  type NativePlayResult,
} from '../native.js';
import type {
  BackendName,
  CaptureChunk,
  CaptureStream,
  DeviceEvent,
  DeviceWatch,
  LoopbackSession,
  PlayResult,
  RenderStream,
  StreamFormat,
} from './types.js';

/** What the streams need from a native session, whatever its backend. */
export interface NativeStreamSession<Options, Info extends NativeStreamInfoBase> {
  openCapture(options: Options, onChunk: NativeChunkCallback): Info;
  stopCapture(): void;
  openPlayback(options: Options): Info;
  play(interleaved: Float32Array): Promise<NativePlayResult>;
  closePlayback(): void;
  close(): void;
  /** The audio library behind the backend, e.g. "libpulse 16.1.0" or "WASAPI (Wine 10.0)". */
  libraryVersion?(): string;
}

export interface NativeStreamInfoBase {
  sampleRate: number;
  channels: number;
  bufferMs: number;
}

/** How a backend words a capture that never delivers. */
export interface FirstDataPolicy {
  timeoutMs: number;
  message: (timeoutMs: number) => string;
  hint: string;
}

/** JS-side bound on undelivered chunks (~60 s at 10 ms per chunk); beyond it chunks are dropped and counted. */
const MAX_PENDING_CHUNKS = 6000;

export function toChunk(c: NativeChunk, extraOverruns: number): CaptureChunk {
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
export class NativeCaptureStream<Options, Info extends NativeStreamInfoBase> implements CaptureStream {
  readonly format: StreamFormat;
  readonly bufferMs: number;
  readonly info: Info;
  private readonly pending: CaptureChunk[] = [];
  private waiter: (() => void) | undefined;
  private ended = false;
  private error: LoopcheckError | undefined;
  private droppedFrames = 0;
  private readonly firstData: Promise<void>;
  private resolveFirst!: () => void;
  private readonly endPromise: Promise<void>;
  private resolveEnd!: () => void;
  private stopped = false;

  constructor(
    private readonly session: NativeStreamSession<Options, Info>,
    options: Options,
    private readonly firstDataPolicy: FirstDataPolicy,
  ) {
    this.firstData = new Promise((r) => (this.resolveFirst = r));
    this.endPromise = new Promise((r) => (this.resolveEnd = r));
    this.info = callNative(() => session.openCapture(options, (chunk, err) => this.onNative(chunk, err)));
    this.format = { sampleRate: this.info.sampleRate, channels: this.info.channels, sampleFormat: 'f32' };
    this.bufferMs = this.info.bufferMs;
  }

  private onNative(chunk: NativeChunk | null, err: unknown): void {
    if (chunk) {
      if (this.pending.length >= MAX_PENDING_CHUNKS) {
        this.droppedFrames += chunk.frames; // nobody reads: drop, count, flag the next chunk
      } else {
        this.pending.push(toChunk(chunk, this.droppedFrames));
        this.droppedFrames = 0;
      }
    } else if (err) {
      this.error = toLoopcheckError(err);
    } else {
      this.ended = true;
      this.resolveEnd();
    }
    this.resolveFirst();
    const w = this.waiter;
    this.waiter = undefined;
    w?.();
  }

  /** Resolves on the first chunk; TIMEOUT after the backend's first-data timeout. */
  async waitForFirstData(): Promise<void> {
    const { timeoutMs, message, hint } = this.firstDataPolicy;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new LoopcheckError('TIMEOUT', message(timeoutMs), { hint })), timeoutMs);
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

export class NativeRenderStream<Options, Info extends NativeStreamInfoBase> implements RenderStream {
  readonly format: StreamFormat;
  readonly bufferMs: number;
  readonly info: Info;
  private closed = false;

  constructor(
    private readonly session: NativeStreamSession<Options, Info>,
    options: Options,
  ) {
    this.info = callNative(() => session.openPlayback(options));
    this.format = { sampleRate: this.info.sampleRate, channels: this.info.channels, sampleFormat: 'f32' };
    this.bufferMs = this.info.bufferMs;
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
      return { writeTime: r.writeTimeMs, framesWritten: r.framesWritten, underruns: r.underruns, writeMarks: r.writeMarks };
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

/**
 * A render stream opened on its first play(): for sessions whose capture does not listen to the render device
 * (a microphone, one process's audio), so that recording alone never touches the speakers. Until then its format
 * is the one asked for.
 */
export class LazyNativeRenderStream<Options, Info extends NativeStreamInfoBase> implements RenderStream {
  private stream: NativeRenderStream<Options, Info> | undefined;
  private closed = false;

  constructor(
    private readonly session: NativeStreamSession<Options, Info>,
    private readonly options: Options,
    private readonly asked: StreamFormat & { bufferMs: number },
  ) {}

  get format(): StreamFormat {
    return this.stream?.format ?? { sampleRate: this.asked.sampleRate, channels: this.asked.channels, sampleFormat: this.asked.sampleFormat };
  }

  get bufferMs(): number {
    return this.stream?.bufferMs ?? this.asked.bufferMs;
  }

  async play(signal: Audio): Promise<PlayResult> {
    if (this.closed) throw new LoopcheckError('INVALID_ARGUMENT', 'play() on a closed render stream', { hint: 'open a new session' });
    this.stream ??= new NativeRenderStream(this.session, this.options);
    return this.stream.play(signal);
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.stream?.close();
  }
}

/**
 * Opens capture first and waits for its first data, then the render stream (both the PulseAudio and the Wine
 * recipes: an idle device is slow to deliver its first data), and returns the session. On failure the caller
 * still owns (and closes) the native session. `lazyRender`: the render stream opens on its first play().
 */
export async function openNativeLoopback<Options, Info extends NativeStreamInfoBase>(args: {
  backend: BackendName;
  binding: NativeBinding;
  session: NativeStreamSession<Options, Info>;
  device: { id: string; name: string };
  captureOptions: Options;
  renderOptions: Options;
  firstData: FirstDataPolicy;
  lazyRender?: boolean;
}): Promise<LoopbackSession> {
  const { session } = args;
  const capture = new NativeCaptureStream(session, args.captureOptions, args.firstData);
  try {
    await capture.waitForFirstData();
  } catch (e) {
    await capture.stop().catch(() => undefined);
    throw e;
  }
  const render: RenderStream = args.lazyRender
    ? new LazyNativeRenderStream(session, args.renderOptions, { ...capture.format, bufferMs: capture.bufferMs })
    : new NativeRenderStream(session, args.renderOptions);
  let closed = false;
  let library: string | undefined;
  try {
    library = session.libraryVersion?.();
  } catch {
    library = undefined; // a report without it beats no session
  }
  return {
    backend: args.backend,
    simulated: false,
    ...(library ? { library } : {}),
    device: args.device,
    capture,
    render,
    now: () => nativeNowMs(args.binding),
    wait: (ms: number) => new Promise((r) => setTimeout(r, Math.max(0, ms))),
    close: async () => {
      if (closed) return;
      closed = true;
      await render.close();
      await capture.stop();
      session.close();
    },
  };
}

/**
 * A native device watch (PulseDeviceWatch, WasapiDeviceWatch) as a `DeviceWatch`: its events become DeviceEvents
 * (`time` on the addon's monotonic clock, ms) until close(). `onLost`, for a watch that can lose its connection:
 * an `(null, error)` call first closes the native watch (JS thread: joins its thread, so the process may exit),
 * then hands it the error; without `onLost` such calls are ignored.
 */
export function watchNativeDevices(
  open: (onNative: NativeDeviceEventCallback) => { close(): void },
  onEvent: (event: DeviceEvent) => void,
  onLost?: (error: unknown) => void,
): DeviceWatch {
  let closed = false;
  const watch = callNative(() =>
    open((event, error) => {
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
      if (!onLost) return;
      closed = true;
      watch.close();
      onLost(error);
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
