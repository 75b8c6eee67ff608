/**
 * THD+N of a tone: fit the fundamental exactly (frequency, amplitude, phase, DC by least squares), subtract it,
 * and compare what is left with the whole signal, both band-limited to 20 Hz – 20 kHz (or Nyquist).
 *
 * Conventions:
 * - thdPlusNoiseDb = 10·log10(P_residual / P_total), powers measured in the band [20 Hz, min(20 kHz, rate/2)]
 *   like an audio analyser's 20 kHz measurement filter. Negative; more negative = cleaner. A 1 % 2nd harmonic
 *   gives −40 dB; a float32-rounded clean tone gives about −150 dB (24-bit mantissa rounding noise).
 * - Band powers come from a Hann-windowed periodogram: P_band = (1/M)·Σ_{bins in band, both sides}|V_k|² / Σw²
 *   with V = FFT_M(w·x) zero-padded to M points. The window keeps out-of-band content (DC, hum below 20 Hz)
 *   from leaking in.
 * - Sinusoid model: x[n] ≈ A·sin(2π·f·n/rate + φ) + dc, n from the first sample of the segment.
 */
import { fftSize, realFft } from '../dsp/fft.js';
import { LoopcheckError } from '../errors.js';

/** The usual test frequency: 997 Hz (a prime, so the tone never lines up with the sample grid). */
export const THDN_FUNDAMENTAL_HZ = 997;
/** Lower edge of the THD+N measurement band, Hz. */
export const THDN_BAND_LOW_HZ = 20;
/** Upper edge of the THD+N measurement band, Hz (capped at Nyquist). */
export const THDN_BAND_HIGH_HZ = 20000;

/** Samples below which a fit is refused: a few periods are needed to tell the tone from the rest. */
const MIN_FIT_SAMPLES = 256;

export interface SinusoidFit {
  /** Fitted frequency, Hz (exact to the least-squares optimum, not to an FFT bin). */
  frequencyHz: number;
  /** Peak amplitude A (linear). */
  amplitude: number;
  /** Phase φ at the segment's first sample, radians, of A·sin(2π·f·n/rate + φ). */
  phaseRad: number;
  /** Fitted DC offset (linear). */
  dc: number;
  /** x − fit, sample for sample (float64). */
  residual: Float64Array;
}

function hann(n: number): Float64Array {
  const w = new Float64Array(n);
  if (n === 1) w[0] = 1;
  for (let i = 0; i < n && n > 1; i++) w[i] = 0.5 - 0.5 * Math.cos((2 * Math.PI * i) / (n - 1));
  return w;
}

/** Solves the symmetric k×k system A·s = b in place (Gaussian elimination, partial pivoting). */
function solve(a: Float64Array, b: Float64Array, k: number): Float64Array | null {
  for (let col = 0; col < k; col++) {
    let piv = col;
    for (let r = col + 1; r < k; r++) if (Math.abs(a[r * k + col]!) > Math.abs(a[piv * k + col]!)) piv = r;
    if (a[piv * k + col] === 0) return null;
    if (piv !== col) {
      for (let c = 0; c < k; c++) {
        const t = a[col * k + c]!;
        a[col * k + c] = a[piv * k + c]!;
        a[piv * k + c] = t;
      }
      const t = b[col]!;
      b[col] = b[piv]!;
      b[piv] = t;
    }
    for (let r = col + 1; r < k; r++) {
      const f = a[r * k + col]! / a[col * k + col]!;
      if (f === 0) continue;
      for (let c = col; c < k; c++) a[r * k + c]! -= f * a[col * k + c]!;
      b[r]! -= f * b[col]!;
    }
  }
  const s = new Float64Array(k);
  for (let r = k - 1; r >= 0; r--) {
    let acc = b[r]!;
    for (let c = r + 1; c < k; c++) acc -= a[r * k + c]! * s[c]!;
    s[r] = acc / a[r * k + r]!;
  }
  return s;
}

/**
 * Least squares of x on the given basis columns, float64 normal equations accumulated in one pass.
 * Columns are scaled to comparable norms by the caller, which keeps the 4×4 system well conditioned.
 */
function leastSquares(x: ArrayLike<number>, columns: Float64Array[]): Float64Array | null {
  const k = columns.length;
  const n = x.length;
  const ata = new Float64Array(k * k);
  const atb = new Float64Array(k);
  const c0 = columns[0]!, c1 = columns[1]!, c2 = columns[2]!, c3 = k > 3 ? columns[3]! : columns[2]!;
  // Sums for up to four columns: s_ij = Σ ci·cj, b_i = Σ ci·x.
  let s00 = 0, s01 = 0, s02 = 0, s03 = 0, s11 = 0, s12 = 0, s13 = 0, s22 = 0, s23 = 0, s33 = 0;
  let b0 = 0, b1 = 0, b2 = 0, b3 = 0;
  for (let m = 0; m < n; m++) {
    const v0 = c0[m]!, v1 = c1[m]!, v2 = c2[m]!, v3 = c3[m]!, xm = x[m]!;
    s00 += v0 * v0; s01 += v0 * v1; s02 += v0 * v2; s03 += v0 * v3;
    s11 += v1 * v1; s12 += v1 * v2; s13 += v1 * v3;
    s22 += v2 * v2; s23 += v2 * v3; s33 += v3 * v3;
    b0 += v0 * xm; b1 += v1 * xm; b2 += v2 * xm; b3 += v3 * xm;
  }
  const full = [s00, s01, s02, s03, s01, s11, s12, s13, s02, s12, s22, s23, s03, s13, s23, s33];
  const bs = [b0, b1, b2, b3];
  for (let i = 0; i < k; i++) {
    atb[i] = bs[i]!;
    for (let j = 0; j < k; j++) ata[i * k + j] = full[i * 4 + j]!;
  }
  return solve(ata, atb, k);
}

/**
 * cos(ω·t) and sin(ω·t) for t = m − half, m = 0…n−1, by complex rotation re-anchored with Math.cos/sin every
 * 512 samples (rounding drift stays below 1e−13, far under the −150 dB float32 floor).
 */
function fillTrig(omega: number, half: number, cosOut: Float64Array, sinOut: Float64Array): void {
  const n = cosOut.length;
  const cr = Math.cos(omega), sr = Math.sin(omega);
  for (let m0 = 0; m0 < n; m0 += 512) {
    let c = Math.cos(omega * (m0 - half));
    let s = Math.sin(omega * (m0 - half));
    const end = Math.min(n, m0 + 512);
    for (let m = m0; m < end; m++) {
      cosOut[m] = c;
      sinOut[m] = s;
      const c2 = c * cr - s * sr;
      s = s * cr + c * sr;
      c = c2;
    }
  }
}

/**
 * Frequency (Hz) of the largest Hann-windowed FFT peak within ±searchHz of approxHz, refined by a parabola
 * through the log magnitudes of the peak bin and its neighbours (good to a few hundredths of a bin).
 */
export function spectralPeakHz(x: ArrayLike<number>, sampleRate: number, approxHz: number, searchHz: number): number {
  const n = x.length;
  const size = fftSize(n);
  const w = hann(n);
  const v = new Float32Array(size);
  for (let i = 0; i < n; i++) v[i] = w[i]! * x[i]!;
  const spec = realFft(size).forward(v);
  const binHz = sampleRate / size;
  const power = (k: number): number => (k === 0 ? spec[0]! ** 2 : spec[2 * k]! ** 2 + spec[2 * k + 1]! ** 2);
  const lo = Math.max(1, Math.floor((approxHz - searchHz) / binHz));
  const hi = Math.min(size / 2 - 2, Math.ceil((approxHz + searchHz) / binHz));
  let best = lo;
  for (let k = lo; k <= hi; k++) if (power(k) > power(best)) best = k;
  const a = Math.log(power(best - 1) + 1e-300);
  const b = Math.log(power(best) + 1e-300);
  const c = Math.log(power(best + 1) + 1e-300);
  const denom = a - 2 * b + c;
  const delta = denom < 0 ? Math.max(-0.5, Math.min(0.5, (0.5 * (a - c)) / denom)) : 0;
  return (best + delta) * binHz;
}

/**
 * Fits x[n] ≈ A·sin(2π·f·n/rate + φ) + dc by nonlinear least squares (IEEE 1057 four-parameter sine fit):
 * start from the FFT peak near `approxHz` (searched within ±searchHz), then Gauss–Newton on (a, b, dc, ω)
 * with time centred and scaled to [−1, 1], and a final three-parameter linear fit at the converged ω.
 */
export function fitSinusoid(x: ArrayLike<number>, sampleRate: number, approxHz: number, searchHz = 60): SinusoidFit {
  const n = x.length;
  if (n < MIN_FIT_SAMPLES) {
    throw new LoopcheckError('INVALID_ARGUMENT', `a sine fit needs at least ${MIN_FIT_SAMPLES} samples, got ${n}`, {
      hint: 'pass a longer tone segment',
    });
  }
  const half = (n - 1) / 2;
  let omega = (2 * Math.PI * spectralPeakHz(x, sampleRate, approxHz, searchHz)) / sampleRate; // rad/sample
  const cosCol = new Float64Array(n);
  const sinCol = new Float64Array(n);
  const ones = new Float64Array(n).fill(1);
  const dCol = new Float64Array(n);
  fillTrig(omega, half, cosCol, sinCol);
  let p = leastSquares(x, [cosCol, sinCol, ones]);
  if (!p) throw new LoopcheckError('INTERNAL', 'sine fit: singular system', { hint: 'report this input' });
  let a = p[0]!, b = p[1]!;
  for (let iter = 0; iter < 12; iter++) {
    // ∂/∂(ω·half) of a·cos(ωt) + b·sin(ωt) = τ·(−a·sin(ωt) + b·cos(ωt)), τ = t/half ∈ [−1, 1].
    for (let m = 0; m < n; m++) dCol[m] = ((m - half) / half) * (-a * sinCol[m]! + b * cosCol[m]!);
    const q = leastSquares(x, [cosCol, sinCol, ones, dCol]);
    if (!q) break;
    const step = q[3]! / half;
    a = q[0]!;
    b = q[1]!;
    omega += step;
    fillTrig(omega, half, cosCol, sinCol);
    // Converged when the phase change the step makes across the segment is below 1e−8 rad (≈ −160 dB).
    if (Math.abs(step) * n < 1e-8) break;
  }
  p = leastSquares(x, [cosCol, sinCol, ones]);
  if (!p) throw new LoopcheckError('INTERNAL', 'sine fit: singular system', { hint: 'report this input' });
  a = p[0]!;
  b = p[1]!;
  const dc = p[2]!;
  const residual = new Float64Array(n);
  for (let m = 0; m < n; m++) residual[m] = x[m]! - (a * cosCol[m]! + b * sinCol[m]! + dc);
  // a·cos(ω(n−half)) + b·sin(ω(n−half)) = A·sin(ωn − ω·half + θ) with A·sin θ = a, A·cos θ = b.
  let phase = Math.atan2(a, b) - omega * half;
  phase = Math.atan2(Math.sin(phase), Math.cos(phase));
  return { frequencyHz: (omega * sampleRate) / (2 * Math.PI), amplitude: Math.hypot(a, b), phaseRad: phase, dc, residual };
}

/**
 * Mean-square power of x within [loHz, hiHz] (linear, full scale 1.0 ⇒ sine of peak 1 has power 0.5), from a
 * Hann-windowed periodogram (see the header for the formula).
 */
export function bandPower(x: ArrayLike<number>, sampleRate: number, loHz: number, hiHz: number): number {
  const n = x.length;
  const size = fftSize(n);
  const w = hann(n);
  const v = new Float32Array(size);
  let w2 = 0;
  for (let i = 0; i < n; i++) {
    v[i] = w[i]! * x[i]!;
    w2 += w[i]! * w[i]!;
  }
  const spec = realFft(size).forward(v);
  const binHz = sampleRate / size;
  let sum = 0;
  const k0 = Math.max(0, Math.ceil(loHz / binHz));
  const k1 = Math.min(size / 2, Math.floor(hiHz / binHz));
  for (let k = k0; k <= k1; k++) {
    if (k === 0) sum += spec[0]! ** 2;
    else if (k === size / 2) sum += spec[1]! ** 2;
    else sum += 2 * (spec[2 * k]! ** 2 + spec[2 * k + 1]! ** 2);
  }
  return sum / size / w2;
}

/** The THD+N measurement band for a rate: [20 Hz, min(20 kHz, rate/2)]. */
export function thdnBandHz(sampleRate: number): [number, number] {
  return [THDN_BAND_LOW_HZ, Math.min(THDN_BAND_HIGH_HZ, sampleRate / 2)];
}

/** Residual and total band powers of one tone segment (linear mean-square). */
export interface ThdnPowers {
  residualPower: number;
  totalPower: number;
  fit: SinusoidFit;
}

/** Fits the fundamental near `fundamentalHz` and measures both band powers (see the header). */
export function thdnPowers(x: ArrayLike<number>, sampleRate: number, fundamentalHz = THDN_FUNDAMENTAL_HZ): ThdnPowers {
  const fit = fitSinusoid(x, sampleRate, fundamentalHz);
  const [lo, hi] = thdnBandHz(sampleRate);
  return { residualPower: bandPower(fit.residual, sampleRate, lo, hi), totalPower: bandPower(x, sampleRate, lo, hi), fit };
}

/**
 * THD+N of a segment holding a tone near `fundamentalHz`, dB (10·log10(residual / total), 20 Hz – 20 kHz).
 * Throws INVALID_ARGUMENT for segments shorter than 256 samples or with no power in the band.
 */
export function thdPlusNoiseDb(x: ArrayLike<number>, sampleRate: number, fundamentalHz = THDN_FUNDAMENTAL_HZ): number {
  const p = thdnPowers(x, sampleRate, fundamentalHz);
  if (!(p.totalPower > 0)) {
    throw new LoopcheckError('INVALID_ARGUMENT', 'THD+N of a silent segment is undefined', { hint: 'pass a segment holding the tone' });
  }
  return 10 * Math.log10(Math.max(p.residualPower, 1e-300) / p.totalPower);
}

/**
 * THD+N over several capture ranges [start, end) of `x`, dB: each range is fitted on its own (a gap between
 * ranges may jump the phase), and the powers are pooled weighted by range length. null when no range is
 * at least 256 samples long or the ranges hold no power.
 */
export function thdPlusNoiseOverRangesDb(
  x: Float32Array,
  ranges: [number, number][],
  sampleRate: number,
  fundamentalHz = THDN_FUNDAMENTAL_HZ,
): number | null {
  let res = 0;
  let tot = 0;
  for (const [s, e] of ranges) {
    if (e - s < MIN_FIT_SAMPLES) continue;
    const p = thdnPowers(x.subarray(s, e), sampleRate, fundamentalHz);
    res += p.residualPower * (e - s);
    tot += p.totalPower * (e - s);
  }
  if (!(tot > 0)) return null;
  return 10 * Math.log10(Math.max(res, 1e-300) / tot);
}

export interface ToneSearchOptions {
  /** Tone frequency, Hz. Default 997. */
  toneHz?: number;
  /** Allowed deviation of the tone from toneHz, Hz. Default 20. */
  toleranceHz?: number;
  /** Analysis window, seconds. Default 0.05. */
  windowSeconds?: number;
  /** Fraction of a window's energy that must lie at the tone. Default 0.99. */
  minFraction?: number;
  /** Windows quieter than this mean-square power (linear) are not tones. Default 1e−8 (−80 dBFS). */
  minPower?: number;
}

/**
 * Ranges [start, end) of x (samples) where x is a pure tone near toneHz.
 *
 * Windows of `windowSeconds` (Hann, hop ½ window) qualify when ≥ minFraction of their energy lies within
 * ±(toleranceHz + 2/window) of toneHz — the Hann main lobe adds ±2 bins (±40 Hz at 50 ms) to the ±20 Hz the
 * tone may be off. Overlapping qualifying windows merge into runs; each run is then trimmed by one window at
 * both ends (the coarse window grid and any fades must not leak into the fit).
 */
export function findToneRanges(x: Float32Array, sampleRate: number, options: ToneSearchOptions = {}): [number, number][] {
  const toneHz = options.toneHz ?? THDN_FUNDAMENTAL_HZ;
  const tolHz = options.toleranceHz ?? 20;
  let win = Math.max(64, Math.round((options.windowSeconds ?? 0.05) * sampleRate));
  const minFraction = options.minFraction ?? 0.99;
  const minPower = options.minPower ?? 1e-8;
  const hop = Math.max(1, win >> 1);
  win = 2 * hop; // a whole number of blocks (below)
  const size = fftSize(2 * win);
  const fft = realFft(size);
  const w = hann(win);
  let w2 = 0;
  for (let i = 0; i < win; i++) w2 += w[i]! * w[i]!;
  const binHz = sampleRate / size;
  const bandHz = tolHz + (2 * sampleRate) / win;
  const k0 = Math.max(1, Math.ceil((toneHz - bandHz) / binHz));
  const k1 = Math.min(size / 2 - 1, Math.floor((toneHz + bandHz) / binHz));
  const v = new Float32Array(size);
  const spec = new Float32Array(size);
  const runs: [number, number][] = [];
  // Cheap pre-filter before the FFT: a tone at f crosses its mean ≈ 2·f·win/rate times per window. Counted per
  // half-window block (about the block's own mean), a window being two consecutive blocks.
  const expectedCrossings = (2 * toneHz * win) / sampleRate;
  const minCrossings = Math.floor(0.7 * (expectedCrossings - (2 * tolHz * win) / sampleRate)) - 2;
  const maxCrossings = Math.ceil(1.3 * (expectedCrossings + (2 * tolHz * win) / sampleRate)) + 2;
  const blocks = Math.floor(x.length / hop);
  const blockCrossings = new Int32Array(blocks);
  for (let b = 0; b < blocks; b++) {
    const s0 = b * hop;
    let mean = 0;
    for (let i = s0; i < s0 + hop; i++) mean += x[i]!;
    mean /= hop;
    let crossings = 0;
    let prev = x[s0]! >= mean;
    for (let i = s0 + 1; i < s0 + hop; i++) {
      const cur = x[i]! >= mean;
      if (cur !== prev) crossings++;
      prev = cur;
    }
    blockCrossings[b] = crossings;
  }
  for (let s = 0; s + win <= x.length; s += hop) {
    const b = s / hop;
    const crossings = blockCrossings[b]! + (b + 1 < blocks ? blockCrossings[b + 1]! : 0);
    if (crossings < minCrossings || crossings > maxCrossings) continue;
    let energy = 0;
    for (let i = 0; i < win; i++) {
      const t = w[i]! * x[s + i]!;
      v[i] = t;
      energy += t * t;
    }
    if (energy / w2 < minPower) continue;
    fft.forward(v, spec);
    let inBand = 0;
    for (let k = k0; k <= k1; k++) inBand += spec[2 * k]! ** 2 + spec[2 * k + 1]! ** 2;
    // Parseval, one-sided: Σ|v|² = (|V0|² + |V_{M/2}|² + 2·Σ_{0<k<M/2}|Vk|²) / M.
    if ((2 * inBand) / size < minFraction * energy) continue;
    const last = runs[runs.length - 1];
    if (last && s <= last[1]) last[1] = s + win;
    else runs.push([s, s + win]);
  }
  const out: [number, number][] = [];
  for (const [s, e] of runs) if (e - win > s + win) out.push([s + win, e - win]);
  return out;
}
