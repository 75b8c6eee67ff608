/**
 * Level metrics over the aligned, dropout-free region: gain, SNR, bit-exactness.
 *
 * `alignedRef` is the reference on the capture timeline (alignedReference() in align.ts): zero outside the mapped
 * region. The measured region is [first, last] non-zero sample of `alignedRef`, minus the `excluded` capture ranges
 * ([start, end), from dropout detection).
 */
import type { Alignment } from './types.js';

/** Capture ranges [start, end) to measure: the mapped span of alignedRef minus `excluded`. */
export function levelRegion(alignedRef: Float32Array, excluded: readonly (readonly [number, number])[]): [number, number][] {
  let first = 0;
  while (first < alignedRef.length && alignedRef[first] === 0) first++;
  let last = alignedRef.length - 1;
  while (last >= first && alignedRef[last] === 0) last--;
  if (last < first) return [];
  const cuts = excluded
    .map(([a, b]) => [Math.max(first, Math.floor(a)), Math.min(last + 1, Math.ceil(b))] as [number, number])
    .filter(([a, b]) => b > a)
    .sort((x, y) => x[0] - y[0]);
  const out: [number, number][] = [];
  let at = first;
  for (const [a, b] of cuts) {
    if (a > at) out.push([at, a]);
    at = Math.max(at, b);
  }
  if (at < last + 1) out.push([at, last + 1]);
  return out;
}

/** Σ capture·ref and Σ ref² over the region, float64. */
function projections(capture: Float32Array, alignedRef: Float32Array, region: [number, number][]): { cross: number; refEnergy: number } {
  let cross = 0;
  let refEnergy = 0;
  for (const [a, b] of region) {
    const end = Math.min(b, capture.length);
    for (let i = a; i < end; i++) {
      const r = alignedRef[i]!;
      cross += capture[i]! * r;
      refEnergy += r * r;
    }
  }
  return { cross, refEnergy };
}

/**
 * Least-squares linear gain g = Σ c·r / Σ r² over the region, as gainDb = 20·log10(capture / reference)
 * (design.md convention). Null when the region holds no reference energy or the gain is not positive
 * (an inverted capture reads as null, not as a level).
 */
export function gainDb(capture: Float32Array, alignedRef: Float32Array, excluded: readonly (readonly [number, number])[]): number | null {
  const g = linearGain(capture, alignedRef, levelRegion(alignedRef, excluded));
  return g !== null && g > 0 ? 20 * Math.log10(g) : null;
}

function linearGain(capture: Float32Array, alignedRef: Float32Array, region: [number, number][]): number | null {
  const { cross, refEnergy } = projections(capture, alignedRef, region);
  return refEnergy > 0 ? cross / refEnergy : null;
}

/** SNR reported for a residual of exactly zero (bit-exact / noise-free), dB. */
export const MAX_SNR_DB = 200;

/**
 * SNR, dB: signal = g·ref, noise = capture − g·ref over the region (g = least-squares gain), 10·log10(Σ(g·ref)² /
 * Σ noise²), capped at MAX_SNR_DB. Everything the aligned reference does not explain counts as noise: distortion,
 * residual misalignment, and the interpolator's stop band: alignedReference() is flat only to 0.9 × Nyquist, so on
 * full-band content (white noise to Nyquist) the top 10 % of the band limits the measurable SNR.
 */
export function snrDb(capture: Float32Array, alignedRef: Float32Array, excluded: readonly (readonly [number, number])[]): number | null {
  const region = levelRegion(alignedRef, excluded);
  const g = linearGain(capture, alignedRef, region);
  if (g === null || !(g > 0)) return null;
  let signal = 0;
  let noise = 0;
  for (const [a, b] of region) {
    const end = Math.min(b, capture.length);
    for (let i = a; i < end; i++) {
      const s = g * alignedRef[i]!;
      const e = capture[i]! - s;
      signal += s * s;
      noise += e * e;
    }
  }
  if (noise === 0) return MAX_SNR_DB;
  return Math.min(MAX_SNR_DB, 10 * Math.log10(signal / noise));
}

/**
 * True when the capture holds the reference unchanged: one segment, integer latency (within 1e-3 sample), no drift
 * (|ratio − 1| · reference length < 0.01 sample), gain exactly 1, and capture[n + latency] === reference[n] for every
 * reference sample (the whole reference must lie inside the capture).
 */
export function bitExact(reference: Float32Array, capture: Float32Array, alignment: Alignment): boolean {
  if (alignment.segments.length !== 1 || reference.length === 0) return false;
  const latency = alignment.segments[0]!.offsetSamples;
  const lag = Math.round(latency);
  if (Math.abs(latency - lag) > 1e-3) return false;
  if (Math.abs(alignment.ratio - 1) * reference.length >= 0.01) return false;
  if (lag < 0 || lag + reference.length > capture.length) return false;
  for (let n = 0; n < reference.length; n++) if (capture[lag + n] !== reference[n]) return false;
  return true;
}
