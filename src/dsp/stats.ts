/** Small order statistics shared by recordings, the harness and reports. */

/**
 * The p-th percentile (p in 0…100) by linear interpolation between closest ranks
 * (rank = p/100 · (n − 1), the "linear" / type-7 definition used by numpy and Excel's PERCENTILE.INC).
 * NaN values are ignored; returns null when no finite-or-infinite number remains. p is clamped to 0…100.
 */
export function percentile(values: readonly number[], p: number): number | null {
  const sorted = values.filter((v) => !Number.isNaN(v)).sort((a, b) => a - b);
  if (sorted.length === 0 || Number.isNaN(p)) return null;
  const q = Math.min(100, Math.max(0, p)) / 100;
  const rank = q * (sorted.length - 1);
  const lo = Math.floor(rank);
  const hi = Math.min(sorted.length - 1, lo + 1);
  const frac = rank - lo;
  const a = sorted[lo]!;
  const b = sorted[hi]!;
  // Avoid ∞·0 = NaN when an endpoint is infinite and the rank falls exactly on the other one.
  return frac === 0 ? a : a + (b - a) * frac;
}
