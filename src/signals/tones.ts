/**
 * Sine tone and multi-tone.
 *
 * Conventions:
 * - sine: x[n] = A·sin(2π·f·n/fs + φ), A = 10^(levelDbfs/20) (peak dBFS, equal to the AES17 level of a sine),
 *   so RMS = A/√2. With `integerCycles`, f is moved to the nearest frequency with a whole number of cycles in
 *   the signal (f = round(f·N/fs)·fs/N), which puts it exactly on an FFT bin of an N-point transform.
 * - multi-tone: x[n] = Σ a_k·sin(2π·f_k·n/fs + φ_k), tones sorted by frequency. Phase rules:
 *   'schroeder' (default) — Schroeder (1970) for an arbitrary power spectrum: φ_k = −2π·Σ_{j<k} (n_k − n_j)·p_j
 *   with n_k = f_k/f0 the harmonic number over the multi-tone's fundamental f0 (largest common divisor of the
 *   frequencies, at least 1/duration; 1/duration when they share none) and p_j = a_j²/Σa².
 *   For equally spaced tones this is the classic ≈ 4–5 dB crest factor. For the default sparse, log-spaced
 *   tones no phase rule does much better than random phases (measured ≈ 11.7 dB for 16 tones over 1 s, vs ≈ 12.5
 *   for all-zero and Newman phases): the sum of few, widely spread sinusoids behaves like noise.
 *   'newman' — φ_k = π·k²/K (k = 0…K−1), low crest for equally spaced tones only. 'zero' — all 0 (sine phase).
 *   The relative amplitudes are scaled together so the largest |sample| is exactly `peakDbfs`; the resulting
 *   a_k are returned in `tones` (known amplitudes for the analysis).
 * - Default multi-tone frequencies are resolutionHz·p for primes p near log-spaced targets: no tone is an
 *   integer multiple (harmonic) of another, and each has a whole number of cycles in 1/resolutionHz seconds.
 */
import type { Audio } from '../audio.js';
import { applyFades, checkFrequency, checkLevelDbfs, checkSampleRate, dbfsToAmplitude, framesFor, invalid, replicate } from './build.js';

export interface SineOptions {
  /** Hz. Default 997 (a prime, so it is not a sub-multiple of common sample rates). */
  frequencyHz?: number;
  /** Peak dBFS. Default −6. */
  levelDbfs?: number;
  /** Seconds. Default 1. */
  durationSeconds?: number;
  /** Starting phase, radians. Default 0. */
  phaseRad?: number;
  /** Snap the frequency to a whole number of cycles over the signal. Default false. */
  integerCycles?: boolean;
  /** Raised-cosine fade in and out, seconds each. Default 0 (no fades). */
  fadeSeconds?: number;
  channels?: number;
}

/** Nearest frequency with a whole number (≥ 1) of cycles in `frames` frames at `sampleRate`, Hz. */
export function integerCycleFrequency(frequencyHz: number, frames: number, sampleRate: number): number {
  const cycles = Math.max(1, Math.round((frequencyHz * frames) / sampleRate));
  return (cycles * sampleRate) / frames;
}

/** The sine's actual frequency (after `integerCycles` snapping), Hz. */
export function sineFrequency(sampleRate: number, options: SineOptions = {}): number {
  const f = options.frequencyHz ?? 997;
  if (!options.integerCycles) return f;
  return integerCycleFrequency(f, framesFor('durationSeconds', options.durationSeconds ?? 1, sampleRate), sampleRate);
}

export function sine(sampleRate: number, options: SineOptions = {}): Audio {
  checkSampleRate(sampleRate);
  const frames = framesFor('durationSeconds', options.durationSeconds ?? 1, sampleRate);
  const f = sineFrequency(sampleRate, options);
  checkFrequency('frequencyHz', f, sampleRate);
  const levelDbfs = options.levelDbfs ?? -6;
  checkLevelDbfs('levelDbfs', levelDbfs);
  const a = dbfsToAmplitude(levelDbfs);
  const phase = options.phaseRad ?? 0;
  const x = new Float64Array(frames);
  const w = (2 * Math.PI * f) / sampleRate;
  for (let n = 0; n < frames; n++) x[n] = a * Math.sin(w * n + phase);
  const fade = framesFor('fadeSeconds', options.fadeSeconds ?? 0, sampleRate, 0);
  if (2 * fade > frames) throw invalid(`fades (2 × ${fade} frames) exceed the tone (${frames} frames)`, 'shorten fadeSeconds');
  applyFades(x, fade, fade);
  return replicate(Float32Array.from(x), sampleRate, options.channels ?? 1);
}

export type PhaseRule = 'schroeder' | 'newman' | 'zero';

export interface ToneComponent {
  frequencyHz: number;
  /** Linear peak amplitude of this component. */
  amplitude: number;
  phaseRad: number;
}

export interface MultitoneOptions {
  /** Tone frequencies, Hz. Default: defaultMultitoneFrequencies(sampleRate). */
  frequenciesHz?: number[];
  /** Relative amplitudes (same length as frequencies). Default all 1. */
  relativeAmplitudes?: number[];
  /** Peak of the sum, dBFS. Default −6. */
  peakDbfs?: number;
  /** Phase rule (see file header). Default 'schroeder'. */
  phases?: PhaseRule;
  /** Seconds. Default 1. */
  durationSeconds?: number;
  /** Raised-cosine fade in and out, seconds each. Default 0. */
  fadeSeconds?: number;
  channels?: number;
}

export type Multitone = Audio & { tones: ToneComponent[] };

function isPrime(n: number): boolean {
  if (n < 2) return false;
  for (let d = 2; d * d <= n; d++) if (n % d === 0) return false;
  return true;
}

/** Nearest prime to x (ties go down). */
function nearestPrime(x: number): number {
  const r = Math.max(2, Math.round(x));
  for (let d = 0; ; d++) {
    if (isPrime(r - d)) return r - d;
    if (isPrime(r + d)) return r + d;
  }
}

export interface MultitoneFrequencyOptions {
  /** Default 16. */
  count?: number;
  /** Default 50 Hz. */
  lowHz?: number;
  /** Default min(16000, 0.4·sampleRate). */
  highHz?: number;
  /** Every frequency is a (prime) multiple of this, Hz. Default 1. Use 1/durationSeconds for integer cycles. */
  resolutionHz?: number;
}

/** resolutionHz·p for distinct primes p nearest to `count` log-spaced targets in [lowHz, highHz]. */
export function defaultMultitoneFrequencies(sampleRate: number, options: MultitoneFrequencyOptions = {}): number[] {
  checkSampleRate(sampleRate);
  const count = options.count ?? 16;
  const lowHz = options.lowHz ?? 50;
  const highHz = options.highHz ?? Math.min(16000, 0.4 * sampleRate);
  const res = options.resolutionHz ?? 1;
  if (!Number.isInteger(count) || count < 1) throw invalid(`count must be an integer ≥ 1, got ${count}`, 'use 16');
  if (!(res > 0) || !(lowHz > 0) || !(highHz > lowHz)) {
    throw invalid(`need 0 < lowHz < highHz and resolutionHz > 0 (got ${lowHz}, ${highHz}, ${res})`, 'use the defaults');
  }
  checkFrequency('highHz', highHz, sampleRate);
  const out: number[] = [];
  let last = 0;
  for (let i = 0; i < count; i++) {
    const target = count === 1 ? lowHz : lowHz * (highHz / lowHz) ** (i / (count - 1));
    let p = nearestPrime(target / res);
    // Keep them distinct and ascending: if two targets land on one prime, take the next prime up.
    if (p <= last) {
      p = last + 1;
      while (!isPrime(p)) p++;
    }
    last = p;
    out.push(p * res);
  }
  return out;
}

/**
 * Fundamental of the multi-tone's period: the largest f0 ≥ 1/seconds of which every frequency is a whole
 * multiple (Euclid on the frequencies, tolerance 1e-6 Hz); 1/seconds when there is none.
 */
function fundamentalHz(freqs: number[], seconds: number): number {
  const tolerance = 1e-6;
  let g = freqs[0]!;
  for (const f of freqs.slice(1)) {
    let a = Math.max(g, f), b = Math.min(g, f);
    while (b > tolerance) [a, b] = [b, a % b];
    g = a;
  }
  const ok = freqs.every((f) => Math.abs(f / g - Math.round(f / g)) * g < 1e-4);
  return ok && g >= 1 / seconds ? g : 1 / seconds;
}

/** Phases for tones (ascending frequencies) of relative amplitudes `rel` over a signal of T seconds, radians. */
function phasesFor(rule: PhaseRule, freqs: number[], rel: number[], seconds: number): number[] {
  const count = freqs.length;
  switch (rule) {
    case 'newman':
      return freqs.map((_, k) => (Math.PI * k * k) / count);
    case 'zero':
      return freqs.map(() => 0);
    case 'schroeder': {
      const total = rel.reduce((s, a) => s + a * a, 0);
      const f0 = fundamentalHz(freqs, seconds);
      return freqs.map((fk, k) => {
        let phi = 0;
        for (let j = 0; j < k; j++) phi -= 2 * Math.PI * ((fk - freqs[j]!) / f0) * ((rel[j]! * rel[j]!) / total);
        // Reduce modulo 2π so the reported phase is readable (sin is 2π-periodic; exact reduction in float64).
        return phi - 2 * Math.PI * Math.floor(phi / (2 * Math.PI));
      });
    }
  }
}

export function multitone(sampleRate: number, options: MultitoneOptions = {}): Multitone {
  checkSampleRate(sampleRate);
  const frames = framesFor('durationSeconds', options.durationSeconds ?? 1, sampleRate);
  const freqs = options.frequenciesHz ?? defaultMultitoneFrequencies(sampleRate);
  if (freqs.length === 0) throw invalid('frequenciesHz is empty', 'pass at least one frequency');
  for (const f of freqs) checkFrequency('frequenciesHz[]', f, sampleRate);
  const rel = options.relativeAmplitudes ?? freqs.map(() => 1);
  if (rel.length !== freqs.length || rel.some((a) => !(a >= 0) || !Number.isFinite(a)) || !rel.some((a) => a > 0)) {
    throw invalid('relativeAmplitudes must be finite, ≥ 0, not all 0, one per frequency', 'pass one amplitude per frequency or omit it');
  }
  const peakDbfs = options.peakDbfs ?? -6;
  checkLevelDbfs('peakDbfs', peakDbfs);
  const rule = options.phases ?? 'schroeder';
  if (!['schroeder', 'newman', 'zero'].includes(rule)) {
    throw invalid(`unknown phase rule ${JSON.stringify(rule)}`, "use 'schroeder', 'newman' or 'zero'");
  }
  for (let k = 1; k < freqs.length; k++) {
    if (!(freqs[k]! > freqs[k - 1]!)) throw invalid('frequenciesHz must be strictly ascending', 'sort the frequencies and remove duplicates');
  }
  const fade = framesFor('fadeSeconds', options.fadeSeconds ?? 0, sampleRate, 0);
  if (2 * fade > frames) throw invalid(`fades (2 × ${fade} frames) exceed the signal (${frames} frames)`, 'shorten fadeSeconds');

  const x = new Float64Array(frames);
  const phases = phasesFor(rule, freqs, rel, frames / sampleRate);
  for (let k = 0; k < freqs.length; k++) {
    const w = (2 * Math.PI * freqs[k]!) / sampleRate;
    const a = rel[k]!;
    const ph = phases[k]!;
    if (a === 0) continue;
    for (let n = 0; n < frames; n++) x[n] = x[n]! + a * Math.sin(w * n + ph);
  }
  // Scale so the unfaded peak is exactly peakDbfs (fades only lower samples).
  let peak = 0;
  for (let n = 0; n < frames; n++) peak = Math.max(peak, Math.abs(x[n]!));
  const scale = dbfsToAmplitude(peakDbfs) / peak;
  for (let n = 0; n < frames; n++) x[n] = x[n]! * scale;
  applyFades(x, fade, fade);
  const audio = replicate(Float32Array.from(x), sampleRate, options.channels ?? 1);
  const tones = freqs.map((f, k) => ({ frequencyHz: f, amplitude: rel[k]! * scale, phaseRad: phases[k]! }));
  return { ...audio, tones };
}
