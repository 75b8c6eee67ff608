/**
 * Per-frame write → delivery latency (src/harness/latency.ts) on synthetic timelines with a known answer.
 * Tolerance 1e-6 ms: every quantity is a sum of a few doubles of magnitude ≤ 1e4 ms (error ~1e-12 ms); 1e-6 ms
 * still catches an off-by-one frame (0.0208 ms at 48 kHz) by four orders of magnitude.
 */
import { describe, expect, it } from 'vitest';
import type { Delivery } from '../../src/backends/types.js';
import { frameLatency, frameWriteTime } from '../../src/harness/latency.js';

const RATE = 48000;
const MS = 1000 / RATE;
const TOL = 1e-6;

/**
 * Capture chunks of `chunk` frames: capture frame c happens at c·MS/ratio; a chunk is complete when its last
 * frame's period ends (frame `end`'s time) and reaches JS `deliveryMs` later; deviceTime = its first frame's time.
 */
function deliveries(frames: number, chunk: number, deliveryMs: number, ratio = 1): Delivery[] {
  const out: Delivery[] = [];
  for (let start = 0; start < frames; start += chunk) {
    const end = Math.min(frames, start + chunk);
    out.push({ endFrame: end, receivedAt: (end * MS) / ratio + deliveryMs, deviceTime: (start * MS) / ratio });
  }
  return out;
}

/** Marks of a render queue: blocks of `block` frames, each written `queueMs` before its first frame plays. */
function queueMarks(frames: number, block: number, playStartMs: number, queueMs: number): Float64Array {
  const m: number[] = [];
  for (let b = 0; b < frames; b += block) m.push(b, playStartMs + b * MS - queueMs);
  return Float64Array.from(m);
}

describe('frameWriteTime', () => {
  const marks = Float64Array.from([0, 10, 2400, 20, 3000, 35]);
  it('is the time of the write whose block holds the frame', () => {
    expect(frameWriteTime(0, 0, RATE, marks)).toBe(10);
    expect(frameWriteTime(2399, 0, RATE, marks)).toBe(10);
    expect(frameWriteTime(2400, 0, RATE, marks)).toBe(20);
    expect(frameWriteTime(2999.5, 0, RATE, marks)).toBe(20);
    expect(frameWriteTime(1e9, 0, RATE, marks)).toBe(35);
  });
  it('without marks, frame k is written just in time: writeTime + k / rate', () => {
    expect(frameWriteTime(4800, 7, RATE)).toBeCloseTo(107, 9);
    expect(frameWriteTime(4800, 7, RATE, new Float64Array(0))).toBeCloseTo(107, 9);
  });
});

describe('frameLatency', () => {
  it('just-in-time writes (the virtual device): every frame has the same latency, the configured one', () => {
    const aligned = 1920.25; // stimulus frame 0 found at capture frame 1920.25 (40.005 ms at 48 kHz)
    const r = frameLatency({
      deliveries: deliveries(60000, 480, 0),
      sampleRate: RATE,
      alignedFrame: aligned,
      stimulusFrames: 48000,
      writeTime: 0,
    })!;
    // Chunks reach JS the instant their last frame is captured: latency = alignment = 40.005208… ms.
    const expected = aligned * MS;
    for (const v of [r.medianMs, r.p99Ms, r.minMs, r.maxMs, r.firstFrameMs]) expect(v).toBeCloseTo(expected, 6);
    expect(r.frames).toBe(1000); // one per ms of a 1 s stimulus
  });

  it('a render queue of Q ms written in blocks of B frames: from Q + D (block start) to Q + D + (B − 1)/rate', () => {
    const Q = 30; // ms the queue holds ahead of the play head
    const D = 4; // capture chunk → JS
    const B = 600; // 12.5 ms blocks, as PulseAudio asks at a 50 ms target
    const aligned = 5000;
    const playStart = aligned * MS;
    const r = frameLatency({
      deliveries: deliveries(60000, 480, D),
      sampleRate: RATE,
      alignedFrame: aligned,
      stimulusFrames: 48000,
      writeTime: playStart - Q,
      writeMarks: queueMarks(48000, B, playStart, Q),
    })!;
    expect(r.firstFrameMs).toBeCloseTo(Q + D, 6);
    expect(r.minMs).toBeGreaterThanOrEqual(Q + D - TOL);
    expect(r.maxMs).toBeLessThanOrEqual(Q + D + (B - 1) * MS + TOL);
    // The 1 ms grid samples block offsets uniformly over 0…12.5 ms: median ≈ 6.25 ms in, within one grid step.
    expect(Math.abs(r.medianMs - (Q + D + (B / 2) * MS))).toBeLessThanOrEqual(1);
    expect(r.p99Ms).toBeGreaterThan(Q + D + 0.9 * B * MS);
  });

  it('grows with the queue: the per-frame median tracks Q, the first frame does not when the stream starts idle', () => {
    const medians = [10, 20, 50].map((Q) => {
      const aligned = 4800;
      return frameLatency({
        deliveries: deliveries(60000, 480, 2),
        sampleRate: RATE,
        alignedFrame: aligned,
        stimulusFrames: 24000,
        writeTime: aligned * MS - 1,
        // The first block goes out 1 ms before it plays (idle stream), later blocks Q ms ahead.
        writeMarks: Float64Array.from([0, aligned * MS - 1, ...Array.from(queueMarks(24000, 480, aligned * MS, Q)).slice(2)]),
      })!;
    });
    expect(medians.map((m) => m.firstFrameMs)).toEqual([3, 3, 3].map((v) => expect.closeTo(v, 6)));
    expect(medians[1]!.medianMs - medians[0]!.medianMs).toBeCloseTo(10, 6);
    expect(medians[2]!.medianMs - medians[1]!.medianMs).toBeCloseTo(30, 6);
  });

  it('follows a drifting capture clock (+200 ppm): still the configured latency at the end of a 10 s stimulus', () => {
    const ratio = 1 + 200e-6;
    const aligned = 960 * ratio;
    const r = frameLatency({
      deliveries: deliveries(500000, 480, 0, ratio),
      sampleRate: RATE,
      alignedFrame: aligned,
      driftPpm: 200,
      stimulusFrames: 480000,
      writeTime: 0,
    })!;
    // Without the drift term the last frames would read 10 s × 200 ppm = 2 ms late. With it, what is left is
    // frameDeliveryTime placing a frame inside its 480-frame chunk at the nominal rate: ≤ 10 ms × 200 ppm = 2 µs.
    expect(r.maxMs - r.minMs).toBeLessThan(0.0025);
    expect(Math.abs(r.medianMs - 20)).toBeLessThan(0.0025);
  });

  it('stops at the first dropout, and at the end of the capture', () => {
    const base = { deliveries: deliveries(30000, 480, 0), sampleRate: RATE, alignedFrame: 0, stimulusFrames: 48000, writeTime: 0 };
    expect(frameLatency(base)!.frames).toBe(625); // the capture holds 30000 frames = 625 ms of the stimulus
    expect(frameLatency({ ...base, firstDropoutFrame: 4800 })!.frames).toBe(100);
    expect(frameLatency({ ...base, firstDropoutFrame: 0 })).toBeNull();
  });
});
