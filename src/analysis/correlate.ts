/**
 * Cross-correlation: FFT (overlap-save, float32, for searches over many lags) and time-domain float64 (for the
 * few lags where exactness matters).
 *
 * Convention: c[k] = Σ_n a[n + k] · b[n]. A positive lag k means b's content appears k samples LATER in a
 * (a = capture, b = reference ⇒ k is the latency). Samples outside an array count as zero.
 */
import { fftSize, realFft } from '../dsp/fft.js';

export interface Correlation {
  /** Lag of values[0], samples. */
  firstLag: number;
  /** values[i] = c[firstLag + i] (unnormalised). */
  values: Float32Array;
}

/**
 * c[k] for k ∈ [−maxLag, maxLag], or over every lag with overlap ([−(b.length − 1), a.length − 1]) when maxLag is
 * omitted. FFT based; float32 precision (relative error ~1e-6 of the largest value).
 */
export function crossCorrelate(a: Float32Array, b: Float32Array, maxLag?: number): Correlation {
  if (maxLag === undefined) return crossCorrelateRange(a, b, -(b.length - 1), a.length - 1);
  return crossCorrelateRange(a, b, -Math.floor(maxLag), Math.floor(maxLag));
}

/**
 * c[k] for every integer k in [minLag, maxLag] by overlap-save: b's spectrum is computed once, a is processed in
 * blocks of L = fftSize(≈4·|b|) points giving L − |b| + 1 lags each. Cost O((|a| + lags) · log |b|); memory O(lags).
 * `out` (length ≥ lags), when given, receives the values instead of a new array (e.g. a view into a larger signal).
 */
export function crossCorrelateRange(a: Float32Array, b: Float32Array, minLag: number, maxLag: number, out?: Float32Array): Correlation {
  const lags = maxLag - minLag + 1;
  if (!(lags > 0)) throw new RangeError(`crossCorrelateRange: empty lag range [${minLag}, ${maxLag}]`);
  if (out && out.length < lags) throw new RangeError(`crossCorrelateRange: out holds ${out.length} values, need ${lags}`);
  const values = out ? out.subarray(0, lags) : new Float32Array(lags);
  if (out) values.fill(0);
  const m = b.length;
  if (m === 0 || a.length === 0) return { firstLag: minLag, values };
  // Blocks of ≈4·|b| (at least 16384 points, so short kernels do not pay the per-FFT overhead thousands of times).
  const size = fftSize(Math.max(2 * m, Math.min(m + lags - 1, Math.max(4 * m, 16384))));
  const hop = size - m + 1;
  const fft = realFft(size);
  const spectrumB = fft.forward(b);
  const scale = 1 / size;
  for (let lag0 = minLag; lag0 <= maxLag; lag0 += hop) {
    // The block is a[lag0 + j], j = 0…size−1, zero outside a.
    const from = Math.max(0, lag0);
    const to = Math.min(a.length, lag0 + size);
    if (to <= from) continue; // no overlap: c = 0 for this block's lags
    // Circular correlation is exact (no wrap) for k ≤ size − m, i.e. the first `hop` values.
    const count = Math.min(hop, maxLag - lag0 + 1);
    fft.correlateBlock(a.subarray(from, to), from - lag0, spectrumB, scale, values, lag0 - minLag, count);
  }
  return { firstLag: minLag, values };
}

/** Σ a[aStart + n] · b[bStart + n], n = 0…length−1, in float64; out-of-range samples count as zero. */
export function dotAt(a: ArrayLike<number>, aStart: number, b: ArrayLike<number>, bStart: number, length: number): number {
  const n0 = Math.max(0, -aStart, -bStart);
  const n1 = Math.min(length, a.length - aStart, b.length - bStart);
  let acc = 0;
  for (let n = n0; n < n1; n++) acc += a[aStart + n]! * b[bStart + n]!;
  return acc;
}

/** Σ x[start + n]², n = 0…length−1, in float64; out-of-range samples count as zero. */
export function energyAt(x: ArrayLike<number>, start: number, length: number): number {
  const n0 = Math.max(0, start);
  const n1 = Math.min(x.length, start + length);
  let acc = 0;
  for (let i = n0; i < n1; i++) acc += x[i]! * x[i]!;
  return acc;
}

/**
 * Normalised correlation of a[aStart + lag …] with b[bStart …] over `length` samples, for each lag in `lags`:
 * ρ = Σ a·b / √(Σa² · Σb²) ∈ [−1, 1], float64 time domain (0 when either side has no energy).
 */
export function normalizedCorrelationAt(
  a: ArrayLike<number>,
  aStart: number,
  b: ArrayLike<number>,
  bStart: number,
  length: number,
  lags: readonly number[],
): number[] {
  const eb = energyAt(b, bStart, length);
  return lags.map((lag) => {
    const ea = energyAt(a, aStart + lag, length);
    if (ea <= 0 || eb <= 0) return 0;
    return dotAt(a, aStart + lag, b, bStart, length) / Math.sqrt(ea * eb);
  });
}

/**
 * Sliding window energies of x over [k, k + length) for k = firstLag…firstLag + count − 1 (zero outside x), float64
 * running sum, re-summed exactly every 65536 lags so rounding cannot accumulate. Written into `out` (float32).
 */
export function slidingEnergy(x: Float32Array, firstLag: number, length: number, count: number, out = new Float32Array(count)): Float32Array {
  let e = 0;
  const n = x.length;
  for (let i0 = 0; i0 < count; i0 += 0x10000) {
    const i1 = Math.min(count, i0 + 0x10000);
    e = energyAt(x, firstLag + i0, length);
    out[i0] = e;
    for (let i = i0 + 1; i < i1; i++) {
      const leaving = firstLag + i - 1;
      const entering = leaving + length;
      if (leaving >= 0 && entering < n) {
        // Interior: both ends inside x (the common case), no further checks.
        const a = x[leaving]!, b = x[entering]!;
        e += b * b - a * a;
      } else {
        if (leaving >= 0 && leaving < n) e -= x[leaving]! * x[leaving]!;
        if (entering >= 0 && entering < n) e += x[entering]! * x[entering]!;
      }
      if (e < 0) e = 0;
      out[i] = e;
    }
  }
  return out;
}
