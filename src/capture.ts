/**
 * Public capture / render API, the same for every backend:
 *
 *   const cap = await openCapture({ backend: 'virtual' });
 *   for await (const chunk of cap) { … }          // or cap.readable().pipe(…)
 *   await cap.stop();
 *
 *   const out = await openRender({ backend: 'virtual' });
 *   await out.play(signal); await out.close();
 *
 *   const devices = await listDevices({ backend: 'auto' });
 *
 * Chunks are CaptureChunk (interleaved float32, framePosition, deviceTime / receivedAt in ms on the backend
 * clock). On the virtual backend a capture with nothing playing yields the device's noise floor (zeros when
 * no noise impairment is set).
 */
import { Readable } from 'node:stream';
import type { Audio } from './audio.js';
import { getBackend } from './backends/index.js';
import { parseImpairments } from './backends/impairments.js';
import type { BackendName, CaptureChunk, CaptureStream, DeviceInfo, LoopbackSession, OpenOptions, PlayResult, StreamFormat } from './backends/types.js';

export interface OpenStreamOptions {
  /** auto | virtual | pulse | wasapi (default auto). */
  backend?: string | undefined;
  /** Render device id or name (virtual: any name). */
  device?: string | undefined;
  sampleRate?: number | undefined;
  channels?: number | undefined;
  bufferMs?: number | undefined;
  /** Virtual backend impairments: `"latencyMs=40,dropouts=2"` or { latencyMs: 40, dropouts: 2 }. */
  impair?: string | Record<string, number> | undefined;
  /** Simulated devices only: run in real time. */
  realtime?: boolean | undefined;
  exclusive?: boolean | undefined;
  log?: ((line: string) => void) | undefined;
}

async function openSession(options: OpenStreamOptions): Promise<LoopbackSession> {
  const backend = await getBackend(options.backend ?? 'auto', { log: options.log });
  const open: OpenOptions = {
    device: options.device,
    sampleRate: options.sampleRate,
    channels: options.channels,
    bufferMs: options.bufferMs,
    exclusive: options.exclusive,
    realtime: options.realtime,
    impair: typeof options.impair === 'string' ? parseImpairments(options.impair) : options.impair,
  };
  return backend.openLoopback(open);
}

export class Capture implements AsyncIterable<CaptureChunk> {
  readonly format: StreamFormat;
  readonly bufferMs: number;
  readonly device: { id: string; name: string };
  readonly backend: BackendName;
  readonly simulated: boolean;
  private readonly stream: CaptureStream;

  constructor(private readonly session: LoopbackSession) {
    this.stream = session.capture;
    this.format = this.stream.format;
    this.bufferMs = this.stream.bufferMs;
    this.device = session.device;
    this.backend = session.backend;
    this.simulated = session.simulated;
  }

  [Symbol.asyncIterator](): AsyncIterator<CaptureChunk> {
    return this.stream[Symbol.asyncIterator]();
  }

  /**
   * The chunks as an object-mode Readable. It pulls the next chunk only when its buffer is below
   * `highWaterMark` chunks (backpressure), and ends after stop() once pending chunks are delivered.
   */
  readable(options: { highWaterMark?: number } = {}): Readable {
    return Readable.from(this, { objectMode: true, highWaterMark: options.highWaterMark ?? 16 });
  }

  /** Backend clock, ms (the clock of deviceTime / receivedAt). */
  now(): number {
    return this.session.now();
  }

  /** Stops capturing; chunks already captured are still delivered, then iteration ends. */
  async stop(): Promise<void> {
    await this.session.capture.stop();
    await this.session.close();
  }
}

export interface Render {
  readonly format: StreamFormat;
  readonly bufferMs: number;
  readonly device: { id: string; name: string };
  readonly backend: BackendName;
  readonly simulated: boolean;
  /** Plays the signal; resolves when its last frame was handed to the device. */
  play(signal: Audio): Promise<PlayResult>;
  close(): Promise<void>;
}

export async function openCapture(options: OpenStreamOptions = {}): Promise<Capture> {
  return new Capture(await openSession(options));
}

export async function openRender(options: OpenStreamOptions = {}): Promise<Render> {
  const session = await openSession(options);
  // Nothing reads this session's loopback; stop it so a native backend does not buffer it.
  await session.capture.stop();
  return {
    format: session.render.format,
    bufferMs: session.render.bufferMs,
    device: session.device,
    backend: session.backend,
    simulated: session.simulated,
    play: (signal) => session.render.play(signal),
    close: () => session.close(),
  };
}

/** Render devices and their loopback (monitor) sources on a backend (default auto). */
export async function listDevices(options: { backend?: string | undefined; log?: ((line: string) => void) | undefined } = {}): Promise<DeviceInfo[]> {
  const backend = await getBackend(options.backend ?? 'auto', { log: options.log });
  return backend.listDevices();
}
