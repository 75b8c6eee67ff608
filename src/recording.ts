/**
 * Assembles capture chunks into one Recording and fits the delivery clock.
 *
 * Frame conventions: frame 0 of `Recording.audio` is the first frame of the first chunk pushed. A forward
 * jump of the stream's `framePosition` (expected = previous position + previous frames) is reported as a
 * position gap AT the current audio frame; no zeros are inserted, so the audio stays exactly what the device
 * delivered and analysis finds the lost audio in the signal.
 */
import type { Audio } from './audio.js';
import type { CaptureChunk, Delivery, Recording } from './backends/types.js';
import { LoopcheckError } from './errors.js';

export class RecordingBuilder {
  readonly channels: number;
  readonly sampleRate: number;
  private buffers: Float32Array[];
  private length = 0;
  private expectedPosition: number | null = null;
  private readonly positionGaps: Recording['positionGaps'] = [];
  private overruns = 0;
  private discontinuities = 0;
  private readonly captureBufferMs: number[] = [];
  private readonly serverLatencyMs: number[] = [];
  private readonly deliveries: Recording['deliveries'] = [];

  constructor(channels: number, sampleRate: number) {
    if (!Number.isInteger(channels) || channels < 1) {
      throw new LoopcheckError('INVALID_ARGUMENT', `a recording needs an integer channel count ≥ 1, got ${channels}`);
    }
    if (!(sampleRate > 0) || !Number.isFinite(sampleRate)) {
      throw new LoopcheckError('INVALID_ARGUMENT', `a recording needs a positive sample rate, got ${sampleRate}`);
    }
    this.channels = channels;
    this.sampleRate = sampleRate;
    this.buffers = Array.from({ length: channels }, () => new Float32Array(4096));
  }

  /** Frames appended so far. */
  get frames(): number {
    return this.length;
  }

  push(chunk: CaptureChunk): void {
    if (chunk.channels !== this.channels || chunk.sampleRate !== this.sampleRate) {
      throw new LoopcheckError(
        'FORMAT_UNSUPPORTED',
        `chunk format ${chunk.channels} ch @ ${chunk.sampleRate} Hz differs from the recording's ${this.channels} ch @ ${this.sampleRate} Hz`,
        { hint: 'push chunks of one stream only' },
      );
    }
    if (chunk.samples.length < chunk.frames * chunk.channels) {
      throw new LoopcheckError('INVALID_ARGUMENT', `chunk says ${chunk.frames} frames but holds ${chunk.samples.length} samples`);
    }
    if (this.expectedPosition !== null) {
      const jump = chunk.framePosition - this.expectedPosition;
      if (jump > 0) this.positionGaps.push({ atFrame: this.length, frames: jump });
      else if (jump < 0) this.discontinuities++; // the stream went backwards: continuity lost, nothing to add
    }
    this.expectedPosition = chunk.framePosition + chunk.frames;
    if (chunk.flags.discontinuity) this.discontinuities++;
    this.overruns += chunk.overruns;

    this.reserve(this.length + chunk.frames);
    const n = this.channels;
    for (let c = 0; c < n; c++) {
      const dst = this.buffers[c]!;
      const src = chunk.samples;
      for (let i = 0, j = c, o = this.length; i < chunk.frames; i++, j += n, o++) dst[o] = src[j]!;
    }
    this.length += chunk.frames;
    this.captureBufferMs.push(chunk.receivedAt - chunk.deviceTime);
    if (chunk.serverLatencyMs !== undefined && Number.isFinite(chunk.serverLatencyMs)) this.serverLatencyMs.push(chunk.serverLatencyMs);
    this.deliveries.push({ endFrame: this.length, receivedAt: chunk.receivedAt, deviceTime: chunk.deviceTime });
  }

  /** Amortised doubling: total copying stays O(total frames). */
  private reserve(frames: number): void {
    const capacity = this.buffers[0]!.length;
    if (frames <= capacity) return;
    let next = capacity;
    while (next < frames) next *= 2;
    this.buffers = this.buffers.map((b) => {
      const grown = new Float32Array(next);
      grown.set(b.subarray(0, this.length));
      return grown;
    });
  }

  /** The recording so far (copies; the builder can keep growing). */
  build(): Recording {
    const audio: Audio = { sampleRate: this.sampleRate, channels: this.buffers.map((b) => b.slice(0, this.length)) };
    return {
      audio,
      positionGaps: this.positionGaps.map((g) => ({ ...g })),
      overruns: this.overruns,
      discontinuities: this.discontinuities,
      captureBufferMs: this.captureBufferMs.slice(),
      serverLatencyMs: this.serverLatencyMs.slice(),
      deliveries: this.deliveries.map((d) => ({ ...d })),
    };
  }
}

/**
 * When `frame` (a recording frame index, fractional allowed) was delivered to JS, ms on the backend clock:
 * the receivedAt of the chunk that holds it, minus the time the chunk then spent filling behind it
 * ((endFrame − frame) / sampleRate), but never earlier than the device says the frame was captured
 * (deviceTime of the chunk's first frame + its offset in the chunk). Write→delivery latency of a stimulus is
 * `frameDeliveryTime(deliveries, alignedFrame, rate) − writeTime` (design.md "Timing model").
 *
 * Why not the raw chunk time: a frame that starts a chunk would be charged a whole chunk period (loopcheck's
 * own batching), so the figure would jump by up to a period with the stimulus's phase against the chunking.
 * Why the capture-time floor: a server that renders a block at once (the PulseAudio null sink) delivers the
 * rest of the chunk instantly, so subtracting it in real time read up to one block too early (−6 ms seen).
 * On the virtual device both terms equal the configured latency exactly. Returns null when no delivery holds
 * the frame. Design notes: docs/decisions.md.
 */
export function frameDeliveryTime(deliveries: readonly Delivery[], frame: number, sampleRate: number): number | null {
  // deliveries are in capture order; binary search for the first chunk ending after `frame`.
  let lo = 0;
  let hi = deliveries.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (deliveries[mid]!.endFrame > frame) hi = mid;
    else lo = mid + 1;
  }
  const d = deliveries[lo];
  if (!d || frame < 0) return null;
  const msPerFrame = 1000 / sampleRate;
  const filled = d.receivedAt - (d.endFrame - frame) * msPerFrame;
  if (d.deviceTime === undefined) return filled;
  const start = lo > 0 ? deliveries[lo - 1]!.endFrame : 0;
  const captured = d.deviceTime + (frame - start) * msPerFrame;
  return Math.max(filled, captured);
}
