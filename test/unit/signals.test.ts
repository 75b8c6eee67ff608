import { describe, expect, it } from 'vitest';
import { fftSize, multiplySpectra, realFft } from '../../src/dsp/fft.js';
import { isLoopcheckError } from '../../src/errors.js';
import {
  defaultMultitoneFrequencies,
  exponentialSweep,
  harmonicImpulseIndex,
  impulseFrame,
  impulseTrain,
  inverseFilter,
  latencyStimulus,
  multitone,
  pinkNoise,
  silence,
  sine,
  SIGNALS,
  steadyStimulus,
  sweepFrequencyAt,
  verificationStimulus,
  whiteNoise,
  type Stimulus,
} from '../../src/signals/index.js';

const FS = 48000;

function rms(x: Float32Array, from = 0, to = x.length): number {
  let s = 0;
  for (let i = from; i < to; i++) s += x[i]! * x[i]!;
  return Math.sqrt(s / (to - from));
}

function peak(x: Float32Array): number {
  let p = 0;
  for (const v of x) p = Math.max(p, Math.abs(v));
  return p;
}

const db = (v: number): number => 20 * Math.log10(v);

/** Upward zero crossings, linearly interpolated, in fractional samples. */
function upCrossings(x: Float32Array, from = 0, to = x.length): number[] {
  const out: number[] = [];
  for (let i = Math.max(1, from); i < to; i++) {
    const a = x[i - 1]!, b = x[i]!;
    if (a < 0 && b >= 0) out.push(i - 1 + a / (a - b));
  }
  return out;
}

/** Full linear convolution via one FFT (size ≥ a + b − 1). */
function convolve(a: Float32Array, b: Float32Array): Float32Array {
  const m = fftSize(a.length + b.length - 1);
  const f = realFft(m);
  const y = f.inverse(multiplySpectra(f.forward(a), f.forward(b), false));
  const out = new Float32Array(a.length + b.length - 1);
  for (let i = 0; i < out.length; i++) out[i] = y[i]! / m;
  return out;
}

/** |X(f)| in dB at the bin nearest `hz` of an ordered spectrum of size m. */
function binDb(spectrum: Float32Array, m: number, hz: number, sampleRate: number): number {
  const k = Math.round((hz * m) / sampleRate);
  return 10 * Math.log10(spectrum[2 * k]! ** 2 + spectrum[2 * k + 1]! ** 2);
}

/** Normalised autocorrelation r(lag)/r(0) for lags 0…maxLag (FFT, zero-padded: linear, not circular). */
function autocorrelation(x: Float32Array, maxLag: number): Float64Array {
  const m = fftSize(x.length + maxLag);
  const f = realFft(m);
  const X = f.forward(x);
  const r = f.inverse(multiplySpectra(X, X, true));
  const out = new Float64Array(maxLag + 1);
  for (let i = 0; i <= maxLag; i++) out[i] = r[i]! / r[0]!;
  return out;
}

function expectContiguous(s: Stimulus): void {
  const frames = s.channels[0]!.length;
  expect(s.sections[0]!.startFrame).toBe(0);
  for (let i = 1; i < s.sections.length; i++) {
    expect(s.sections[i]!.startFrame).toBe(s.sections[i - 1]!.startFrame + s.sections[i - 1]!.frames);
  }
  const last = s.sections.at(-1)!;
  expect(last.startFrame + last.frames).toBe(frames);
  for (const sec of s.sections) expect(sec.frames).toBeGreaterThan(0);
}

/** Sample-for-sample equality (vitest's deep toEqual is slow on 10⁵-element typed arrays). */
function same(a: Float32Array, b: Float32Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

function expectInvalidArgument(fn: () => unknown): void {
  try {
    fn();
  } catch (e) {
    expect(isLoopcheckError(e)).toBe(true);
    expect((e as { code: string }).code).toBe('INVALID_ARGUMENT');
    return;
  }
  expect.fail('expected LoopcheckError INVALID_ARGUMENT');
}

describe('exponential sweep', () => {
  const sweep = exponentialSweep(FS, { durationSeconds: 1 });
  const p = sweep.sweep;
  const x = sweep.channels[0]!;

  it('has the documented parameters and peak level', () => {
    expect(p.frames).toBe(FS);
    expect(p.startHz).toBe(20);
    expect(p.endHz).toBe(20000);
    // L = T / ln(f2/f1) = 1 / ln(1000).
    expect(p.rateSeconds).toBeCloseTo(1 / Math.log(1000), 12);
    // Peak −6 dBFS: the sweep reaches its crest between samples; at ≥ 2.4 samples per cycle the sampled
    // peak is within 0.1 dB of A (cos(π/ (2·2.4)) worst case is far lower, but the sweep spends thousands of
    // cycles near every frequency, so some sample lands within 0.1 dB of the crest).
    expect(Math.abs(db(peak(x)) - -6)).toBeLessThan(0.1);
    expect(peak(x)).toBeLessThanOrEqual(10 ** (-6 / 20) + 1e-7);
  });

  it('instantaneous frequency follows f1·exp(t/L)', () => {
    // One period from consecutive interpolated up-crossings, compared at its midpoint time. Errors: the
    // geometric vs arithmetic mean over one period, (P/L)²/24 < 0.2 % at ≥ 40 Hz; linear interpolation of a
    // crossing at ≥ 9.6 samples per cycle (≤ 5 kHz) is off by < 0.02 samples, < 0.2 % of the period.
    // Tolerance 0.5 % covers both.
    const crossings = upCrossings(x);
    for (const t of [0.1, 0.25, 0.4, 0.55, 0.7, 0.8]) {
      const i = crossings.findIndex((c) => c / FS >= t);
      const period = crossings[i + 1]! - crossings[i]!;
      const mid = (crossings[i]! + crossings[i + 1]!) / 2 / FS;
      const measured = FS / period;
      const expected = 20 * Math.exp(mid / p.rateSeconds);
      expect(Math.abs(measured / expected - 1)).toBeLessThan(0.005);
      expect(sweepFrequencyAt(p, mid)).toBeCloseTo(expected, 9);
    }
  });

  it('sweep ⊛ inverse filter is a band-limited unit impulse at N−1', () => {
    const inv = inverseFilter(FS, { durationSeconds: 1 });
    expect(inv.length).toBe(p.frames);
    const y = convolve(x, inv);
    let pi = 0;
    for (let i = 0; i < y.length; i++) if (Math.abs(y[i]!) > Math.abs(y[pi]!)) pi = i;
    expect(pi).toBe(p.frames - 1);
    // Normalised analytically to exactly 1 at N−1; the float32 FFT convolution adds ~1e-6 relative error.
    expect(y[pi]!).toBeCloseTo(1, 4);
    // Sidelobes: the 5 ms fade-out makes a ≈ 700 Hz transition band at 20 kHz, so the pulse rings for
    // ≈ 1/700 s ≈ 1.4 ms; outside ±2 ms everything must be ≥ 40 dB down (measured ≈ 57 dB).
    const guard = Math.round(0.002 * FS);
    let side = 0;
    for (let i = 0; i < y.length; i++) if (Math.abs(i - pi) > guard) side = Math.max(side, Math.abs(y[i]!));
    expect(db(y[pi]! / side)).toBeGreaterThanOrEqual(40);
    // Magnitude flat in band: 100 Hz … 15 kHz within ±0.25 dB of the 1 kHz value (measured 0.19 dB max; the
    // residual is Fresnel ripple from the sweep's ends, largest near f1 and f2, so the band stops short).
    const m = fftSize(y.length);
    const spec = realFft(m).forward(y);
    const ref = binDb(spec, m, 1000, FS);
    for (let hz = 100; hz <= 15000; hz *= 1.25) {
      expect(Math.abs(binDb(spec, m, hz, FS) - ref)).toBeLessThan(0.25);
    }
    // Out of band (21.5 kHz, above f2 and the fade's transition) is at least 40 dB down.
    expect(binDb(spec, m, 21500, FS) - ref).toBeLessThan(-40);
  });

  it('harmonic impulses appear L·ln(k) before the linear one', () => {
    // A memoryless polynomial y = x + 0.5·x² + 0.5·x³ puts 2nd and 3rd harmonics in the output; after
    // deconvolution their impulses must sit at (N−1) − L·ln(k)·fs. The harmonic pulse is not zero-phase (Farina's
    // sweep is not phase-synchronised), so its |peak| may land a sample or two off the envelope's centre: ±3.
    const inv = inverseFilter(FS, { durationSeconds: 1 });
    const distorted = x.map((v) => v + 0.5 * v * v + 0.5 * v * v * v);
    const y = convolve(distorted, inv);
    for (const k of [2, 3]) {
      const expected = harmonicImpulseIndex(p, k);
      const lo = Math.round(expected) - 200, hi = Math.round(expected) + 200;
      let best = lo;
      for (let i = lo; i <= hi; i++) if (Math.abs(y[i]!) > Math.abs(y[best]!)) best = i;
      expect(Math.abs(best - expected)).toBeLessThanOrEqual(3);
      // And it is a real pulse, above the linear pulse's sidelobes (≥ 40 dB down = 0.01, see above). Expected
      // size: harmonic amplitude 0.5·A²/2 = 0.0625 (k=2) or 0.5·A³/4 ≈ 0.016 (k=3) against A = 0.5, spread by
      // the non-zero-phase pulse; measured 0.11 (k=2, 0.5 samples off) and 0.023 (k=3, 1 sample off).
      expect(Math.abs(y[best]!)).toBeGreaterThan(0.01);
    }
  });

  it('rejects impossible settings', () => {
    expectInvalidArgument(() => exponentialSweep(FS, { endHz: 24000 }));
    expectInvalidArgument(() => exponentialSweep(FS, { startHz: 1000, endHz: 500 }));
    expectInvalidArgument(() => exponentialSweep(FS, { levelDbfs: 3 }));
    expectInvalidArgument(() => exponentialSweep(FS, { durationSeconds: -1 }));
    expectInvalidArgument(() => exponentialSweep(44100.5));
  });

  it('defaults endHz below Nyquist at low sample rates', () => {
    expect(exponentialSweep(16000).sweep.endHz).toBeCloseTo(0.46 * 16000, 9);
  });
});

describe('impulse train', () => {
  it('puts single-sample impulses at the documented frames and level', () => {
    const opts = { periodSeconds: 0.1, count: 5, offsetSeconds: 0.02, levelDbfs: -6 };
    const a = impulseTrain(FS, opts);
    const x = a.channels[0]!;
    expect(x.length).toBe(Math.round(0.02 * FS) + 5 * Math.round(0.1 * FS));
    const nonzero = [...x.keys()].filter((i) => x[i] !== 0);
    expect(nonzero).toEqual([0, 1, 2, 3, 4].map((k) => impulseFrame(FS, opts, k)));
    // Float32 rounding of 10^(−6/20): relative error < 6e-8.
    for (const i of nonzero) expect(x[i]!).toBeCloseTo(10 ** (-6 / 20), 6);
  });

  it('band-limited impulses peak at their frame and have no energy above the cutoff', () => {
    const opts = { bandLimitHz: 12000, count: 2, periodSeconds: 0.05 };
    const x = impulseTrain(FS, opts).channels[0]!;
    const c = impulseFrame(FS, opts, 1);
    expect(x[c]!).toBeCloseTo(0.5012, 4);
    expect(peak(x)).toBe(x[c]!);
    const m = fftSize(x.length);
    const spec = realFft(m).forward(x);
    // Blackman window: stop band ≥ 74 dB below the pass band past the transition (≈ 1.5 kHz wide for 129 taps
    // at 48 kHz: 5.5·fs/129 ≈ 2 kHz, so check from cutoff + 2.5 kHz). 60 dB leaves margin.
    const pass = binDb(spec, m, 3000, FS);
    for (let hz = 14500; hz < 23500; hz += 500) expect(binDb(spec, m, hz, FS) - pass).toBeLessThan(-60);
    // Pass band flat within 0.1 dB up to 8 kHz (a windowed sinc's ripple is ~0.002 dB).
    for (let hz = 100; hz <= 8000; hz *= 2) expect(Math.abs(binDb(spec, m, hz, FS) - pass)).toBeLessThan(0.1);
  });

  it('rejects overlapping kernels', () => {
    expectInvalidArgument(() => impulseTrain(FS, { bandLimitHz: 10000, periodSeconds: 0.001 }));
    expectInvalidArgument(() => impulseTrain(FS, { count: 0 }));
  });
});

describe('tones', () => {
  it('997 Hz sine: RMS = A/√2, frequency from zero crossings, whole cycles', () => {
    const x = sine(FS).channels[0]!;
    expect(x.length).toBe(FS);
    const a = 10 ** (-6 / 20);
    // 997 whole cycles in 1 s: the RMS of the sampled sine is exactly A/√2 up to float32 rounding (~1e-7).
    expect(rms(x) / (a / Math.SQRT2)).toBeCloseTo(1, 5);
    const c = upCrossings(x);
    // First crossing is at n = 0 (sin starts at 0, not counted as a < 0 → ≥ 0 transition), so 996 remain.
    const f = ((c.length - 1) * FS) / (c.at(-1)! - c[0]!);
    // Linear interpolation at 48 samples per cycle errs < 1e-4 samples per crossing over 48 000 samples: < 0.001 Hz.
    expect(Math.abs(f - 997)).toBeLessThan(0.01);
  });

  it('integerCycles snaps the frequency onto an FFT bin', () => {
    const n = 4800;
    const x = sine(FS, { frequencyHz: 1003.7, durationSeconds: n / FS, integerCycles: true, levelDbfs: -20 }).channels[0]!;
    const m = fftSize(n);
    expect(m).toBe(n);
    const spec = realFft(m).forward(x);
    let best = 1;
    for (let k = 1; k < m / 2; k++) if (spec[2 * k]! ** 2 + spec[2 * k + 1]! ** 2 > spec[2 * best]! ** 2 + spec[2 * best + 1]! ** 2) best = k;
    expect((best * FS) / m).toBe(1000); // 100.37 cycles → 100 cycles in 0.1 s
    // On-bin: |X_k| = A·N/2 and no leakage into neighbours (float32 FFT noise ≈ 1e-6 of the peak: < −100 dB).
    const amp = (2 * Math.hypot(spec[2 * best]!, spec[2 * best + 1]!)) / m;
    expect(amp).toBeCloseTo(0.1, 5);
    expect(db(Math.hypot(spec[2 * best + 2]!, spec[2 * best + 3]!) / (amp * (m / 2)))).toBeLessThan(-100);
  });

  it('multi-tone: known amplitudes at non-harmonic frequencies, peak −6 dBFS', () => {
    const mt = multitone(FS);
    const x = mt.channels[0]!;
    expect(db(peak(x))).toBeCloseTo(-6, 4);
    expect(mt.tones.length).toBe(16);
    // No tone is an integer multiple of another (primes × 1 Hz).
    for (const a of mt.tones) for (const b of mt.tones) if (b.frequencyHz > a.frequencyHz) expect(b.frequencyHz % a.frequencyHz).not.toBe(0);
    // 1 s at 1 Hz resolution: each tone sits on a bin of a 48000-point FFT, so 2|X_k|/N is its amplitude.
    // Float32 rounding and FFT noise are ~1e-6 of the amplitudes; tolerance 1e-3 relative.
    const m = fftSize(x.length);
    expect(m).toBe(FS);
    const spec = realFft(m).forward(x);
    for (const t of mt.tones) {
      const k = t.frequencyHz;
      const amp = (2 * Math.hypot(spec[2 * k]!, spec[2 * k + 1]!)) / m;
      expect(Math.abs(amp / t.amplitude - 1)).toBeLessThan(1e-3);
    }
    // All energy is in the tones: Σ a²/2 = RMS².
    const power = mt.tones.reduce((s, t) => s + t.amplitude ** 2 / 2, 0);
    expect(Math.abs(db(rms(x)) - 10 * Math.log10(power))).toBeLessThan(0.01);
  });

  it('Schroeder and Newman phases give a low crest factor for equally spaced tones', () => {
    // 32 harmonics of 100 Hz with equal amplitudes over 0.1 s (one period of 10 Hz grid: whole cycles).
    // Closed-form rules reach ≈ 5.5 dB here; all-sine-phase sums ≈ 15 dB (near the 18 dB in-phase limit). Bounds: < 6 vs > 10 dB.
    const freqs = Array.from({ length: 32 }, (_, k) => 100 * (k + 1));
    const crest = (v: Float32Array): number => db(peak(v) / rms(v));
    const opts = { frequenciesHz: freqs, durationSeconds: 0.1 };
    const schroeder = crest(multitone(FS, { ...opts, phases: 'schroeder' }).channels[0]!);
    const newman = crest(multitone(FS, { ...opts, phases: 'newman' }).channels[0]!);
    const zero = crest(multitone(FS, { ...opts, phases: 'zero' }).channels[0]!);
    expect(schroeder).toBeLessThan(6); // measured 5.6
    expect(newman).toBeLessThan(6); // measured 5.5
    expect(zero).toBeGreaterThan(10);
    // The default sparse prime set: no better than ~random phases, but bounded (measured ≈ 11.7 dB;
    // the all-in-phase limit for 16 tones is 10·log10(2·16) = 15.1 dB).
    expect(crest(multitone(FS).channels[0]!)).toBeLessThan(13);
  });

  it('default multi-tone frequencies can be put on a coarser grid', () => {
    const f = defaultMultitoneFrequencies(FS, { resolutionHz: 2 });
    for (const v of f) expect(v % 2).toBe(0);
    expect(new Set(f).size).toBe(f.length);
    expect(f.at(-1)!).toBeLessThan(0.4 * FS);
  });
});

describe('noise', () => {
  it('white: RMS on target, clipped at 4σ, seeded', () => {
    const a = whiteNoise(FS, { durationSeconds: 2, rmsDbfs: -20, seed: 42 });
    const x = a.channels[0]!;
    // The realisation is scaled to the target; float32 rounding leaves < 1e-5 dB. The spec allows ±0.2 dB.
    expect(Math.abs(db(rms(x)) - -20)).toBeLessThan(0.2);
    expect(Math.abs(db(rms(x)) - -20)).toBeLessThan(0.001);
    // Clipped at ±4σ of the unit gaussian, then scaled by target/RMS (RMS of 96 000 samples is 1 ± 0.5 %).
    expect(peak(x)).toBeLessThanOrEqual(4 * 0.1 * 1.01);
    // Mean ≈ 0: standard error of the mean is σ/√N = 0.1/310 ≈ 3e-4; allow 5 standard errors.
    expect(Math.abs(x.reduce((s, v) => s + v, 0) / x.length)).toBeLessThan(1.6e-3);
    expect(same(whiteNoise(FS, { durationSeconds: 2, rmsDbfs: -20, seed: 42 }).channels[0]!, x)).toBe(true);
    expect(same(whiteNoise(FS, { durationSeconds: 2, rmsDbfs: -20, seed: 43 }).channels[0]!, x)).toBe(false);
  });

  /** Welch-averaged power spectrum: Hann windows of `size`, 50 % overlap. Returns power per bin (linear). */
  function welch(x: Float32Array, size: number): Float64Array {
    const f = realFft(size);
    const w = new Float32Array(size);
    for (let i = 0; i < size; i++) w[i] = 0.5 - 0.5 * Math.cos((2 * Math.PI * i) / size);
    const p = new Float64Array(size / 2);
    const frame = new Float32Array(size);
    let count = 0;
    for (let start = 0; start + size <= x.length; start += size / 2) {
      for (let i = 0; i < size; i++) frame[i] = x[start + i]! * w[i]!;
      const s = f.forward(frame);
      for (let k = 1; k < size / 2; k++) p[k] = p[k]! + s[2 * k]! ** 2 + s[2 * k + 1]! ** 2;
      count++;
    }
    for (let k = 0; k < p.length; k++) p[k] = p[k]! / count;
    return p;
  }

  /** Least-squares slope of band power (dB) vs log2(f) over third-octave-ish bands 100 Hz … 10 kHz, dB/octave. */
  function slopeDbPerOctave(x: Float32Array): number {
    const size = 8192;
    const p = welch(x, size);
    const pts: [number, number][] = [];
    for (let lo = 100; lo * 1.26 <= 10000 * 1.001; lo *= 1.26) {
      const k0 = Math.ceil((lo * size) / FS), k1 = Math.floor((lo * 1.26 * size) / FS);
      let s = 0;
      for (let k = k0; k <= k1; k++) s += p[k]!;
      // Mean power density per bin in the band (so band width does not enter the slope).
      pts.push([Math.log2(lo * Math.sqrt(1.26)), 10 * Math.log10(s / (k1 - k0 + 1))]);
    }
    const mx = pts.reduce((s, q) => s + q[0], 0) / pts.length, my = pts.reduce((s, q) => s + q[1], 0) / pts.length;
    const num = pts.reduce((s, q) => s + (q[0] - mx) * (q[1] - my), 0), den = pts.reduce((s, q) => s + (q[0] - mx) ** 2, 0);
    return num / den;
  }

  it('pink: RMS on target, −3 dB/octave from 100 Hz to 10 kHz, seeded', () => {
    const x = pinkNoise(FS, { durationSeconds: 10, rmsDbfs: -20, seed: 3 }).channels[0]!;
    expect(Math.abs(db(rms(x)) - -20)).toBeLessThan(0.2);
    // Kellet's filter is within ±0.05 dB of −3.01 dB/oct; 116 Welch frames leave ~0.4 dB scatter per band,
    // which the fit over 20 bands averages down. The spec allows ±1 dB/oct.
    const slope = slopeDbPerOctave(x);
    expect(Math.abs(slope - -3.01)).toBeLessThan(1);
    expect(Math.abs(slope - -3.01)).toBeLessThan(0.3);
    // The same estimator reads white noise as flat (±0.3 dB/oct): the test can tell pink from white.
    expect(Math.abs(slopeDbPerOctave(whiteNoise(FS, { durationSeconds: 10, seed: 3 }).channels[0]!))).toBeLessThan(0.3);
    const short = pinkNoise(FS, { durationSeconds: 0.5, seed: 3 }).channels[0]!;
    expect(same(pinkNoise(FS, { durationSeconds: 0.5, seed: 3 }).channels[0]!, short)).toBe(true);
    expect(same(pinkNoise(FS, { durationSeconds: 0.5, seed: 4 }).channels[0]!, short)).toBe(false);
    expect(peak(x)).toBeLessThanOrEqual(4 * 0.1 * 1.01);
  });

  it('refuses levels that would clip', () => {
    expectInvalidArgument(() => whiteNoise(FS, { rmsDbfs: -6 }));
    expectInvalidArgument(() => pinkNoise(FS, { seed: -1 }));
  });
});

describe('silence and channels', () => {
  it('silence is all zeros of the requested length', () => {
    const a = silence(FS, { durationSeconds: 0.25, channels: 2 });
    expect(a.channels.length).toBe(2);
    expect(a.channels[0]!.length).toBe(12000);
    expect(peak(a.channels[0]!)).toBe(0);
    expect(peak(a.channels[1]!)).toBe(0);
  });

  it('the channels option puts the same signal on every channel', () => {
    for (const a of [sine(FS, { channels: 3 }), pinkNoise(FS, { channels: 2 }), exponentialSweep(FS, { channels: 2 }), verificationStimulus(FS, { channels: 2 })]) {
      expect(a.channels.length).toBeGreaterThan(1);
      for (const ch of a.channels) expect(same(ch, a.channels[0]!)).toBe(true);
      expect(a.channels[1] === a.channels[0]).toBe(false); // separate buffers
    }
    expectInvalidArgument(() => sine(FS, { channels: 0 }));
  });
});

describe('verification stimulus', () => {
  const s = verificationStimulus(FS);
  const x = s.channels[0]!;

  it('has contiguous sections covering the signal, in the documented order', () => {
    expectContiguous(s);
    expect(s.sections.map((q) => q.kind)).toEqual(['silence', 'noise', 'sweep', 'tone', 'multitone', 'silence']);
    expect(x.length).toBe(Math.round(3.4 * FS));
  });

  it('peaks at or below −1 dBFS, starts broadband after a silent lead-in', () => {
    expect(db(peak(x))).toBeLessThanOrEqual(-1);
    const lead = s.sections[0]!;
    expect(peak(x.subarray(0, lead.frames))).toBe(0);
    expect(peak(x.subarray(x.length - s.sections.at(-1)!.frames))).toBe(0);
    // The first 10 ms after the lead-in already carry noise at its level (−16 dBFS RMS ± 3 dB; 2 ms fade-in).
    expect(Math.abs(db(rms(x, lead.frames, lead.frames + 480)) - -16)).toBeLessThan(3);
  });

  it('sections hold what their params say', () => {
    const tone = s.sections.find((q) => q.kind === 'tone')!;
    // Inner 0.4 s of the tone (clear of the 2 ms fades): RMS = A/√2 to 0.01 dB (398.8 cycles: the partial
    // cycle moves the mean of sin² by < 1/(4π·398) ≈ 2e-4, i.e. < 0.001 dB).
    const inner = [tone.startFrame + 2400, tone.startFrame + tone.frames - 2400] as const;
    expect(Math.abs(db(rms(x, ...inner)) - (-6 - db(Math.SQRT2)))).toBeLessThan(0.01);
    const noise = s.sections.find((q) => q.kind === 'noise')!;
    expect(Math.abs(db(rms(x, noise.startFrame, noise.startFrame + noise.frames)) - noise.params.rmsDbfs!)).toBeLessThan(0.2);
    const sweep = s.sections.find((q) => q.kind === 'sweep')!;
    expect(sweep.params.startHz).toBe(20);
    expect(sweep.params.endHz).toBe(20000);
    expect(sweep.frames).toBe(FS);
  });

  it('is not periodic: no autocorrelation peak above 0.5 for lags 1 ms … 2 s', () => {
    // Measured worst: 0.455 at 1.00 ms (the 0.5 s 997 Hz tone's period) for the verification stimulus,
    // 0.155 for the steady stimulus (0.15–0.18 over seeds 1–5).
    const r = autocorrelation(x, 2 * FS);
    let worst = 0;
    for (let lag = FS / 1000; lag <= 2 * FS; lag++) worst = Math.max(worst, Math.abs(r[lag]!));
    expect(worst).toBeLessThan(0.5);
  });

  it('latency stimulus: silence, white noise burst, silence', () => {
    const l = latencyStimulus(FS);
    expectContiguous(l);
    expect(l.sections.map((q) => q.kind)).toEqual(['silence', 'noise', 'silence']);
    expect(db(peak(l.channels[0]!))).toBeLessThanOrEqual(-1);
  });
});

describe('steady stimulus', () => {
  const s = steadyStimulus(FS);
  const x = s.channels[0]!;
  const lead = Math.round(0.1 * FS);

  it('is 10 s by default with contiguous sections, peak ≤ −1 dBFS, seeded', () => {
    expect(x.length).toBe(10 * FS);
    expectContiguous(s);
    expect(s.sections[0]!.kind).toBe('silence');
    expect(s.sections[0]!.frames).toBe(lead);
    expect(s.sections[1]!.kind).toBe('noise');
    expect(db(peak(x))).toBeLessThanOrEqual(-1);
    expect(peak(x.subarray(0, lead))).toBe(0);
    // Tone and multitone segments ≤ 0.5 s (+ at most 44 ms absorbed remainder); others 0.5–1 s.
    for (const sec of s.sections.slice(1)) {
      if (sec.kind === 'tone' || sec.kind === 'multitone') expect(sec.frames).toBeLessThanOrEqual(0.545 * FS);
      else expect(sec.frames).toBeLessThanOrEqual(1.045 * FS);
    }
    const kinds = new Set(s.sections.map((q) => q.kind));
    for (const k of ['noise', 'sweep', 'tone', 'multitone']) expect(kinds.has(k as never)).toBe(true);
    expect(same(steadyStimulus(FS, 10).channels[0]!, x)).toBe(true);
    expect(same(steadyStimulus(FS, 10, { seed: 2 }).channels[0]!, x)).toBe(false);
  });

  it('has no silent 5 ms window after the lead-in', () => {
    // Sliding 5 ms RMS (hop 1 ms). "Silent" would be < −60 dBFS; segments sit at −12…−18 dBFS RMS and the
    // quietest window (a low-frequency tone near a zero crossing) measures −22.8 dBFS; require > −40 dBFS.
    const w = Math.round(0.005 * FS);
    let quietest = Infinity;
    for (let start = lead; start + w <= x.length; start += 48) quietest = Math.min(quietest, rms(x, start, start + w));
    expect(db(quietest)).toBeGreaterThan(-40);
  });

  it('is not periodic: no autocorrelation peak above 0.5 for lags 1 ms … 2 s', () => {
    // Measured worst: 0.455 at 1.00 ms (the 0.5 s 997 Hz tone's period) for the verification stimulus,
    // 0.155 for the steady stimulus (0.15–0.18 over seeds 1–5).
    const r = autocorrelation(x, 2 * FS);
    let worst = 0;
    for (let lag = FS / 1000; lag <= 2 * FS; lag++) worst = Math.max(worst, Math.abs(r[lag]!));
    expect(worst).toBeLessThan(0.5);
  });

  it('any length works and stays gap-free', () => {
    for (const seconds of [0.25, 1.3, 2.777]) {
      const t = steadyStimulus(44100, seconds);
      expect(t.channels[0]!.length).toBe(Math.round(seconds * 44100));
      expectContiguous(t);
      expect(db(peak(t.channels[0]!))).toBeLessThanOrEqual(-1);
    }
    expectInvalidArgument(() => steadyStimulus(FS, 0.11));
  });
});

describe('registry', () => {
  it('every committed signal builds at 44.1 and 48 kHz, peaks ≤ −1 dBFS and has a description and purpose', () => {
    for (const [name, entry] of Object.entries(SIGNALS)) {
      expect(entry.description.length, name).toBeGreaterThan(10);
      expect(entry.purpose.length, name).toBeGreaterThan(10);
      for (const fs of [44100, 48000]) {
        const a = entry.make(fs);
        expect(a.sampleRate).toBe(fs);
        expect(a.channels[0]!.length).toBeGreaterThan(0);
        if (name !== 'silence') expect(db(peak(a.channels[0]!)), name).toBeLessThanOrEqual(-1);
      }
    }
  });
});
