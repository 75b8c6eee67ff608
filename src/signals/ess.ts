/**
 * Farina exponential (logarithmic) sine sweep and its inverse filter.
 *
 * Conventions:
 * - Sweep: x[n] = A·sin(2π·f1·L·(exp(t/L) − 1)), t = n / sampleRate, n = 0 … N−1, with
 *   L = T / ln(f2/f1) ("rate", seconds) and T = N / sampleRate. Instantaneous frequency f(t) = f1·exp(t/L).
 *   A is the peak amplitude (levelDbfs is peak dBFS). Raised-cosine fades at both ends avoid clicks.
 * - Inverse filter: inv[n] = x[N−1−n] · w[N−1−n] / C with w[m] = exp((m − (N−1)) / (sampleRate·L)) = f(t_m)/f(t_N−1):
 *   the time-reversed sweep with an amplitude envelope proportional to the instantaneous frequency, i.e. falling
 *   6 dB per octave as the reversed sweep descends. This compensates the sweep's pink (−3 dB/octave) energy
 *   spectrum. C = Σ x[m]²·w[m] makes (x ⊛ inv)[N−1] exactly 1: the deconvolved impulse is a band-limited
 *   (f1…f2) pulse at index N−1 with peak 1.
 * - Harmonics (Farina 2000): after deconvolving a distorted sweep, the k-th harmonic's impulse response sits
 *   L·ln(k) seconds BEFORE the linear one, i.e. at index (N−1) − L·ln(k)·sampleRate.
 */
import type { Audio } from '../audio.js';
import { applyFades, checkFrequency, checkLevelDbfs, checkSampleRate, dbfsToAmplitude, framesFor, invalid, replicate } from './build.js';

export interface SweepOptions {
  /** Start frequency f1, Hz. Default 20. */
  startHz?: number;
  /** End frequency f2, Hz (< Nyquist). Default min(20000, 0.46·sampleRate). */
  endHz?: number;
  /** Sweep length T, seconds. Default 1. */
  durationSeconds?: number;
  /** Peak level, dBFS. Default −6. */
  levelDbfs?: number;
  /** Raised-cosine fade-in, seconds. Default 0.005. */
  fadeInSeconds?: number;
  /** Raised-cosine fade-out, seconds. Default 0.005. */
  fadeOutSeconds?: number;
  /** Same sweep on every channel. Default 1. */
  channels?: number;
}

/** Everything needed to deconvolve the sweep and to locate harmonic impulses. */
export interface SweepParameters {
  sampleRate: number;
  startHz: number;
  endHz: number;
  /** N, sweep length in frames. */
  frames: number;
  /** T = N / sampleRate, seconds. */
  durationSeconds: number;
  /** L = T / ln(f2/f1), seconds: time for the frequency to grow by a factor e. */
  rateSeconds: number;
  /** Peak amplitude A (linear). */
  amplitude: number;
  fadeInFrames: number;
  fadeOutFrames: number;
}

export type Sweep = Audio & { sweep: SweepParameters };

/** Resolves defaults and validates; pure. */
export function sweepParameters(sampleRate: number, options: SweepOptions = {}): SweepParameters {
  checkSampleRate(sampleRate);
  const startHz = options.startHz ?? 20;
  const endHz = options.endHz ?? Math.min(20000, 0.46 * sampleRate);
  checkFrequency('startHz', startHz, sampleRate);
  checkFrequency('endHz', endHz, sampleRate);
  if (!(endHz > startHz)) throw invalid(`endHz (${endHz}) must be above startHz (${startHz})`, 'sweep upwards: startHz < endHz');
  const levelDbfs = options.levelDbfs ?? -6;
  checkLevelDbfs('levelDbfs', levelDbfs);
  const frames = framesFor('durationSeconds', options.durationSeconds ?? 1, sampleRate, 64);
  const fadeInFrames = framesFor('fadeInSeconds', options.fadeInSeconds ?? 0.005, sampleRate, 0);
  const fadeOutFrames = framesFor('fadeOutSeconds', options.fadeOutSeconds ?? 0.005, sampleRate, 0);
  if (fadeInFrames + fadeOutFrames > frames) {
    throw invalid(`fades (${fadeInFrames} + ${fadeOutFrames} frames) are longer than the sweep (${frames})`, 'shorten the fades');
  }
  const durationSeconds = frames / sampleRate;
  return {
    sampleRate,
    startHz,
    endHz,
    frames,
    durationSeconds,
    rateSeconds: durationSeconds / Math.log(endHz / startHz),
    amplitude: dbfsToAmplitude(levelDbfs),
    fadeInFrames,
    fadeOutFrames,
  };
}

/** The sweep as float64 samples (faded), for internal use by the inverse filter. */
function sweepSamples(p: SweepParameters): Float64Array {
  const x = new Float64Array(p.frames);
  const L = p.rateSeconds;
  const k = 2 * Math.PI * p.startHz * L;
  for (let n = 0; n < p.frames; n++) {
    const t = n / p.sampleRate;
    // Phase 2π·f1·L·(e^(t/L) − 1): its derivative / 2π is f1·e^(t/L). expm1 keeps the start exact.
    x[n] = p.amplitude * Math.sin(k * Math.expm1(t / L));
  }
  applyFades(x, p.fadeInFrames, p.fadeOutFrames);
  return x;
}

/** Exponential sine sweep f1 → f2 (see file header). */
export function exponentialSweep(sampleRate: number, options: SweepOptions = {}): Sweep {
  const p = sweepParameters(sampleRate, options);
  const audio = replicate(Float32Array.from(sweepSamples(p)), sampleRate, options.channels ?? 1);
  return { ...audio, sweep: p };
}

/**
 * Inverse filter of `exponentialSweep(sampleRate, options)`: length N, mono Float32Array.
 * Convolving the sweep (N) with it (full convolution, 2N−1) gives a band-limited pulse of peak 1 at index N−1.
 * Computed from the float32-rounded sweep so the normalisation matches what is actually played.
 */
export function inverseFilter(sampleRate: number, options: SweepOptions = {}): Float32Array {
  const p = sweepParameters(sampleRate, options);
  const x = Float64Array.from(Float32Array.from(sweepSamples(p)));
  const n = p.frames;
  const perFrame = 1 / (p.sampleRate * p.rateSeconds);
  // Envelope w[m] = e^((m − (N−1))/(fs·L)) = f(t_m) / f(t_(N−1)): proportional to the instantaneous frequency.
  const w = new Float64Array(n);
  let c = 0;
  for (let m = 0; m < n; m++) {
    w[m] = Math.exp((m - (n - 1)) * perFrame);
    c += x[m]! * x[m]! * w[m]!;
  }
  const inv = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const m = n - 1 - i;
    inv[i] = (x[m]! * w[m]!) / c;
  }
  return inv;
}

/** Instantaneous frequency of the sweep at time t seconds from its first sample, Hz: f1·e^(t/L). */
export function sweepFrequencyAt(p: SweepParameters, tSeconds: number): number {
  return p.startHz * Math.exp(tSeconds / p.rateSeconds);
}

/** How much earlier than the linear impulse the k-th harmonic's impulse appears, seconds: L·ln(k). */
export function harmonicAdvanceSeconds(p: SweepParameters, k: number): number {
  if (!Number.isInteger(k) || k < 1) throw invalid(`harmonic order must be an integer ≥ 1, got ${k}`, 'use k = 2 for the 2nd harmonic');
  return p.rateSeconds * Math.log(k);
}

/** Index of the k-th harmonic's impulse in the full convolution sweep ⊛ inverse (fractional): (N−1) − L·ln(k)·fs. */
export function harmonicImpulseIndex(p: SweepParameters, k: number): number {
  return p.frames - 1 - harmonicAdvanceSeconds(p, k) * p.sampleRate;
}
