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
 *   for await (const bytes of cap.pcm({ sampleRate: 16000, channels: 1, format: 's16' })) { … }  // transcribers
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
import { downmix } from './cli/pcm.js';
import { Resampler } from './dsp/resample.js';
import { LoopcheckError } from './errors.js';
import { encodePcm } from './wav.js';

/** Options of openCapture() and openRender(). Every field is optional. */
export interface OpenStreamOptions {
  /**
   * `auto` (default): wasapi on Windows, pulse on Linux when a server answers, else the simulated `virtual`
   * device (then `simulated` is true and `log` says why). `virtual`, `pulse` or `wasapi` named explicitly never
   * fall back: they throw a LoopcheckError (BACKEND_UNAVAILABLE, SERVICE_UNAVAILABLE, …) instead.
   */
  backend?: string | undefined;
  /** Render device id (as listDevices() reports it; virtual: any name) whose loopback is captured. Default: the default render device. */
  device?: string | undefined;
  /** Requested rate, Hz. Default: the device's (virtual: 48000). Read `format.sampleRate` for what was granted. */
  sampleRate?: number | undefined;
  /** Requested channel count. Default: the device's (virtual: 2). Read `format.channels` for what was granted. */
  channels?: number | undefined;
  /** Requested device buffer, ms (default: pulse and wasapi 50, virtual 10). Read `bufferMs` for what was granted. */
  bufferMs?: number | undefined;
  /**
   * Virtual backend only: seeded impairments, `"latencyMs=40,dropouts=2"` or `{ latencyMs: 40, dropouts: 2 }`
   * (keys: latencyMs, jitterMs, dropouts, dropoutMs, zeroFills, clicks, noiseDb, gainDb, driftPpm, seed).
   */
  impair?: string | Record<string, number> | undefined;
  /** Virtual backend only: pace the simulated clock in real time. Default false (as fast as it is read). */
  realtime?: boolean | undefined;
  /** wasapi only (pulse: FORMAT_UNSUPPORTED): an exclusive-mode render stream. Loopback capture is always shared. */
  exclusive?: boolean | undefined;
  /** Receives one line per decision worth telling a user (e.g. that `auto` chose the simulated device). */
  log?: ((line: string) => void) | undefined;
}

/** Options of Capture.pcm(): raw PCM as a speech recognizer or an encoder wants it. */
export interface PcmOptions {
  /** Output rate, Hz. Default: the device's. Band-limited conversion, flat to 0.875 × the lower Nyquist. */
  sampleRate?: number | undefined;
  /** 1 = mono (the average of the device's channels), or the device's own count (default). */
  channels?: number | undefined;
  /** `f32` (default): float32; `s16`: signed 16-bit, rounded, clipped to [−32768, 32767]. Little-endian, interleaved. */
  format?: 's16' | 'f32' | undefined;
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
  /** What the device delivers (every chunk is converted to interleaved float32 at this rate and channel count). */
  readonly format: StreamFormat;
  /** Granted device buffer, ms. */
  readonly bufferMs: number;
  /** The render device whose loopback this is. */
  readonly device: { id: string; name: string };
  /** The backend in use (what `auto` chose). */
  readonly backend: BackendName;
  /** True on the virtual device: no real audio is captured. */
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

  /**
   * The capture as raw little-endian PCM byte chunks, converted on the fly (what `loopcheck record -` writes):
   * one Uint8Array per captured chunk (10–20 ms). Ends when the capture is stopped; consumes the capture's
   * chunks, so do not iterate the Capture itself as well.
   */
  pcm(options: PcmOptions = {}): AsyncIterable<Uint8Array> {
    const { sampleRate: deviceRate, channels: deviceChannels } = this.format;
    const rate = options.sampleRate ?? deviceRate;
    const channels = options.channels ?? deviceChannels;
    const format = options.format ?? 'f32';
    if (channels !== 1 && channels !== deviceChannels) {
      throw new LoopcheckError('INVALID_ARGUMENT', `pcm: channels ${channels}: the device has ${deviceChannels}`, {
        hint: `use channels 1 (mono mix) or ${deviceChannels}`,
      });
    }
    if (!(Number.isInteger(rate) && rate >= 1000 && rate <= 768000)) {
      throw new LoopcheckError('INVALID_ARGUMENT', `pcm: sampleRate must be an integer from 1000 to 768000 Hz, got ${rate}`, { hint: 'e.g. 16000' });
    }
    if (format !== 's16' && format !== 'f32') {
      throw new LoopcheckError('INVALID_ARGUMENT', `pcm: format must be s16 or f32, got ${String(format)}`, { hint: "use 's16' or 'f32'" });
    }
    // Mono first (less to resample), then the rate conversion; the resampler's tail is flushed at the end.
    const resampler = rate === deviceRate ? null : new Resampler(deviceRate, rate, channels);
    const source = this.stream;
    return (async function* () {
      for await (const chunk of source) {
        const samples = channels === 1 && chunk.channels !== 1 ? downmix(chunk.samples, chunk.channels) : chunk.samples;
        const out = resampler ? resampler.process(samples) : samples;
        if (out.length > 0) yield encodePcm(out, format).bytes;
      }
      const tail = resampler?.flush();
      if (tail && tail.length > 0) yield encodePcm(tail, format).bytes;
    })();
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

/** A render stream from openRender(). */
export interface Render {
  /** The stream's rate and channel count: play() signals at this rate. */
  readonly format: StreamFormat;
  /** Granted device buffer (render queue), ms. */
  readonly bufferMs: number;
  /** The render device. */
  readonly device: { id: string; name: string };
  /** The backend in use (what `auto` chose). */
  readonly backend: BackendName;
  /** True on the virtual device: nothing is audible. */
  readonly simulated: boolean;
  /** Plays the signal; resolves when its last frame was handed to the device. */
  play(signal: Audio): Promise<PlayResult>;
  /** Closes the stream (and the backend session it holds). */
  close(): Promise<void>;
}

/**
 * Opens the loopback of a render device: what the device plays, as CaptureChunk (interleaved float32 plus
 * frame position and timing). Iterate it, or use readable() / pcm(); stop() ends it.
 */
export async function openCapture(options: OpenStreamOptions = {}): Promise<Capture> {
  return new Capture(await openSession(options));
}

/** Opens a render stream to play signals (Audio: planar float32) on a device. */
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

/** Options of listDevices(). */
export interface ListDevicesOptions {
  /** As OpenStreamOptions.backend (default auto). */
  backend?: string | undefined;
  /** As OpenStreamOptions.log. */
  log?: ((line: string) => void) | undefined;
}

/** Render devices and their loopback (monitor) sources on a backend (default auto). */
export async function listDevices(options: ListDevicesOptions = {}): Promise<DeviceInfo[]> {
  const backend = await getBackend(options.backend ?? 'auto', { log: options.log });
  return backend.listDevices();
}
