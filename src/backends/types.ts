/**
 * The device-independent contract every backend (virtual, pulse, wasapi) implements.
 * The public API (src/capture.ts) and the harness know only these types.
 *
 * Clocks (design.md "Timing model"): every time here is in MILLISECONDS (float) on the backend's
 * monotonic clock, which `now()` reads. For native backends that is the device clock mapped onto the
 * process's monotonic clock; for `virtual` it is the simulated clock.
 */
import type { Audio } from '../audio.js';

export type BackendName = 'virtual' | 'pulse' | 'wasapi';

export interface DeviceInfo {
  id: string;
  name: string;
  kind: 'render' | 'capture' | 'monitor';
  isDefault: boolean;
  sampleRate?: number;
  channels?: number;
}

export interface ChunkFlags {
  /** The stream lost continuity before this chunk (WASAPI DATA_DISCONTINUITY, pulse hole, ring overrun). */
  discontinuity: boolean;
  /** The device marked the data silent; samples were zeroed. */
  silent: boolean;
  /** The device could not time this chunk; deviceTime is an estimate. */
  timestampError: boolean;
}

export interface CaptureChunk {
  /** Interleaved float32, frames × channels. A fresh array per chunk (the consumer owns it). */
  samples: Float32Array;
  frames: number;
  channels: number;
  sampleRate: number;
  /** Frame index of samples[0] on the stream's own timeline (device position; jumps on lost frames). */
  framePosition: number;
  /** When the first frame of the chunk was captured by the device, ms on the backend clock. */
  deviceTime: number;
  /** When the chunk reached JS, ms on the backend clock. */
  receivedAt: number;
  flags: ChunkFlags;
  /** Chunks or frames dropped by loopcheck's own queues since the previous chunk (never hidden). */
  overruns: number;
  /**
   * The device API's own capture latency for this chunk, ms, when it reports one (pulse: pa_stream_get_latency
   * on the record stream at the read of the block holding the first frame; may be negative). Then
   * captureBufferMs − serverLatencyMs is loopcheck's own delivery overhead.
   */
  serverLatencyMs?: number;
}

export interface StreamFormat {
  sampleRate: number;
  channels: number;
  /** What the device delivers before conversion to float32, e.g. "f32", "s16". */
  sampleFormat: string;
}

export interface OpenOptions {
  device?: string | undefined;
  sampleRate?: number | undefined;
  channels?: number | undefined;
  /** Requested device buffer, ms. Backends report what they were granted. */
  bufferMs?: number | undefined;
  exclusive?: boolean | undefined;
  /**
   * The render stream's device period, ms, where the backend lets you choose it (WASAPI: IAudioClient3
   * InitializeSharedAudioStream; Windows accepts only the engine's [min, max], Wine any period ≥ min).
   */
  renderPeriodMs?: number | undefined;
  /** Backend-specific settings, e.g. the virtual backend's impairments. */
  impair?: Record<string, number> | undefined;
  /** Run a simulated device in real time instead of as fast as possible. */
  realtime?: boolean | undefined;
}

export interface CaptureStream extends AsyncIterable<CaptureChunk> {
  readonly format: StreamFormat;
  /** Granted buffer, ms. */
  readonly bufferMs: number;
  /** Stops the stream; pending chunks are still delivered, then iteration ends. */
  stop(): Promise<void>;
}

export interface PlayResult {
  /** When frame 0 of the signal was handed to the render API, ms on the backend clock. */
  writeTime: number;
  framesWritten: number;
  /** Render underruns counted while the signal still had data. */
  underruns: number;
  /**
   * One [frame, timeMs] pair per render write (frame = the signal frame that started the block, time on the
   * backend clock right after the write returned), in frame order: per-frame write→delivery latency
   * (src/harness/latency.ts). Absent where the backend writes just in time (virtual).
   */
  writeMarks?: Float64Array;
}

export interface RenderStream {
  readonly format: StreamFormat;
  readonly bufferMs: number;
  /** Plays the signal (resolves when its last frame has been handed to the device). */
  play(signal: Audio): Promise<PlayResult>;
  close(): Promise<void>;
}

/** A render device and its loopback, opened together: what the harness measures. */
export interface LoopbackSession {
  readonly backend: BackendName;
  readonly simulated: boolean;
  /** The audio library behind a native backend (libpulse version, "WASAPI (Wine 10.0)"), for reports. */
  readonly library?: string;
  readonly device: { id: string; name: string };
  readonly capture: CaptureStream;
  readonly render: RenderStream;
  /** Backend clock, ms. */
  now(): number;
  /** Lets simulated time pass (virtual) or sleeps (real backends). */
  wait(ms: number): Promise<void>;
  close(): Promise<void>;
}

/** A hot-plug event. `id` is the device id listDevices() reports. */
export interface DeviceEvent {
  type: 'added' | 'removed' | 'changed' | 'default-changed';
  kind: DeviceInfo['kind'];
  id: string;
  name?: string | undefined;
  /** When the backend received the event, ms on the backend clock. */
  time?: number | undefined;
  /** Events the backend dropped just before this one (its queue was full). */
  missed?: number | undefined;
}

export interface DeviceWatch {
  /** Stops watching; no event is delivered after it resolves. Idempotent. */
  close(): Promise<void>;
}

export interface Backend {
  readonly name: BackendName;
  readonly simulated: boolean;
  listDevices(): Promise<DeviceInfo[]>;
  /** Opens render + loopback capture on one render device (default device when options.device is unset). */
  openLoopback(options: OpenOptions): Promise<LoopbackSession>;
  /**
   * Hot-plug: reports devices added / removed / changed and default-device changes until close(). Active
   * when it returns; keeps the process alive while open. `onError` (a LoopcheckError) fires once if the
   * watch dies (e.g. the audio server went away); the watch is closed by then. Undefined: not supported.
   */
  watchDevices?(onEvent: (event: DeviceEvent) => void, onError?: (error: Error) => void): DeviceWatch;
}

/** One chunk's place in a recording and its times (ms, backend clock). */
export interface Delivery {
  /** Recording frame index just after the chunk's last frame. */
  endFrame: number;
  receivedAt: number;
  /** Device time of the chunk's first frame, when known: a frame is never delivered before it was captured. */
  deviceTime?: number;
}

/** A recording assembled from chunks: the capture as one Audio plus what happened while it ran. */
export interface Recording {
  audio: Audio;
  /** Frames missing from the stream timeline (framePosition jumps), each at its position in `audio`. */
  positionGaps: { atFrame: number; frames: number }[];
  overruns: number;
  discontinuities: number;
  /** Per chunk: receivedAt − deviceTime, ms. */
  captureBufferMs: number[];
  /** Per chunk, when the backend reports it: the server's own record latency, ms (PulseAudio). */
  serverLatencyMs?: number[];
  /** Per chunk: frame index in `audio` of the chunk's end and its receivedAt, ms (the delivery clock). */
  deliveries: Delivery[];
}
