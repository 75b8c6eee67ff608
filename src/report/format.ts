/** Number formatting for reports: JSON rounding and short human-readable values with units. */

/**
 * Round a number for report.json. Non-finite → null (JSON has no NaN/Infinity). Integers unchanged.
 * |x| ≥ 1e-3 → 4 decimals (0.1 µs for ms values, 0.0001 dB, 0.0001 ppm); smaller → 4 significant digits
 * so tiny values are not flattened to 0.
 */
export function roundForJson(x: number): number | null {
  if (!Number.isFinite(x)) return null;
  if (Number.isInteger(x)) return x;
  const r = Math.abs(x) >= 1e-3 ? Math.round(x * 1e4) / 1e4 : Number(x.toPrecision(4));
  return Object.is(r, -0) ? 0 : r;
}

/** Short number for humans: integers as is, ≥100 → 1 decimal, ≥1 → 2 decimals, smaller → 3 significant. */
export function formatNumber(x: number | null | undefined): string {
  if (x === null || x === undefined || Number.isNaN(x)) return 'n/a';
  if (!Number.isFinite(x)) return x > 0 ? '∞' : '−∞';
  if (Number.isInteger(x)) return String(x);
  const a = Math.abs(x);
  const r = a >= 100 ? Number(x.toFixed(1)) : a >= 1 ? Number(x.toFixed(2)) : Number(x.toPrecision(3));
  return String(Object.is(r, -0) ? 0 : r);
}

/** `formatNumber` plus a unit (`25.72 ms`); n/a stays bare. */
export function formatValue(x: number | null | undefined, unit = ''): string {
  const s = formatNumber(x);
  return s === 'n/a' || unit === '' ? s : `${s} ${unit}`;
}

/** A duration given in ms: `850 ms`, `3.21 s`, `2 min 5 s`. */
export function formatDurationMs(ms: number): string {
  if (!Number.isFinite(ms)) return 'n/a';
  if (ms < 1000) return `${formatNumber(ms)} ms`;
  if (ms < 120_000) return `${formatNumber(ms / 1000)} s`;
  const s = Math.round(ms / 1000);
  return `${Math.floor(s / 60)} min ${s % 60} s`;
}
