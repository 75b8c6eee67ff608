/**
 * Frequency and impulse response of the path reference → capture, from Welch-averaged spectra.
 *
 * Conventions:
 * - x = reference already mapped onto the capture timeline (aligned: latency and drift removed), y = capture.
 *   H(f) = S_xy(f) / S_xx(f), S_xy = Σ_frames conj(X)·Y, S_xx = Σ_frames |X|², frames of `fftSize` points
 *   (default 8192) under a Hann window with ≥ 50 % overlap, spanning each of the given clean ranges.
 *   Any broadband reference works (noise, sweeps, multitones); no sweep-specific deconvolution is needed.
 * - A bin "has reference energy" when S_xx ≥ 1e−6 × (max S_xx in 20 Hz…top), i.e. within 60 dB of the peak.
 *   Elsewhere H is unknown: it is left out of the magnitude curve and set to 0 for the impulse response.
 * - Magnitude curve: log-spaced points between 20 Hz and min(20 kHz, 0.45·rate); each point pools the bins
 *   within ±½ point spacing (H = Σ S_xy / Σ S_xx), or interpolates linearly between the two nearest bins when
 *   none falls inside. magnitudeDb is relative to the mean of magnitudeDb over points in 200 Hz – 2 kHz
 *   (over all points when none lies there), so a pure gain change reads flat.
 * - Impulse response: h = IFFT(H) (circular, N = fftSize), peak-normalised by |peak| (an inverted path shows
 *   −1), cut from `preSamples` before the peak to `postSamples` after it. It is band-limited to where the
 *   reference has energy (a 20 Hz–20 kHz sweep at 48 kHz gives a band-limited pulse with sinc side lobes);
 *   responses longer than the frame alias.
 */
import { realFft } from '../dsp/fft.js';
import type { FrequencyResponse, ImpulseResponse } from './types.js';

export interface CrossSpectrum {
  sampleRate: number;
  /** Frame length N, samples; bin k is at k·sampleRate/N Hz, k = 0…N/2. */
  fftSize: number;
  /** Number of frames averaged. */
  frames: number;
  /** S_xx per bin (N/2+1 values). */
  sxx: Float64Array;
  /** Re S_xy per bin. */
  sxyRe: Float64Array;
  /** Im S_xy per bin. */
  sxyIm: Float64Array;
}

export interface WelchOptions {
  /** Frame length, samples (power of two preferred). Default 8192; shrunk (≥ 1024) to fit the longest range. */
  fftSize?: number;
  /** Average at most this many frames, spread evenly over the ranges. Default 128 (≈ 11 s at 48 kHz). */
  maxFrames?: number;
}

const MIN_FFT_SIZE = 1024;

function hann(n: number): Float32Array {
  const w = new Float32Array(n);
  for (let i = 0; i < n; i++) w[i] = 0.5 - 0.5 * Math.cos((2 * Math.PI * i) / n);
  return w;
}

/** Samples [start, start + length) of a signal computed on demand (e.g. the aligned reference, frame by frame). */
export type FrameSource = (start: number, length: number) => Float32Array;

/**
 * Welch cross spectrum of x (aligned reference, an array or a FrameSource on the capture timeline) and y
 * (capture) over `ranges` ([start, end) sample ranges; default: the whole common length). null when no range
 * can hold a frame of 1024 samples.
 */
export function welchCrossSpectrum(
  x: Float32Array | FrameSource,
  y: Float32Array,
  sampleRate: number,
  ranges?: [number, number][],
  options: WelchOptions = {},
): CrossSpectrum | null {
  const len = typeof x === 'function' ? y.length : Math.min(x.length, y.length);
  const rs = (ranges ?? [[0, len]]).map(([s, e]) => [Math.max(0, s), Math.min(len, e)] as [number, number]).filter(([s, e]) => e > s);
  const longest = rs.reduce((m, [s, e]) => Math.max(m, e - s), 0);
  let n = options.fftSize ?? 8192;
  while (n > longest && n > MIN_FFT_SIZE) n >>= 1;
  if (n > longest) return null;
  const hop = n >> 1;
  const starts: number[] = [];
  for (const [s, e] of rs) {
    if (e - s < n) continue;
    // Frames from the range's first to its last possible start, spaced ≤ hop (≥ 50 % overlap), so the
    // ends of the range (e.g. the top of a sweep that ends the reference) are covered.
    const count = Math.ceil((e - s - n) / hop) + 1;
    const spacing = count > 1 ? (e - s - n) / (count - 1) : 0;
    for (let i = 0; i < count; i++) starts.push(s + Math.round(i * spacing));
  }
  const maxFrames = options.maxFrames ?? 128;
  const chosen = starts.length <= maxFrames ? starts : Array.from({ length: maxFrames }, (_, i) => starts[Math.floor((i * starts.length) / maxFrames)]!);
  const fft = realFft(n);
  const w = hann(n);
  const half = n / 2;
  const sxx = new Float64Array(half + 1);
  const sxyRe = new Float64Array(half + 1);
  const sxyIm = new Float64Array(half + 1);
  const bx = new Float32Array(n);
  const by = new Float32Array(n);
  const X = new Float32Array(n);
  const Y = new Float32Array(n);
  let frames = 0;
  for (const s of chosen) {
    const xs = typeof x === 'function' ? x(s, n) : x.subarray(s, s + n);
    let ex = 0;
    for (let i = 0; i < n; i++) {
      const v = w[i]! * xs[i]!;
      bx[i] = v;
      ex += v * v;
      by[i] = w[i]! * y[s + i]!;
    }
    frames++;
    if (ex === 0) continue; // silent reference frame: adds nothing to S_xx or S_xy
    fft.forward(bx, X);
    fft.forward(by, Y);
    // Ordered layout: [Re X0, Re X(N/2), Re X1, Im X1, …].
    sxx[0]! += X[0]! * X[0]!;
    sxyRe[0]! += X[0]! * Y[0]!;
    sxx[half]! += X[1]! * X[1]!;
    sxyRe[half]! += X[1]! * Y[1]!;
    for (let k = 1; k < half; k++) {
      const xr = X[2 * k]!, xi = X[2 * k + 1]!, yr = Y[2 * k]!, yi = Y[2 * k + 1]!;
      sxx[k]! += xr * xr + xi * xi;
      // conj(X)·Y
      sxyRe[k]! += xr * yr + xi * yi;
      sxyIm[k]! += xr * yi - xi * yr;
    }
  }
  return { sampleRate, fftSize: n, frames, sxx, sxyRe, sxyIm };
}

/** Bins k with S_xx ≥ 1e−6 × the band's max S_xx (see the header). */
function energyMask(cs: CrossSpectrum): Uint8Array {
  const half = cs.fftSize / 2;
  const binHz = cs.sampleRate / cs.fftSize;
  const kLo = Math.max(1, Math.ceil(20 / binHz));
  let peak = 0;
  for (let k = kLo; k <= half; k++) peak = Math.max(peak, cs.sxx[k]!);
  const mask = new Uint8Array(half + 1);
  if (!(peak > 0)) return mask;
  const floor = peak * 1e-6;
  for (let k = 0; k <= half; k++) mask[k] = cs.sxx[k]! >= floor ? 1 : 0;
  return mask;
}

export interface ResponseCurveOptions {
  /** Number of log-spaced points. Default 160. */
  points?: number;
  /** Lowest frequency, Hz. Default 20. */
  lowHz?: number;
  /** Highest frequency, Hz. Default min(20 kHz, 0.45·rate). */
  highHz?: number;
}

/**
 * Magnitude response (FrequencyResponse) from a cross spectrum; see the header for the conventions.
 * null when fewer than 8 points have reference energy.
 */
export function frequencyResponseFromSpectrum(cs: CrossSpectrum, options: ResponseCurveOptions = {}): FrequencyResponse | null {
  const points = options.points ?? 160;
  const lowHz = options.lowHz ?? 20;
  const highHz = options.highHz ?? Math.min(20000, 0.45 * cs.sampleRate);
  const half = cs.fftSize / 2;
  const binHz = cs.sampleRate / cs.fftSize;
  const mask = energyMask(cs);
  const ratio = (highHz / lowHz) ** (1 / (points - 1));
  const edge = Math.sqrt(ratio);
  const freqs: number[] = [];
  const mags: number[] = [];
  for (let i = 0; i < points; i++) {
    const f = lowHz * ratio ** i;
    const kA = Math.max(1, Math.ceil(f / edge / binHz));
    const kB = Math.min(half, Math.floor((f * edge) / binHz));
    let re = 0, im = 0, xx = 0;
    for (let k = kA; k <= kB; k++) {
      if (!mask[k]) continue;
      re += cs.sxyRe[k]!;
      im += cs.sxyIm[k]!;
      xx += cs.sxx[k]!;
    }
    let mag: number;
    if (kB >= kA) {
      if (!(xx > 0)) continue;
      mag = Math.hypot(re, im) / xx;
    } else {
      // No bin inside the point's band (low frequencies): interpolate |H| between the neighbouring bins.
      const k = Math.floor(f / binHz);
      if (k < 1 || k + 1 > half || !mask[k] || !mask[k + 1]) continue;
      const m0 = Math.hypot(cs.sxyRe[k]!, cs.sxyIm[k]!) / cs.sxx[k]!;
      const m1 = Math.hypot(cs.sxyRe[k + 1]!, cs.sxyIm[k + 1]!) / cs.sxx[k + 1]!;
      const a = f / binHz - k;
      mag = m0 + a * (m1 - m0);
    }
    freqs.push(f);
    mags.push(20 * Math.log10(Math.max(mag, 1e-12)));
  }
  if (freqs.length < 8) return null;
  let sum = 0, count = 0;
  for (let i = 0; i < freqs.length; i++) {
    if (freqs[i]! >= 200 && freqs[i]! <= 2000) {
      sum += mags[i]!;
      count++;
    }
  }
  const ref = count > 0 ? sum / count : mags.reduce((a, b) => a + b, 0) / mags.length;
  let ripple = 0;
  const magnitudeDb = mags.map((m) => {
    const v = m - ref;
    ripple = Math.max(ripple, Math.abs(v));
    return v;
  });
  return { frequencies: freqs, magnitudeDb, rippleDb: ripple, bandHz: [freqs[0]!, freqs[freqs.length - 1]!] };
}

export interface ImpulseWindowOptions {
  /** Samples kept before the peak. Default 256 (clamped to N/8). */
  preSamples?: number;
  /** Samples kept after the peak. Default 2048 (clamped to N/2). */
  postSamples?: number;
}

/** Fraction of the 20 Hz – min(20 kHz, 0.45·rate) bins that must hold reference energy for an impulse response. */
const MIN_IR_COVERAGE = 0.1;

/**
 * Impulse response from a cross spectrum (IFFT of H where the reference has energy); null when under 10 % of
 * the audio band's bins hold reference energy (a tone is not a broadband stimulus).
 */
export function impulseResponseFromSpectrum(cs: CrossSpectrum, options: ImpulseWindowOptions = {}): ImpulseResponse | null {
  const n = cs.fftSize;
  const half = n / 2;
  const pre = Math.min(options.preSamples ?? 256, n / 8);
  const post = Math.min(options.postSamples ?? 2048, n / 2);
  const mask = energyMask(cs);
  // A reference with energy in only a few bins (a tone) says nothing about the impulse response.
  const binHz = cs.sampleRate / n;
  const kLo = Math.max(1, Math.ceil(20 / binHz));
  const kHi = Math.min(half, Math.floor(Math.min(20000, 0.45 * cs.sampleRate) / binHz));
  let covered = 0;
  for (let k = kLo; k <= kHi; k++) covered += mask[k]!;
  if (covered < MIN_IR_COVERAGE * (kHi - kLo + 1)) return null;
  const H = new Float32Array(n);
  let any = false;
  // DC and Nyquist are real in the ordered layout; keep their real parts.
  if (mask[0] && cs.sxx[0]! > 0) H[0] = cs.sxyRe[0]! / cs.sxx[0]!;
  if (mask[half] && cs.sxx[half]! > 0) H[1] = cs.sxyRe[half]! / cs.sxx[half]!;
  for (let k = 1; k < half; k++) {
    if (!mask[k]) continue;
    const d = cs.sxx[k]!;
    H[2 * k] = cs.sxyRe[k]! / d;
    H[2 * k + 1] = cs.sxyIm[k]! / d;
    any = true;
  }
  if (!any) return null;
  const h = realFft(n).inverse(H);
  let peakIdx = 0, peak = 0;
  for (let i = 0; i < n; i++) {
    const a = Math.abs(h[i]!);
    if (a > peak) {
      peak = a;
      peakIdx = i;
    }
  }
  if (!(peak > 0)) return null;
  const out = new Float32Array(pre + post);
  for (let i = 0; i < pre + post; i++) out[i] = h[(((peakIdx - pre + i) % n) + n) % n]! / peak;
  return { sampleRate: cs.sampleRate, samples: out, preSamples: pre };
}

/** Magnitude response of capture y against aligned reference x over `ranges` (Welch, see the header). */
export function transferFunction(
  x: Float32Array,
  y: Float32Array,
  sampleRate: number,
  ranges?: [number, number][],
  options: WelchOptions & ResponseCurveOptions = {},
): FrequencyResponse | null {
  const cs = welchCrossSpectrum(x, y, sampleRate, ranges, options);
  return cs ? frequencyResponseFromSpectrum(cs, options) : null;
}

/** Impulse response of capture y against aligned reference x over `ranges` (Welch, see the header). */
export function impulseResponse(
  x: Float32Array,
  y: Float32Array,
  sampleRate: number,
  ranges?: [number, number][],
  options: WelchOptions & ImpulseWindowOptions = {},
): ImpulseResponse | null {
  const cs = welchCrossSpectrum(x, y, sampleRate, ranges, options);
  return cs ? impulseResponseFromSpectrum(cs, options) : null;
}
