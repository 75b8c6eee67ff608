/**
 * The `wasapi` backend (Windows; verified under Wine 10): render + loopback capture through the native addon's
 * WasapiSession (native/win). The capture client runs in shared mode with AUDCLNT_STREAMFLAGS_LOOPBACK on a
 * render endpoint; while it runs the addon keeps a render stream on the same endpoint (silence unless playing),
 * because Windows delivers no loopback packets when nothing renders.
 *
 * Clock: every time here is ms on the addon's monotonic clock (`nativeNowMs()`); the addon maps the packets'
 * QPC positions onto it (deviceTime = now − (QPC now − QPC position of the packet's first frame)).
 * Mirrors src/backends/pulse.ts; the lead wires createWasapiBackend() into the registry.
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
  type NativeChunkCallback,
  type NativePlayResult,
} from '../native.js';
import type { Backend, CaptureChunk, CaptureStream, DeviceInfo, LoopbackSession, OpenOptions, PlayResult, RenderStream, StreamFormat } from './types.js';

/** First loopback packet: 12–30 ms after Start under Wine with a live render stream; allow 3 s like pulse. */
export const FIRST_DATA_TIMEOUT_MS = 3000;
/** 100 ms: shorter render queues underrun under CPU load and split a burst (wine-wasapi.md pitfall 4). */
const DEFAULT_BUFFER_MS = 100;
const MAX_PENDING_CHUNKS = 6000;

/** IMMDevice::GetState values. */
export const WASAPI_DEVICE_STATE = { active: 1, disabled: 2, notPresent: 4, unplugged: 8 } as const;

/** An endpoint as native/win/wasapi_binding.cc lists it. */
export interface NativeWasapiDevice {
  id: string;
  name: string;
  kind: 'render' | 'capture';
  isDefault: boolean;
  /** DEVICE_STATE_* (WASAPI_DEVICE_STATE). */
  state: number;
  /** Mix format (0 for endpoints that are not active). */
  sampleRate: number;
  channels: number;
  related: string;
}

/** What a WASAPI stream was granted. */
export interface NativeWasapiStreamInfo {
  device: string;
  name: string;
  sampleRate: number;
  channels: number;
  /** Capture: IAudioClient buffer; render: the queue target. */
  bufferMs: number;
  periodMs: number;
  /** false: the polling fallback (asked for, or EVENTCALLBACK refused). */
  eventDriven: boolean;
  /** AUTOCONVERTPCM was needed: the format differs from the mix format (not bit-exact). */
  converted: boolean;
}

/** Packet counters (native/win/packet.h PacketStats) and render counters. */
export interface NativeWasapiStats {
  packets: number;
  capturedFrames: number;
  discontinuities: number;
  silentPackets: number;
  timestampErrors: number;
  gaps: number;
  gapFrames: number;
  overlaps: number;
  droppedFrames: number;
  renderFrames: number;
  renderEmptyPolls: number;
  wakeups: number;
}

export interface NativeWasapiStreamOptions {
  device?: string;
  sampleRate: number;
  channels: number;
  bufferMs: number;
  polling?: boolean;
}

/** native/win/wasapi_binding.cc: one device thread (COM MTA), at most one loopback capture and one render stream. */
export interface NativeWasapiSession {
  listDevices(): NativeWasapiDevice[];
  /** "WASAPI", plus " (Wine 10.0)" under Wine. */
  libraryVersion(): string;
  openCapture(options: NativeWasapiStreamOptions, onChunk: NativeChunkCallback): NativeWasapiStreamInfo;
  stopCapture(): void;
  openPlayback(options: NativeWasapiStreamOptions): NativeWasapiStreamInfo;
  play(interleaved: Float32Array): Promise<NativePlayResult>;
  closePlayback(): void;
  stats(): NativeWasapiStats;
  close(): void;
}

type WasapiBinding = NativeBinding & { WasapiSession?: new (options?: { timeoutMs?: number }) => NativeWasapiSession };

function binding(): WasapiBinding {
  const b = native() as WasapiBinding;
  if (!b.WasapiSession) {
    const info = b.backendInfo();
    throw new LoopcheckError('BACKEND_UNAVAILABLE', `this loopcheck addon has no WASAPI backend (native backend: ${info.name})`, {
      hint: 'the wasapi backend exists on Windows only (npm run build:win cross-builds it); use --backend virtual',
    });
  }
  return b;
}

function openSession(): NativeWasapiSession {
  const Session = binding().WasapiSession!;
  return callNative(() => new Session({ timeoutMs: FIRST_DATA_TIMEOUT_MS }));
}

/** Active endpoints only (disabled / unplugged ones cannot be opened). */
export async function listWasapiDevices(): Promise<DeviceInfo[]> {
  const session = openSession();
  try {
    return callNative(() => session.listDevices())
      .filter((d) => d.state === WASAPI_DEVICE_STATE.active)
      .map((d) => ({ id: d.id, name: d.name, kind: d.kind, isDefault: d.isDefault, sampleRate: d.sampleRate, channels: d.channels }));
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
  };
}

/** Loopback capture over the native pump: a bounded queue of chunks consumed by one async iterator. */
class WasapiCaptureStream implements CaptureStream {
  readonly format: StreamFormat;
  readonly bufferMs: number;
  readonly info: NativeWasapiStreamInfo;
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
    private readonly session: NativeWasapiSession,
    options: NativeWasapiStreamOptions,
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

  async waitForFirstData(timeoutMs = FIRST_DATA_TIMEOUT_MS): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () =>
          reject(
            new LoopcheckError('TIMEOUT', `no loopback packets from "${this.info.name}" within ${timeoutMs} ms`, {
              hint: 'check that the endpoint is active (loopcheck devices); under Wine, that PulseAudio is reachable',
            }),
          ),
        timeoutMs,
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

class WasapiRenderStream implements RenderStream {
  readonly format: StreamFormat;
  readonly bufferMs: number;
  private closed = false;

  constructor(
    private readonly session: NativeWasapiSession,
    options: NativeWasapiStreamOptions,
  ) {
    const info = callNative(() => session.openPlayback(options));
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

export async function openWasapiLoopback(options: OpenOptions): Promise<LoopbackSession> {
  if (options.exclusive) {
    throw new LoopcheckError('FORMAT_UNSUPPORTED', 'loopback capture is shared mode only', { hint: 'drop --exclusive for --backend wasapi' });
  }
  const b = binding();
  const session = openSession();
  try {
    const renders = callNative(() => session.listDevices()).filter((d) => d.kind === 'render' && d.state === WASAPI_DEVICE_STATE.active);
    const endpoint = options.device === undefined ? renders.find((d) => d.isDefault) : renders.find((d) => d.id === options.device || d.name === options.device);
    if (!endpoint) {
      throw new LoopcheckError(
        'DEVICE_NOT_FOUND',
        options.device === undefined ? 'there is no active default render endpoint' : `no active render endpoint "${options.device}"`,
        { hint: `render endpoints: ${renders.map((d) => `${d.name} (${d.id})`).join(', ') || '(none)'}` },
      );
    }
    const format: NativeWasapiStreamOptions = {
      device: endpoint.id,
      sampleRate: options.sampleRate ?? (endpoint.sampleRate || 48000),
      channels: options.channels ?? 2,
      bufferMs: options.bufferMs ?? DEFAULT_BUFFER_MS,
    };
    // Capture first and wait for its first packet, then open the render stream (wine-wasapi.md pitfall 3).
    const capture = new WasapiCaptureStream(session, { ...format, bufferMs: Math.min(format.bufferMs, 20) });
    try {
      await capture.waitForFirstData();
    } catch (e) {
      await capture.stop().catch(() => undefined);
      throw e;
    }
    const render = new WasapiRenderStream(session, format);
    let closed = false;
    return {
      backend: 'wasapi',
      simulated: false,
      device: { id: endpoint.id, name: endpoint.name },
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

/** The `wasapi` backend: Windows (or Wine ≥ 9.12), shared-mode loopback on a render endpoint. No hot-plug yet. */
export function createWasapiBackend(): Backend {
  return { name: 'wasapi', simulated: false, listDevices: listWasapiDevices, openLoopback: openWasapiLoopback };
}
