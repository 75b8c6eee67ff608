import { describe, expect, it } from 'vitest';
import { alignedReference } from '../../src/analysis/align.js';
import { bitExact, gainDb, levelRegion, snrDb } from '../../src/analysis/level.js';
import type { Alignment } from '../../src/analysis/types.js';
import { addNoise, throughDevice, zeroSpan } from '../../src/dsp/impair.js';
import { createRng } from '../../src/dsp/random.js';

const rate = 48000;
function white(n: number, seed: number): Float32Array {
  const rng = createRng(seed);
  const x = new Float32Array(n);
  for (let i = 0; i < n; i++) x[i] = 0.25 * rng.gaussian();
  return x;
}
const ref = white(2 * rate, 1);
const latency = 321.5;
const oneSegment = (length: number) => [{ captureStart: 0, captureEnd: length, offsetSamples: latency }];

describe('gainDb', () => {
  for (const g of [-20, -6, 0, 6]) {
    it(`measures ${g} dB`, () => {
      const cap = addNoise(throughDevice(ref, { latencySamples: latency, gainDb: g }), -12 + g - 40, 2);
      const aligned = alignedReference(ref, oneSegment(cap.length), 1, cap.length);
      // Requirement ±0.2 dB; with the exact map and 40 dB SNR the LS gain is within ~0.001 dB.
      expect(Math.abs(gainDb(cap, aligned, [])! - g)).toBeLessThan(0.01);
    });
  }

  it('leaves excluded ranges out (a zero-filled stretch does not lower the gain)', () => {
    const clean = throughDevice(ref, { latencySamples: latency, gainDb: -3 });
    const cap = zeroSpan(clean, 20000, 20000);
    const aligned = alignedReference(ref, oneSegment(cap.length), 1, cap.length);
    // Included, 20000 of ~96000 samples are zero: gain falls by ≈ 20·log10(1 − 0.21) ≈ −2 dB.
    expect(gainDb(cap, aligned, [])!).toBeLessThan(-4);
    // Excluded: exact −3 dB (float32 rounding only, 1e-4 dB).
    expect(Math.abs(gainDb(cap, aligned, [[20000, 40000]])! + 3)).toBeLessThan(1e-4);
  });

  it('is null without reference energy', () => {
    expect(gainDb(new Float32Array(100), new Float32Array(100), [])).toBeNull();
  });
});

describe('snrDb', () => {
  for (const snr of [20, 40, 60]) {
    it(`measures added noise at ${snr} dB`, () => {
      // Signal level = the noise-free capture's RMS over the reference span (≈ −12.2 dBFS: the half-sample delay's
      // interpolator removes the top 10 % of white noise's band, −0.2 dB), not the nominal −12 dBFS.
      const clean = throughDevice(ref, { latencySamples: latency });
      let e = 0;
      for (let i = 322; i < 322 + ref.length; i++) e += clean[i]! * clean[i]!;
      const signalDbfs = 10 * Math.log10(e / ref.length);
      const cap = addNoise(clean, signalDbfs - snr, 3);
      const aligned = alignedReference(ref, oneSegment(cap.length), 1, cap.length);
      // Requirement ±1 dB; the noise estimate over ~96000 samples has σ ≈ 4.34·√(2/96000) ≈ 0.02 dB.
      expect(Math.abs(snrDb(cap, aligned, [])! - snr)).toBeLessThan(0.2);
    });
  }
});

describe('levelRegion', () => {
  it('is the mapped span minus the excluded ranges', () => {
    const a = new Float32Array(100);
    a.fill(1, 10, 90);
    expect(levelRegion(a, [])).toEqual([[10, 90]]);
    expect(levelRegion(a, [[0, 20], [50, 60], [85, 200]])).toEqual([[20, 50], [60, 85]]);
  });
});

describe('bitExact', () => {
  const alignment = (offset: number, ratio = 1): Alignment => ({
    latency: { samples: offset, ms: 0, confidence: 1 },
    ratio,
    driftPpm: (ratio - 1) * 1e6,
    segments: [{ captureStart: 0, captureEnd: ref.length + 1000, offsetSamples: offset }],
    correlation: 1,
  });
  it('true for an integer-delayed copy, false for one changed LSB, a fraction, drift or gain', () => {
    const cap = throughDevice(ref, { latencySamples: 500, length: ref.length + 1000 });
    expect(bitExact(ref, cap, alignment(500))).toBe(true);
    expect(bitExact(ref, cap, alignment(500.0000001))).toBe(true);
    const changed = cap.slice();
    changed[40000] = changed[40000]! + 2 ** -23;
    expect(bitExact(ref, changed, alignment(500))).toBe(false);
    expect(bitExact(ref, cap, alignment(500.4))).toBe(false);
    expect(bitExact(ref, cap, alignment(500, 1 + 1e-6))).toBe(false);
    const louder = throughDevice(ref, { latencySamples: 500, length: ref.length + 1000, gainDb: 0.01 });
    expect(bitExact(ref, louder, alignment(500))).toBe(false);
  });
});
