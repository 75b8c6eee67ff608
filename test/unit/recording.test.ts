import { describe, expect, it } from 'vitest';
import type { CaptureChunk } from '../../src/backends/types.js';
import { percentile } from '../../src/dsp/stats.js';
import { LoopcheckError } from '../../src/errors.js';
import { frameDeliveryTime, RecordingBuilder } from '../../src/recording.js';

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

describe('frameDeliveryTime', () => {
  const RATE48 = 48000;
  // 480-frame chunks; chunk k (frames k·480 … k·480+479) reaches JS at 1000 + (k+1)·10 ms + late_k.
  const late = [0, 3, 0, 7.5, 0.2];
  const deliveries = late.map((l, k) => ({ endFrame: (k + 1) * 480, receivedAt: 1000 + (k + 1) * 10 + l }));

  it('charges a frame its chunk\'s delivery minus the time the chunk filled behind it', () => {
    // Frame 960 starts chunk 2 (late 0): delivered 480 frames = 10 ms before that chunk's receivedAt.
    expect(frameDeliveryTime(deliveries, 960, RATE48)).toBeCloseTo(1000 + 30 - 10, 9);
    // Frame 1439.5 is half a frame before the end of chunk 2.
    expect(frameDeliveryTime(deliveries, 1439.5, RATE48)).toBeCloseTo(1030 - 0.5 / 48, 9);
    // Frame 1500 is in chunk 3, which came 7.5 ms late: the lateness is kept (it is real delivery delay).
    expect(frameDeliveryTime(deliveries, 1500, RATE48)).toBeCloseTo(1040 + 7.5 - (1920 - 1500) / 48, 9);
  });

  it('never puts a frame before the device captured it (block-rendering servers deliver a chunk at once)', () => {
    // Chunk 1 (frames 480…959) arrived 2 ms after its first frame was captured: the whole block at once.
    const burst = [
      { endFrame: 480, receivedAt: 1010, deviceTime: 1000 },
      { endFrame: 960, receivedAt: 1012, deviceTime: 1010 },
    ];
    // Filling-time estimate: 1012 − (960 − 480)/48 = 1002, before the capture at 1010: the capture time wins.
    expect(frameDeliveryTime(burst, 480, RATE48)).toBeCloseTo(1010, 9);
    // Frame 959 (the chunk's last): captured 1010 + 479/48, delivered at 1012 − 1/48 by filling: capture wins.
    expect(frameDeliveryTime(burst, 959, RATE48)).toBeCloseTo(1010 + 479 / 48, 9);
    // Chunk 0 behaves like a real-time device (delivered when its last frame was captured): both terms agree.
    expect(frameDeliveryTime(burst, 100, RATE48)).toBeCloseTo(1000 + 100 / 48, 9);
  });

  it('is null outside the delivered frames', () => {
    expect(frameDeliveryTime(deliveries, 2400, RATE48)).toBeNull();
    expect(frameDeliveryTime(deliveries, -1, RATE48)).toBeNull();
    expect(frameDeliveryTime([], 0, RATE48)).toBeNull();
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
