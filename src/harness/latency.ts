/**
 * Per-frame write → delivery latency (design.md "Timing model", docs/decisions.md "Latency").
 *
 * For stimulus frame k: written = when the render write that carried k returned (the backend's write marks:
 * one [frame, timeMs] pair per pa_stream_write / ReleaseBuffer), delivered = when the capture frame that holds
 * k reached JS (`frameDeliveryTime`). The capture frame of k is `alignedFrame + k·(1 + driftPpm·1e-6)`, so
 * the grid follows a drifting capture clock. Frames after the first dropout are left out: a gap shifts the
 * timeline and the correlation alignment no longer names their capture frame.
 *
 * Why per frame and not the first frame only: frame 0 of a stimulus goes into an idle stream and is played at
 * the sink's next tick, whatever the render queue length; every later frame waits behind the queue, so only
 * the per-frame figure grows with the buffer size (what `bench` must show). Without write marks (the virtual
 * device) frame k counts as written just in time, at writeTime + k / rate.
 */
import type { Delivery } from '../backends/types.js';
import { frameDeliveryTime } from '../recording.js';
import { percentile } from '../dsp/stats.js';

export interface FrameLatency {
  /** Median over the sampled frames, ms. */
  medianMs: number;
  p99Ms: number;
  minMs: number;
  maxMs: number;
  /** Frame 0 alone (the figure before per-frame measurement), ms. */
  firstFrameMs: number;
  /** Frames sampled (one per `stepMs`). */
  frames: number;
}

export interface FrameLatencyInput {
  deliveries: readonly Delivery[];
  sampleRate: number;
  /** Capture frame (fractional) where stimulus frame 0 was found. */
  alignedFrame: number;
  driftPpm?: number | null | undefined;
  /** Stimulus length, frames. */
  stimulusFrames: number;
  /** Capture frame of the first dropout, if any: frames from there on are not sampled. */
  firstDropoutFrame?: number | null | undefined;
  writeTime: number;
  /** [frame, timeMs, frame, timeMs, …] in frame order. */
  writeMarks?: Float64Array | undefined;
  /** Sampling step, ms (default 1). */
  stepMs?: number;
}

/** When stimulus frame k was handed to the render API, ms. */
export function frameWriteTime(k: number, writeTime: number, sampleRate: number, marks?: Float64Array): number {
  const n = marks ? marks.length >> 1 : 0;
  if (!marks || n === 0) return writeTime + (k * 1000) / sampleRate;
  // Last mark whose first frame ≤ k (marks are in frame order).
  let lo = 0;
  let hi = n - 1;
  if (k < marks[0]!) return marks[1]!;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (marks[mid * 2]! <= k) lo = mid;
    else hi = mid - 1;
  }
  return marks[lo * 2 + 1]!;
}

export function frameLatency(input: FrameLatencyInput): FrameLatency | null {
  const { deliveries, sampleRate, alignedFrame, stimulusFrames, writeTime, writeMarks } = input;
  const ratio = 1 + (input.driftPpm ?? 0) * 1e-6;
  const step = Math.max(1, Math.round(((input.stepMs ?? 1) * sampleRate) / 1000));
  let lastK = stimulusFrames - 1;
  if (input.firstDropoutFrame !== null && input.firstDropoutFrame !== undefined) {
    lastK = Math.min(lastK, Math.floor((input.firstDropoutFrame - alignedFrame) / ratio) - 1);
  }
  const values: number[] = [];
  for (let k = 0; k <= lastK; k += step) {
    const delivered = frameDeliveryTime(deliveries, alignedFrame + k * ratio, sampleRate);
    if (delivered === null) break; // the capture ended before this frame came back
    values.push(delivered - frameWriteTime(k, writeTime, sampleRate, writeMarks));
  }
  if (values.length === 0) return null;
  let min = Infinity;
  let max = -Infinity;
  for (const v of values) {
    if (v < min) min = v;
    if (v > max) max = v;
  }
  return {
    medianMs: percentile(values, 50)!,
    p99Ms: percentile(values, 99)!,
    minMs: min,
    maxMs: max,
    firstFrameMs: values[0]!,
    frames: values.length,
  };
}
