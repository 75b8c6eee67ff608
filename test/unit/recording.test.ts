import { describe, expect, it } from 'vitest';
import type { CaptureChunk } from '../../src/backends/types.js';
import { percentile } from '../../src/dsp/stats.js';
import { LoopcheckError } from '../../src/errors.js';
import { deliveryClock, RecordingBuilder } from '../../src/recording.js';

const RATE = 48000;

/** A stereo chunk whose left sample at stream frame f is f and right is −f (so joins are checkable exactly). */
function chunk(framePosition: number, frames: number, extra: Partial<CaptureChunk> = {}): CaptureChunk {
  const samples = new Float32Array(frames * 2);
  for (let i = 0; i < frames; i++) {
    samples[2 * i] = framePosition + i;
    samples[2 * i + 1] = -(framePosition + i);
  }
  const deviceTime = (framePosition / RATE) * 1000;
  return {
    samples, frames, channels: 2, sampleRate: RATE, framePosition, deviceTime, receivedAt: deviceTime + (frames / RATE) * 1000 + 1,
    flags: { discontinuity: false, silent: false, timestampError: false }, overruns: 0, ...extra,
  };
}

describe('RecordingBuilder', () => {
  it('joins chunks of varying sizes exactly, planar, with per-chunk buffer times and deliveries', () => {
    const b = new RecordingBuilder(2, RATE);
    const sizes = [480, 1, 5000, 7];
    let pos = 0;
    for (const n of sizes) {
      b.push(chunk(pos, n));
      pos += n;
    }
    expect(b.frames).toBe(pos);
    const r = b.build();
    expect(r.audio.sampleRate).toBe(RATE);
    expect(r.audio.channels[0]!.length).toBe(pos);
    for (let i = 0; i < pos; i++) {
      // Values are small integers: exact in float32.
      expect(r.audio.channels[0]![i]).toBe(i);
      expect(r.audio.channels[1]![i]).toBe(-i);
    }
    expect(r.positionGaps).toEqual([]);
    expect(r.deliveries.map((d) => d.endFrame)).toEqual([480, 481, 5481, 5488]);
    // receivedAt − deviceTime = chunk duration + 1 ms by construction; 1e-9 ms covers float rounding.
    sizes.forEach((n, i) => expect(r.captureBufferMs[i]).toBeCloseTo((n / RATE) * 1000 + 1, 9));
  });

  it('reports a framePosition jump as a gap at the current audio frame and inserts nothing', () => {
    const b = new RecordingBuilder(2, RATE);
    b.push(chunk(0, 100));
    b.push(chunk(100, 100));
    b.push(chunk(350, 100, { overruns: 3, flags: { discontinuity: true, silent: false, timestampError: false } })); // 150 lost
    b.push(chunk(450, 50));
    b.push(chunk(400, 10)); // backwards: a discontinuity, not a gap
    const r = b.build();
    expect(r.positionGaps).toEqual([{ atFrame: 200, frames: 150 }]);
    expect(r.audio.channels[0]!.length).toBe(360);
    expect(r.audio.channels[0]![199]).toBe(199);
    expect(r.audio.channels[0]![200]).toBe(350);
    expect(r.overruns).toBe(3);
    expect(r.discontinuities).toBe(2);
  });

  it('grows by doubling: 2000 chunks of 960 frames join to the exact total', () => {
    const b = new RecordingBuilder(2, RATE);
    for (let k = 0; k < 2000; k++) b.push(chunk(k * 960, 960));
    const r = b.build();
    expect(r.audio.channels[0]!.length).toBe(1_920_000);
    expect(r.audio.channels[0]![1_919_999]).toBe(1_919_999);
    expect(r.deliveries).toHaveLength(2000);
  });

  it('rejects chunks of another format', () => {
    const b = new RecordingBuilder(1, RATE);
    expect(() => b.push(chunk(0, 10))).toThrow(LoopcheckError);
    expect(() => new RecordingBuilder(0, RATE)).toThrow(LoopcheckError);
  });
});

describe('deliveryClock', () => {
  it('recovers an exact line and averages symmetric jitter out', () => {
    // receivedAt = 1234.5 + frame / 48 ms, with ±0.5 ms alternating jitter (mean 0).
    const exact = Array.from({ length: 100 }, (_, k) => ({ endFrame: (k + 1) * 480, receivedAt: 1234.5 + ((k + 1) * 480) / 48 }));
    const clk = deliveryClock(exact);
    // 1e-9 ms: the fit is exact up to float rounding of sums of ~1e5.
    expect(Math.abs(clk.atFrame(6720) - (1234.5 + 140))).toBeLessThan(1e-9);
    expect(Math.abs(clk.msPerFrame - 1 / 48)).toBeLessThan(1e-12);
    const jittered = exact.map((d, k) => ({ ...d, receivedAt: d.receivedAt + (k % 2 === 0 ? 0.5 : -0.5) }));
    // Alternating ±0.5 over an even count has zero mean but a tiny correlation with frame index:
    // slope error ≈ 0.5·480·50/ Σdx² ⇒ offset error < 0.01 ms at mid-range.
    expect(Math.abs(deliveryClock(jittered).atFrame(24000) - (1234.5 + 500))).toBeLessThan(0.01);
  });

  it('uses the nominal slope for a single delivery and refuses none', () => {
    const clk = deliveryClock([{ endFrame: 480, receivedAt: 10 }], RATE);
    // One delivery: slope 1000/48000 ms per frame exactly.
    expect(clk.atFrame(960)).toBeCloseTo(20, 12);
    expect(() => deliveryClock([])).toThrow(LoopcheckError);
    expect(() => deliveryClock([{ endFrame: 480, receivedAt: 10 }])).toThrow(LoopcheckError);
  });
});

describe('percentile', () => {
  it('interpolates linearly between ranks (numpy "linear")', () => {
    const v = [4, 1, 3, 2];
    expect(percentile(v, 0)).toBe(1);
    expect(percentile(v, 100)).toBe(4);
    expect(percentile(v, 50)).toBe(2.5);
    expect(percentile(v, 25)).toBe(1.75);
    // 99th of 1…100: rank 98.01 ⇒ 99 + 0.01; 1e-12 for float rounding.
    expect(percentile(Array.from({ length: 100 }, (_, i) => i + 1), 99)).toBeCloseTo(99.01, 12);
    expect(percentile([7], 99)).toBe(7);
  });

  it('ignores NaN, returns null when empty, clamps p', () => {
    expect(percentile([], 50)).toBeNull();
    expect(percentile([Number.NaN], 50)).toBeNull();
    expect(percentile([Number.NaN, 1, 3], 50)).toBe(2);
    expect(percentile([1, 3], 150)).toBe(3);
    expect(percentile([1, 2, Infinity], 0)).toBe(1);
    expect(percentile([1, 2], Number.NaN)).toBeNull();
  });
});
