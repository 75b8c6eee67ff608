import { describe, expect, it } from 'vitest';
import { align, alignedReference } from '../../src/analysis/align.js';
import { crossCorrelate, normalizedCorrelationAt } from '../../src/analysis/correlate.js';
import { addClick, addNoise, removeSpan, throughDevice, zeroSpan } from '../../src/dsp/impair.js';
import { createRng } from '../../src/dsp/random.js';

/** White Gaussian noise, RMS 0.25 (−12 dBFS). */
function white(n: number, seed: number): Float32Array {
  const rng = createRng(seed);
  const x = new Float32Array(n);
  for (let i = 0; i < n; i++) x[i] = 0.25 * rng.gaussian();
  return x;
}

/** Pink noise (Kellet's refined −3 dB/octave filter on white noise), scaled to RMS 0.25. */
function pink(n: number, seed: number): Float32Array {
  const rng = createRng(seed);
  const x = new Float32Array(n);
  let b0 = 0, b1 = 0, b2 = 0, b3 = 0, b4 = 0, b5 = 0, b6 = 0;
  for (let i = 0; i < n; i++) {
    const w = rng.gaussian();
    b0 = 0.99886 * b0 + w * 0.0555179;
    b1 = 0.99332 * b1 + w * 0.0750759;
    b2 = 0.969 * b2 + w * 0.153852;
    b3 = 0.8665 * b3 + w * 0.3104856;
    b4 = 0.55 * b4 + w * 0.5329522;
    b5 = -0.7616 * b5 - w * 0.016898;
    x[i] = b0 + b1 + b2 + b3 + b4 + b5 + b6 + w * 0.5362;
    b6 = w * 0.115926;
  }
  let e = 0;
  for (let i = 0; i < n; i++) e += x[i]! * x[i]!;
  const g = 0.25 / Math.sqrt(e / n);
  for (let i = 0; i < n; i++) x[i]! *= g;
  return x;
}

/** Exponential sweep 20 Hz → 20 kHz, peak 0.5, 10 ms raised-cosine fades. */
function logSweep(n: number, sampleRate: number): Float32Array {
  const T = n / sampleRate;
  const L = T / Math.log(20000 / 20);
  const fade = Math.round(0.01 * sampleRate);
  const x = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const t = i / sampleRate;
    const env = i < fade ? 0.5 - 0.5 * Math.cos((Math.PI * i) / fade) : i >= n - fade ? 0.5 - 0.5 * Math.cos((Math.PI * (n - 1 - i)) / fade) : 1;
    x[i] = 0.5 * env * Math.sin(2 * Math.PI * 20 * L * Math.expm1(t / L));
  }
  return x;
}

function rmsDb(x: Float32Array): number {
  let e = 0;
  for (let i = 0; i < x.length; i++) e += x[i]! * x[i]!;
  return 10 * Math.log10(e / x.length);
}

/** Capture at a given SNR (noise relative to the reference's own RMS). */
function capture(ref: Float32Array, latency: number, snrDb: number, seed: number, driftPpm = 0, extra = 4000): Float32Array {
  const y = throughDevice(ref, { latencySamples: latency, driftPpm, length: Math.ceil(ref.length * (1 + driftPpm * 1e-6) + latency) + extra });
  return addNoise(y, rmsDb(ref) - snrDb, seed);
}

describe('crossCorrelate', () => {
  it('matches the time-domain definition c[k] = Σ a[n+k]·b[n] at every lag', () => {
    const a = white(3000, 1);
    const b = white(700, 2);
    const c = crossCorrelate(a, b);
    expect(c.firstLag).toBe(-699);
    expect(c.values.length).toBe(3000 + 700 - 1);
    let maxErr = 0;
    let scale = 0;
    for (const lag of [-699, -350, -1, 0, 1, 1234, 2299, 2999]) {
      let direct = 0;
      for (let n = 0; n < b.length; n++) {
        const i = n + lag;
        if (i >= 0 && i < a.length) direct += a[i]! * b[n]!;
      }
      maxErr = Math.max(maxErr, Math.abs(c.values[lag - c.firstLag]! - direct));
      scale = Math.max(scale, Math.abs(direct));
    }
    // float32 FFT: error ~1e-6 of the largest magnitude (here ≈ √700·0.0625 ≈ 1.7); 1e-4 absolute is generous.
    expect(maxErr).toBeLessThan(1e-4);
    expect(scale).toBeGreaterThan(0.1);
  });

  it('finds a known integer delay as the peak and normalised correlation is 1 there', () => {
    const b = white(2048, 3);
    const a = throughDevice(b, { latencySamples: 777, length: 6000 });
    const c = crossCorrelate(a, b, 1000);
    let best = 0;
    for (let i = 1; i < c.values.length; i++) if (c.values[i]! > c.values[best]!) best = i;
    expect(c.firstLag + best).toBe(777);
    const [rho] = normalizedCorrelationAt(a, 0, b, 0, b.length, [777]);
    // Exact copy: float64 sums of float32 products, 1e-12 covers rounding.
    expect(Math.abs(rho! - 1)).toBeLessThan(1e-12);
  });
});

describe('align: sub-sample latency', () => {
  const rate = 48000;
  const references: [string, Float32Array][] = [
    ['white noise', white(4 * rate, 10)],
    ['pink noise', pink(4 * rate, 11)],
    ['log sweep', logSweep(2 * rate, rate)],
  ];
  for (const [name, ref] of references) {
    for (const latency of [1234.37, 0.5, 17.25]) {
      it(`${name}, latency ${latency} samples, SNR 40 dB`, () => {
        const a = align(ref, capture(ref, latency, 40, 99), rate);
        expect(a).not.toBeNull();
        // Requirement ±0.1 sample; measured |error| ≤ 1e-3 (white 3e-5, sweep 6e-4): phase-slope per block + fit.
        expect(Math.abs(a!.latency.samples - latency)).toBeLessThan(0.1);
        expect(Math.abs(a!.latency.ms - (latency / rate) * 1000)).toBeLessThan((0.1 / rate) * 1000);
        // Tighter goal (±0.01 sample) holds on these signals too.
        expect(Math.abs(a!.latency.samples - latency)).toBeLessThan(0.01);
        expect(a!.segments).toHaveLength(1);
        expect(a!.latency.confidence).toBeGreaterThan(0.5);
      });
    }
  }
});

describe('align: drift', () => {
  for (const rate of [44100, 48000]) {
    const ref = white(8 * rate, rate);
    for (const ppm of [200, -200, 50, -50, 0]) {
      it(`${ppm} ppm at ${rate} Hz over 8 s`, () => {
        const latency = 523.4;
        const a = align(ref, capture(ref, latency, 40, 5, ppm), rate)!;
        // Requirement ±5 ppm (goal ±0.5); measured |error| < 0.01 ppm at 40 dB SNR.
        expect(Math.abs(a.driftPpm - ppm)).toBeLessThan(0.5);
        expect(Math.abs(a.ratio - (1 + ppm * 1e-6))).toBeLessThan(0.5e-6);
        // No segments invented on a drifting capture.
        expect(a.segments).toHaveLength(1);
        // Latency is the offset at reference sample 0, unaffected by drift: ±0.01 sample.
        expect(Math.abs(a.latency.samples - latency)).toBeLessThan(0.01);
      });
    }
  }
});

describe('align: segments', () => {
  const rate = 48000;
  const ref = white(6 * rate, 21);
  for (const gapMs of [2, 10, 25]) {
    it(`a ${gapMs} ms gap gives two segments whose offsets differ by the gap`, () => {
      const latency = 300.25;
      const frames = Math.round((gapMs / 1000) * rate);
      const at = Math.round(2.5 * rate) + 123;
      const cap = removeSpan(capture(ref, latency, 50, 3), at, frames);
      const a = align(ref, cap, rate)!;
      expect(a.segments).toHaveLength(2);
      // Offsets differ by the frames lost (±1 sample per the requirement; measured < 0.01).
      expect(Math.abs(a.segments[0]!.offsetSamples - a.segments[1]!.offsetSamples - frames)).toBeLessThan(1);
      expect(Math.abs(a.latency.samples - latency)).toBeLessThan(0.01);
      // The boundary is block-accurate: within one block (4096) of the true gap.
      expect(Math.abs(a.segments[0]!.captureEnd - at)).toBeLessThan(a.blockSamples);
      expect(a.segments[0]!.captureStart).toBe(0);
      expect(a.segments[1]!.captureEnd).toBe(cap.length);
    });
  }

  it('inserted audio moves the next offset up by its length', () => {
    const base = capture(ref, 100, 50, 4);
    const at = 3 * rate;
    const inserted = white(480, 77);
    const cap = new Float32Array(base.length + 480);
    cap.set(base.subarray(0, at), 0);
    cap.set(inserted, at);
    cap.set(base.subarray(at), at + 480);
    const a = align(ref, cap, rate)!;
    expect(a.segments).toHaveLength(2);
    expect(Math.abs(a.segments[1]!.offsetSamples - a.segments[0]!.offsetSamples - 480)).toBeLessThan(1);
  });

  it('zero-fills and clicks keep one segment and the latency', () => {
    let cap = capture(ref, 1000.75, 50, 6);
    cap = zeroSpan(cap, 2 * rate, 480);
    cap = addClick(cap, 4 * rate + 17, 0.9);
    cap = addClick(cap, Math.round(1.3 * rate), -0.9);
    const a = align(ref, cap, rate)!;
    expect(a.segments).toHaveLength(1);
    expect(Math.abs(a.latency.samples - 1000.75)).toBeLessThan(0.01);
    expect(Math.abs(a.driftPpm)).toBeLessThan(0.5);
  });
});

describe('align: not found and ambiguous', () => {
  const rate = 48000;
  const ref = white(2 * rate, 31);
  it('returns null for unrelated noise and for silence', () => {
    expect(align(ref, white(5 * rate, 32), rate)).toBeNull();
    expect(align(ref, new Float32Array(5 * rate), rate)).toBeNull();
  });

  it('a pure sine gives low confidence and reports its period', () => {
    const sine = new Float32Array(2 * rate);
    for (let i = 0; i < sine.length; i++) sine[i] = 0.5 * Math.sin((2 * Math.PI * 1000 * i) / rate);
    const a = align(sine, capture(sine, 250, 40, 2), rate)!;
    expect(a).not.toBeNull();
    expect(a.latency.confidence).toBeLessThan(0.2);
    // 1 kHz at 48 kHz: period 48 samples (integer lags of the correlation: ±1).
    expect(Math.abs(a.ambiguityPeriodSamples! - 48)).toBeLessThanOrEqual(1);
  });

  it('a composite reference (tone, then noise, then sweep) aligns with high confidence', () => {
    const tone = new Float32Array(rate);
    for (let i = 0; i < tone.length; i++) tone[i] = 0.5 * Math.sin((2 * Math.PI * 997 * i) / rate);
    const composite = new Float32Array(4 * rate);
    composite.set(tone, 0);
    composite.set(white(rate, 33), rate + 4800);
    composite.set(logSweep(rate, rate), 2 * rate + 9600);
    const a = align(composite, capture(composite, 4321.6, 40, 8), rate)!;
    expect(a.latency.confidence).toBeGreaterThan(0.8);
    expect(Math.abs(a.latency.samples - 4321.6)).toBeLessThan(0.1);
  });
});

describe('alignedReference', () => {
  it('reproduces the capture of a drifting device (same map, same interpolator)', () => {
    const rate = 48000;
    const ref = white(rate, 41);
    const ppm = 120;
    const latency = 250.5;
    const cap = throughDevice(ref, { latencySamples: latency, driftPpm: ppm });
    const y = alignedReference(ref, [{ captureStart: 0, captureEnd: cap.length, offsetSamples: latency }], 1 + ppm * 1e-6, cap.length);
    let maxErr = 0;
    for (let i = 0; i < cap.length; i++) maxErr = Math.max(maxErr, Math.abs(y[i]! - cap[i]!));
    // Same positions through the same kernel: only float64 rounding of the positions differs (≪ 1e-6).
    expect(maxErr).toBeLessThan(1e-6);
    // Zero before the mapped region (the reference starts 250.5 samples in; the kernel reaches 32 samples back).
    for (let i = 0; i < 200; i++) expect(y[i]).toBe(0);
  });
});
