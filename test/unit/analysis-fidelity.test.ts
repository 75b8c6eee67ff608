import { describe, expect, it } from 'vitest';
import { findToneRanges, fitSinusoid, thdPlusNoiseDb } from '../../src/analysis/distortion.js';
import { alignedReference } from '../../src/analysis/align.js';
import { analyzeFidelity, cleanRanges } from '../../src/analysis/fidelity.js';
import { impulseResponse, transferFunction } from '../../src/analysis/response.js';
import type { Alignment, AlignmentSegment, FrequencyResponse, ImpulseResponse } from '../../src/analysis/types.js';
import { addClick, addNoise, removeSpan, throughDevice } from '../../src/dsp/impair.js';
import { createRng } from '../../src/dsp/random.js';
import { isLoopcheckError } from '../../src/errors.js';

const rate = 48000;
/** Fraction of white noise (flat 0…rate/2) inside the 20 Hz – 20 kHz THD+N band. */
const BAND_FRACTION = (20000 - 20) / (rate / 2);

function tone(f: number, n: number, amplitude = 0.5, phase = 0.3): Float32Array {
  const x = new Float32Array(n);
  for (let i = 0; i < n; i++) x[i] = amplitude * Math.sin((2 * Math.PI * f * i) / rate + phase);
  return x;
}

function noise(n: number, rms: number, seed: number): Float32Array {
  const rng = createRng(seed);
  const x = new Float32Array(n);
  for (let i = 0; i < n; i++) x[i] = rms * rng.gaussian();
  return x;
}

/** Farina log sweep f1 → f2 over n samples (test-local, so this file does not depend on signals/). */
function logSweep(n: number, f1 = 20, f2 = 20000, amplitude = 0.5): Float32Array {
  const T = n / rate;
  const L = T / Math.log(f2 / f1);
  const x = new Float32Array(n);
  for (let i = 0; i < n; i++) x[i] = amplitude * Math.sin(2 * Math.PI * f1 * L * (Math.exp(i / rate / L) - 1));
  return x;
}

function concat(...parts: Float32Array[]): Float32Array {
  const out = new Float32Array(parts.reduce((s, p) => s + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

/** Analytic THD+N of a sine of peak `amplitude` plus white noise of variance σ², dB, 20 Hz – 20 kHz band. */
function analyticThdnDb(amplitude: number, sigma: number): number {
  const n = sigma * sigma * BAND_FRACTION;
  return 10 * Math.log10(n / ((amplitude * amplitude) / 2 + n));
}

function alignment(latency: number, segments?: AlignmentSegment[], driftPpm = 0, captureLength = 1e9): Alignment {
  return {
    latency: { samples: latency, ms: (latency / rate) * 1000, confidence: 1 },
    ratio: 1 + driftPpm * 1e-6,
    driftPpm,
    segments: segments ?? [{ captureStart: 0, captureEnd: captureLength, offsetSamples: latency }],
    correlation: 1,
  };
}

/** Measured magnitude at the reported point nearest `f`, and the analytic |H| normalised the same way. */
function compareAt(fr: FrequencyResponse, analyticDb: (f: number) => number, f: number): { measured: number; expected: number } {
  let ref = 0, count = 0;
  for (const p of fr.frequencies) if (p >= 200 && p <= 2000) {
    ref += analyticDb(p);
    count++;
  }
  ref /= count;
  let best = 0;
  for (let i = 0; i < fr.frequencies.length; i++) if (Math.abs(fr.frequencies[i]! - f) < Math.abs(fr.frequencies[best]! - f)) best = i;
  return { measured: fr.magnitudeDb[best]!, expected: analyticDb(fr.frequencies[best]!) - ref };
}

function maxOffPeakDb(ir: ImpulseResponse, skip: number[] = []): number {
  let m = 0;
  for (let i = 0; i < ir.samples.length; i++) if (i !== ir.preSamples && !skip.includes(i)) m = Math.max(m, Math.abs(ir.samples[i]!));
  return 20 * Math.log10(m);
}

describe('THD+N (distortion.ts)', () => {
  it('a clean float32 tone measures below −120 dB', () => {
    // The only residual is float32 rounding of the samples: 24-bit mantissa ⇒ about −150 dB re the tone
    // (measured ≈ −154.6 dB). −120 dB leaves room for any fit imprecision that would still be harmless.
    expect(thdPlusNoiseDb(tone(997, rate), rate)).toBeLessThan(-120);
  });

  it('a tone plus white noise matches the analytic THD+N within ±0.5 dB', () => {
    for (const [noiseDbfs, seed] of [[-60, 1], [-90, 2], [-40, 3]] as const) {
      const x = addNoise(tone(997, rate), noiseDbfs, seed);
      const expected = analyticThdnDb(0.5, 10 ** (noiseDbfs / 20));
      // ±0.5 dB (brief): the noise-power estimate from 1 s of Gaussian noise varies by ~0.05 dB; the rest
      // covers the Hann periodogram's band-edge rounding.
      expect(Math.abs(thdPlusNoiseDb(x, rate) - expected)).toBeLessThan(0.5);
    }
  });

  it('a 1 % second harmonic reads −40 dB ±0.5', () => {
    const x = tone(997, rate);
    for (let i = 0; i < x.length; i++) x[i]! += 0.005 * Math.sin((2 * Math.PI * 1994 * i) / rate + 1.1);
    // 10·log10(0.01²/(1 + 0.01²)) = −40.0004 dB; ±0.5 dB is the brief's analyser-grade tolerance.
    expect(thdPlusNoiseDb(x, rate)).toBeCloseTo(-40, 0);
    expect(Math.abs(thdPlusNoiseDb(x, rate) + 40)).toBeLessThan(0.5);
  });

  it('ignores DC and content below 20 Hz (band-limited like an analyser)', () => {
    const x = tone(997, rate);
    for (let i = 0; i < x.length; i++) x[i]! += 0.05 + 0.05 * Math.sin((2 * Math.PI * 5 * i) / rate);
    // A 5 Hz component at −20 dB re the tone sits outside the band: the Hann leakage that remains is far below
    // −80 dB (the tolerance), while counting it would read about −23 dB.
    expect(thdPlusNoiseDb(x, rate)).toBeLessThan(-80);
  });

  it('fits frequency, amplitude, phase and DC of an off-grid tone', () => {
    const x = tone(1003.7, 30000, 0.3, -2.1);
    for (let i = 0; i < x.length; i++) x[i]! += 0.01;
    const fit = fitSinusoid(x, rate, 997);
    // Exact model, float32 samples: errors are at the 1e−7 relative level; tolerances are 10–100× that.
    expect(Math.abs(fit.frequencyHz - 1003.7)).toBeLessThan(1e-5);
    expect(Math.abs(fit.amplitude - 0.3)).toBeLessThan(1e-6);
    expect(Math.abs(fit.phaseRad + 2.1)).toBeLessThan(1e-5);
    expect(Math.abs(fit.dc - 0.01)).toBeLessThan(1e-6);
  });

  it('finds the pure-tone stretch of a mixed reference and nothing in noise or sweeps', () => {
    const ref = concat(noise(rate, 0.2, 4), tone(997, rate), logSweep(rate));
    const ranges = findToneRanges(ref, rate);
    expect(ranges).toHaveLength(1);
    const [s, e] = ranges[0]!;
    // The run is trimmed by one 50 ms window (2400 samples) at each end; the window grid (hop 1200) and the
    // edge windows that still pass the 99 % test move each end by at most one hop.
    expect(s).toBeGreaterThanOrEqual(rate);
    expect(s).toBeLessThanOrEqual(rate + 2400 + 1200);
    expect(e).toBeLessThanOrEqual(2 * rate);
    expect(e).toBeGreaterThanOrEqual(2 * rate - 2400 - 1200);
    expect(findToneRanges(concat(noise(rate, 0.2, 5), logSweep(rate), tone(1500, rate)), rate)).toEqual([]);
  });

  it('rejects segments too short to fit', () => {
    let err: unknown;
    try {
      thdPlusNoiseDb(tone(997, 100), rate);
    } catch (e) {
      err = e;
    }
    expect(isLoopcheckError(err) && err.code).toBe('INVALID_ARGUMENT');
  });
});

describe('frequency and impulse response (response.ts)', () => {
  const x = noise(2 * rate, 0.25, 7);

  it('identity ⇒ flat within 0.1 dB and an impulse at preSamples with everything else below −60 dB', () => {
    const fr = transferFunction(x, x, rate)!;
    // 0.1 dB (brief): H = S_xy/S_xx is exactly 1 up to float32 FFT rounding (~1e−6 dB).
    expect(fr.rippleDb).toBeLessThan(0.1);
    expect(fr.frequencies.length).toBeGreaterThanOrEqual(100);
    expect(fr.bandHz[0]).toBeCloseTo(20, 6);
    expect(fr.bandHz[1]).toBeCloseTo(20000, 6);
    const ir = impulseResponse(x, x, rate)!;
    expect(ir.preSamples).toBe(256);
    expect(ir.samples[ir.preSamples]).toBeCloseTo(1, 6);
    // −60 dB (brief). Here H ≡ 1, so the off-peak samples are exactly 0; the analyzeFidelity test below takes
    // a non-trivial path (sinc-delayed capture, measured ≈ −98 dB).
    expect(maxOffPeakDb(ir)).toBeLessThan(-60);
  });

  it('a −6 dB gain still reads flat (normalised to 200 Hz – 2 kHz)', () => {
    const y = x.map((v) => v * 0.5);
    const fr = transferFunction(x, y, rate)!;
    expect(fr.rippleDb).toBeLessThan(0.1); // same float32 rounding budget as identity
  });

  it('a one-pole low-pass matches the analytic |H| within ±0.5 dB', () => {
    const a = 0.5; // y[n] = (1 − a)·x[n] + a·y[n − 1]
    const y = new Float32Array(x.length);
    let prev = 0;
    for (let i = 0; i < x.length; i++) prev = y[i] = (1 - a) * x[i]! + a * prev;
    const analyticDb = (f: number): number => {
      const w = (2 * Math.PI * f) / rate;
      return 10 * Math.log10((1 - a) ** 2 / (1 - 2 * a * Math.cos(w) + a * a));
    };
    const fr = transferFunction(x, y, rate)!;
    for (const f of [50, 500, 3000, 10000, 19000]) {
      const { measured, expected } = compareAt(fr, analyticDb, f);
      // ±0.5 dB (brief): Welch with 8192-point Hann frames smooths |H| over ~12 Hz and the log points pool
      // ±2 % of f; both are tiny against this smooth curve (measured errors < 0.01 dB).
      expect(Math.abs(measured - expected)).toBeLessThan(0.5);
    }
  });

  it('a 2-tap comb h = [1, 0…, 0.5 at k] gives its analytic magnitude and a second impulse of 0.5 at k', () => {
    const k = 20;
    const y = x.slice();
    for (let i = k; i < y.length; i++) y[i]! += 0.5 * x[i - k]!;
    const analyticDb = (f: number): number => {
      const p = (2 * Math.PI * f * k) / rate;
      return 10 * Math.log10((1 + 0.5 * Math.cos(p)) ** 2 + (0.5 * Math.sin(p)) ** 2);
    };
    const fr = transferFunction(x, y, rate)!;
    // 600 Hz: +0.97 dB, 1200 Hz: the −6 dB notch, 2400 Hz: the +3.5 dB peak.
    for (const f of [300, 600, 1200, 2400, 3000]) {
      const { measured, expected } = compareAt(fr, analyticDb, f);
      // ±0.5 dB (brief); the point pooling (±2 %) smooths the notch by < 0.05 dB at these frequencies.
      expect(Math.abs(measured - expected)).toBeLessThan(0.5);
    }
    const ir = impulseResponse(x, y, rate)!;
    expect(ir.samples[ir.preSamples]).toBeCloseTo(1, 6);
    // ±0.02 (brief): the only bias is the Hann frames' overlap with themselves shifted by 20 of 8192 samples
    // (factor ≈ 0.9998).
    expect(Math.abs(ir.samples[ir.preSamples + k]! - 0.5)).toBeLessThan(0.02);
    expect(maxOffPeakDb(ir, [ir.preSamples + k])).toBeLessThan(-60);
  });

  it('a pure tone is not a broadband reference: no response', () => {
    const t = tone(997, 2 * rate);
    expect(transferFunction(t, t, rate)).toBeNull();
    expect(impulseResponse(t, t, rate)).toBeNull();
  });
});

describe('analyzeFidelity', () => {
  // Composite reference: noise, a 1.5 s 997 Hz tone, a 1 s Farina sweep, more noise.
  const reference = concat(noise(rate, 0.2, 11), tone(997, 1.5 * rate), logSweep(rate), noise(rate, 0.2, 12));
  const noiseDbfs = -80;
  const sigma = 10 ** (noiseDbfs / 20);

  it('on a delayed, attenuated, noisy capture: THD+N as analytic, flat response, clean impulse', () => {
    const latency = 1234.37;
    const capture = addNoise(throughDevice(reference, { latencySamples: latency, gainDb: -6 }), noiseDbfs, 13);
    const r = analyzeFidelity(reference, capture, rate, alignment(latency, undefined, 0, capture.length), []);
    // ±0.5 dB (brief); the tone is 0.5 × 10^(−6/20) after the gain.
    expect(Math.abs(r.thdnDb! - analyticThdnDb(0.5 * 10 ** (-6 / 20), sigma))).toBeLessThan(0.5);
    // Flat within 0.1 dB: the −80 dBFS noise is ~60 dB under the reference in every bin; the sinc interpolator
    // of throughDevice and of the alignment are the same kernel (±0.1 dB only above 0.9 Nyquist = 21.6 kHz).
    expect(r.frequencyResponse!.rippleDb).toBeLessThan(0.1);
    const ir = r.impulseResponse!;
    expect(ir.samples[ir.preSamples]).toBeCloseTo(1, 2); // 1 within 0.005: −6 dB gain is normalised away
    // The reference has energy to 24 kHz (noise), so the pulse is not band-limited: off-peak < −60 dB.
    expect(maxOffPeakDb(ir)).toBeLessThan(-60);
  });

  it('with drift, a gap and an excluded click in the tone: THD+N unchanged; the click counts when not excluded', () => {
    const latency = 700.5;
    const driftPpm = 100;
    const through = addNoise(throughDevice(reference, { latencySamples: latency, driftPpm }), noiseDbfs, 14);
    const gapAt = Math.round(latency + 1.3 * rate); // inside the tone (reference 1.0 s … 2.5 s)
    const gapFrames = 480;
    const clickAt = Math.round(latency + 2.0 * rate);
    const capture = addClick(removeSpan(through, gapAt, gapFrames), clickAt, 0.5);
    const segments: AlignmentSegment[] = [
      { captureStart: 0, captureEnd: gapAt, offsetSamples: latency },
      { captureStart: gapAt, captureEnd: capture.length, offsetSamples: latency - gapFrames },
    ];
    const al = alignment(latency, segments, driftPpm);
    const excluded: [number, number][] = [[gapAt - 100, gapAt + 100], [clickAt - 100, clickAt + 100]];
    const r = analyzeFidelity(reference, capture, rate, al, excluded);
    const expected = analyticThdnDb(0.5, sigma);
    // Same ±0.5 dB budget: the drifted tone is fitted per clean piece, each at its own exact frequency.
    expect(Math.abs(r.thdnDb! - expected)).toBeLessThan(0.5);
    expect(r.frequencyResponse!.rippleDb).toBeLessThan(0.1);
    // Not excluding the click: its energy (0.25 in one sample) over ~0.5 s dwarfs the −80 dBFS noise.
    const withClick = analyzeFidelity(reference, capture, rate, al, [[gapAt - 100, gapAt + 100]]);
    expect(withClick.thdnDb!).toBeGreaterThan(expected + 10);
  });

  it('THD+N is null without a 997 Hz tone in the reference', () => {
    const ref = concat(noise(rate, 0.2, 15), tone(1500, rate), logSweep(rate));
    const r = analyzeFidelity(ref, ref, rate, alignment(0, undefined, 0, ref.length), []);
    expect(r.thdnDb).toBeNull();
    expect(r.frequencyResponse).not.toBeNull();
  });

  it('a precomputed aligned reference gives the same answer; a wrong length is INVALID_ARGUMENT', () => {
    const latency = 321.25;
    const capture = addNoise(throughDevice(reference, { latencySamples: latency }), noiseDbfs, 16);
    const al = alignment(latency, undefined, 0, capture.length);
    const aligned = alignedReference(reference, al.segments, al.ratio, capture.length);
    const a = analyzeFidelity(reference, capture, rate, al, []);
    const b = analyzeFidelity(reference, capture, rate, al, [], { alignedReference: aligned });
    expect(b.thdnDb).toBe(a.thdnDb); // THD+N uses only the capture: identical
    // Same sinc kernel (align.ts readLinear vs this module's per-frame delay), same frames: the curves agree
    // to float32 rounding (1e−4 dB).
    for (let i = 0; i < a.frequencyResponse!.magnitudeDb.length; i++) {
      expect(Math.abs(b.frequencyResponse!.magnitudeDb[i]! - a.frequencyResponse!.magnitudeDb[i]!)).toBeLessThan(1e-4);
    }
    let err: unknown;
    try {
      analyzeFidelity(reference, capture, rate, al, [], { alignedReference: aligned.subarray(1) });
    } catch (e) {
      err = e;
    }
    expect(isLoopcheckError(err) && err.code).toBe('INVALID_ARGUMENT');
  });

  it('clean ranges: segments within the reference extent, minus exclusions, shrunk by the margin', () => {
    const ranges = cleanRanges(
      { ratio: 1, segments: [{ captureStart: 0, captureEnd: 5000, offsetSamples: 100 }, { captureStart: 5000, captureEnd: 20000, offsetSamples: 50 }] },
      10000,
      20000,
      [[3000, 3100]],
      10,
    );
    expect(ranges).toEqual([[110, 2990], [3110, 4990], [5010, 10040]]);
  });
});
