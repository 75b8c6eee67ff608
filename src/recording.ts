/**
 * Assembles capture chunks into one Recording and fits the delivery clock.
 *
 * Frame conventions: frame 0 of `Recording.audio` is the first frame of the first chunk pushed. A forward
 * jump of the stream's `framePosition` (expected = previous position + previous frames) is reported as a
 * position gap AT the current audio frame; no zeros are inserted, so the audio stays exactly what the device
 * delivered and analysis finds the lost audio in the signal.
 */
import type { Audio } from './audio.js';
import type { CaptureChunk, Recording } from './backends/types.js';
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
    this.deliveries.push({ endFrame: this.length, receivedAt: chunk.receivedAt });
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
      deliveries: this.deliveries.map((d) => ({ ...d })),
    };
  }
}

export interface DeliveryClock {
  /** Delivery time (ms, backend clock) of the recording frame `frame` (fractional allowed). */
  atFrame(frame: number): number;
  /** Fitted ms per frame (1000 / effective delivery rate). */
  readonly msPerFrame: number;
}

/**
 * Least-squares line receivedAt ≈ a + b·endFrame through the chunk deliveries: the time at which the
 * stream delivers a given frame to JS, with per-chunk jitter averaged out. Write→delivery latency of a
 * stimulus is `atFrame(alignedFrame) − writeTime` (design.md "Timing model").
 * With a single delivery the slope is the nominal 1000 / sampleRate (needs `sampleRate`).
 */
export function deliveryClock(deliveries: readonly { endFrame: number; receivedAt: number }[], sampleRate?: number): DeliveryClock {
  const n = deliveries.length;
  if (n === 0) throw new LoopcheckError('INVALID_ARGUMENT', 'cannot fit a delivery clock without deliveries', { hint: 'capture at least one chunk' });
  // Centre both axes first: frames reach 1e8 and times 1e9 ms, so raw sums would lose precision.
  let mx = 0;
  let my = 0;
  for (const d of deliveries) {
    mx += d.endFrame;
    my += d.receivedAt;
  }
  mx /= n;
  my /= n;
  let sxx = 0;
  let sxy = 0;
  for (const d of deliveries) {
    const dx = d.endFrame - mx;
    sxx += dx * dx;
    sxy += dx * (d.receivedAt - my);
  }
  let slope: number;
  if (sxx > 0) slope = sxy / sxx;
  else if (sampleRate !== undefined && sampleRate > 0) slope = 1000 / sampleRate;
  else {
    throw new LoopcheckError('INVALID_ARGUMENT', 'cannot fit a delivery clock through deliveries that all end at one frame', {
      hint: 'pass the sample rate so the nominal slope can be used',
    });
  }
  return { msPerFrame: slope, atFrame: (frame: number) => my + (frame - mx) * slope };
}
