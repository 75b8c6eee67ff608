/**
 * A small server-side SVG plotter for report.html: line/point plots (linear or log-x) with axes, ticks,
 * labels, legend and reference lines, and bar charts. No dependencies, no scripts.
 *
 * Conventions:
 * - Coordinates are SVG user units (px at 1:1), y grows downwards: the largest y value maps to the TOP of the
 *   plot area (`area.top`), the smallest to the bottom (`area.top + area.height`).
 * - The y domain is the finite data extent (plus y reference lines); the x domain is the finite x extent.
 *   A degenerate (constant) domain is widened so nothing divides by zero.
 * - Non-finite points (and x ≤ 0 on a log axis) are skipped and break a line into segments.
 * - Output size is bounded: each series is decimated to ≤ `maxPointsPerSeries` points (default 2000) keeping
 *   the min and the max of every bucket (so spikes and dropouts stay visible); coordinates have 1 decimal.
 * - All text passes through `escapeXml`. Inline in HTML the root has no xmlns (so the page contains no URL);
 *   pass `standalone: true` for a .svg file.
 */
import { escapeXml } from './escape.js';

export const DEFAULT_MAX_POINTS = 2000;

/** Okabe–Ito palette: distinguishable with common colour-vision deficiencies. */
export const PALETTE = ['#0072B2', '#D55E00', '#009E73', '#CC79A7', '#E69F00', '#56B4E9', '#000000'] as const;

export interface PlotSeries {
  label: string;
  x: ArrayLike<number>;
  y: ArrayLike<number>;
  /** `line` (default) or `points` (markers only). */
  style?: 'line' | 'points';
  color?: string;
}

export interface ReferenceLine {
  /** `x`: vertical line at x = value; `y`: horizontal line at y = value (included in the y domain). */
  axis: 'x' | 'y';
  value: number;
  label?: string;
}

export interface LinePlotOptions {
  series: PlotSeries[];
  title?: string;
  xLabel?: string;
  yLabel?: string;
  /** px; default 640 × 280. */
  width?: number;
  height?: number;
  logX?: boolean;
  referenceLines?: ReferenceLine[];
  maxPointsPerSeries?: number;
  /** Fixed y domain [min, max] instead of the data extent. */
  yDomain?: [number, number];
  /** Add the SVG namespace, for a stand-alone .svg file. */
  standalone?: boolean;
  /** x values are integers (repeat numbers): ticks at integer steps only. */
  integerX?: boolean;
}

export interface PlotArea {
  left: number;
  top: number;
  width: number;
  height: number;
}

/** Where the axes box goes inside a `width × height` plot. */
export function plotArea(width: number, height: number, hasTitle: boolean, hasLegend: boolean): PlotArea {
  const top = (hasTitle ? 24 : 8) + (hasLegend ? 18 : 0);
  const left = 60;
  const right = 16;
  const bottom = 42;
  return { left, top, width: Math.max(10, width - left - right), height: Math.max(10, height - top - bottom) };
}

/** Compact coordinate: 1 decimal, no trailing `.0`, never `-0`. */
export function fmtCoord(v: number): string {
  const r = Math.round(v * 10) / 10;
  return Object.is(r, -0) ? '0' : String(r);
}

/** Maps a domain [d0, d1] onto a range [r0, r1], linearly or in log10. d0 ≠ d1 (and both > 0 for log). */
export function makeScale(d0: number, d1: number, r0: number, r1: number, log = false): (v: number) => number {
  if (log) {
    const l0 = Math.log10(d0);
    const span = Math.log10(d1) - l0;
    return (v) => r0 + ((Math.log10(v) - l0) / span) * (r1 - r0);
  }
  const span = d1 - d0;
  return (v) => r0 + ((v - d0) / span) * (r1 - r0);
}

/** Widen a degenerate domain so scales never divide by zero. */
export function widenDomain(min: number, max: number, log = false): [number, number] {
  if (max > min) return [min, max];
  if (log) return [min / Math.SQRT2 / 2, min * Math.SQRT2 * 2];
  const pad = min === 0 ? 1 : Math.abs(min) * 0.1;
  return [min - pad, max + pad];
}

/** Step of 1, 2 or 5 × 10^k that gives about `target` intervals over `span`. */
export function niceStep(span: number, target: number): number {
  const raw = span / Math.max(1, target);
  const k = Math.floor(Math.log10(raw));
  const base = 10 ** k;
  const f = raw / base;
  const m = f < 1.5 ? 1 : f < 3.5 ? 2 : f < 7.5 ? 5 : 10;
  return m * base;
}

/** Ticks at multiples of a nice step inside [min, max]. */
export function niceTicks(min: number, max: number, target = 5): { ticks: number[]; step: number } {
  if (!(max > min) || !Number.isFinite(min) || !Number.isFinite(max)) return { ticks: [], step: 1 };
  const step = niceStep(max - min, target);
  const ticks: number[] = [];
  const eps = step * 1e-9;
  for (let k = Math.ceil((min - eps) / step); k * step <= max + eps && ticks.length < 50; k++) {
    ticks.push(Number((k * step).toPrecision(12)));
  }
  return { ticks, step };
}

/** Ticks on a log axis: 1×10^k always, 2× and 5× too when the axis spans ≤ 2 decades. */
export function logTicks(min: number, max: number): number[] {
  if (!(max > min) || !(min > 0)) return [];
  const k0 = Math.floor(Math.log10(min));
  const k1 = Math.ceil(Math.log10(max));
  const mults = k1 - k0 <= 2 ? [1, 2, 5] : [1];
  const out: number[] = [];
  for (let k = k0; k <= k1; k++) {
    for (const m of mults) {
      const v = Number((m * 10 ** k).toPrecision(12));
      if (v >= min * (1 - 1e-9) && v <= max * (1 + 1e-9)) out.push(v);
    }
  }
  return out;
}

/** Compact label: `0`, `0.25`, `1.5k`, `20k`, `2M`; 3 significant digits at most for non-tick values. */
export function formatCompact(v: number): string {
  if (!Number.isFinite(v)) return 'n/a';
  if (v === 0) return '0';
  const a = Math.abs(v);
  const sig = (x: number) => String(Number(x.toPrecision(3)));
  if (a >= 1e6) return `${sig(v / 1e6)}M`;
  if (a >= 1e3) return `${sig(v / 1e3)}k`;
  return sig(v);
}

/** Tick label on a linear axis with step `step`: enough decimals to tell neighbours apart. */
export function formatTick(v: number, step: number): string {
  if (Math.abs(step) >= 1000 && Math.abs(v) >= 1000) return formatCompact(v);
  const decimals = Math.max(0, -Math.floor(Math.log10(step) + 1e-9));
  const s = v.toFixed(Math.min(decimals, 10));
  return /^-0(\.0*)?$/.test(s) ? s.slice(1) : s;
}

/**
 * Min/max decimation: when a series has more than `maxPoints` points, split it into maxPoints/2 index buckets
 * and keep, per bucket, its minimum and its maximum y (in index order). A bucket without finite y yields one
 * NaN point (a break). Returns the input unchanged (copied) when already small enough.
 */
export function decimateMinMax(x: ArrayLike<number>, y: ArrayLike<number>, maxPoints = DEFAULT_MAX_POINTS): { x: number[]; y: number[] } {
  const n = Math.min(x.length, y.length);
  if (n <= maxPoints) return { x: Array.from({ length: n }, (_, i) => x[i]!), y: Array.from({ length: n }, (_, i) => y[i]!) };
  const buckets = Math.max(1, Math.floor(maxPoints / 2));
  const ox: number[] = [];
  const oy: number[] = [];
  for (let b = 0; b < buckets; b++) {
    const i0 = Math.floor((b * n) / buckets);
    const i1 = Math.floor(((b + 1) * n) / buckets);
    let iMin = -1;
    let iMax = -1;
    for (let i = i0; i < i1; i++) {
      const v = y[i]!;
      if (!Number.isFinite(v) || !Number.isFinite(x[i]!)) continue;
      if (iMin < 0 || v < y[iMin]!) iMin = i;
      if (iMax < 0 || v > y[iMax]!) iMax = i;
    }
    if (iMin < 0) {
      ox.push(x[i0]!);
      oy.push(Number.NaN);
      continue;
    }
    const first = Math.min(iMin, iMax);
    const second = Math.max(iMin, iMax);
    ox.push(x[first]!);
    oy.push(y[first]!);
    if (second !== first) {
      ox.push(x[second]!);
      oy.push(y[second]!);
    }
  }
  return { x: ox, y: oy };
}

function svgOpen(width: number, height: number, title: string | undefined, standalone: boolean | undefined): string {
  const ns = standalone ? ` xmlns="${'http'}://www.w3.org/2000/svg"` : '';
  const label = title ? ` aria-label="${escapeXml(title)}"` : '';
  return (
    `<svg${ns} class="plot" viewBox="0 0 ${width} ${height}" width="${width}" height="${height}" role="img"${label}` +
    ` font-family="system-ui, sans-serif" font-size="11">` +
    (title ? `<title>${escapeXml(title)}</title>` : '')
  );
}

function titleText(title: string | undefined, width: number): string {
  return title ? `<text x="${fmtCoord(width / 2)}" y="16" text-anchor="middle" font-size="13" font-weight="600">${escapeXml(title)}</text>` : '';
}

function axisLabels(area: PlotArea, height: number, xLabel: string | undefined, yLabel: string | undefined): string {
  let out = '';
  if (xLabel) out += `<text x="${fmtCoord(area.left + area.width / 2)}" y="${fmtCoord(height - 6)}" text-anchor="middle">${escapeXml(xLabel)}</text>`;
  if (yLabel) {
    const cy = fmtCoord(area.top + area.height / 2);
    out += `<text x="12" y="${cy}" text-anchor="middle" transform="rotate(-90 12 ${cy})">${escapeXml(yLabel)}</text>`;
  }
  return out;
}

function frame(area: PlotArea): string {
  return `<rect class="plot-area" x="${fmtCoord(area.left)}" y="${fmtCoord(area.top)}" width="${fmtCoord(area.width)}" height="${fmtCoord(area.height)}" fill="#fff" stroke="#888"/>`;
}

function legend(series: { label: string; color: string; style: 'line' | 'points' }[], area: PlotArea): string {
  let x = area.left;
  const y = area.top - 10;
  let out = '<g class="legend">';
  for (const s of series) {
    const swatch =
      s.style === 'points'
        ? `<circle cx="${fmtCoord(x + 7)}" cy="${fmtCoord(y - 4)}" r="3" fill="${s.color}"/>`
        : `<line x1="${fmtCoord(x)}" y1="${fmtCoord(y - 4)}" x2="${fmtCoord(x + 14)}" y2="${fmtCoord(y - 4)}" stroke="${s.color}" stroke-width="2"/>`;
    out += `${swatch}<text x="${fmtCoord(x + 18)}" y="${fmtCoord(y)}">${escapeXml(s.label)}</text>`;
    x += 30 + Math.min(s.label.length, 40) * 6.2;
  }
  return `${out}</g>`;
}

function noData(area: PlotArea): string {
  return `<text x="${fmtCoord(area.left + area.width / 2)}" y="${fmtCoord(area.top + area.height / 2)}" text-anchor="middle" fill="#666">no data</text>`;
}

/** A line/point plot. Returns an `<svg>` element as a string (see the module header for conventions). */
export function linePlot(options: LinePlotOptions): string {
  const width = options.width ?? 640;
  const height = options.height ?? 280;
  const logX = options.logX === true;
  const maxPoints = Math.max(4, options.maxPointsPerSeries ?? DEFAULT_MAX_POINTS);
  const styled = options.series.map((s, i) => ({
    label: s.label,
    color: s.color ?? PALETTE[i % PALETTE.length]!,
    style: s.style ?? ('line' as const),
    ...decimateMinMax(s.x, s.y, maxPoints),
  }));
  const showLegend = styled.length > 1 || (styled.length === 1 && styled[0]!.label !== '');
  const area = plotArea(width, height, Boolean(options.title), showLegend);
  const usable = (x: number, y: number) => Number.isFinite(x) && Number.isFinite(y) && (!logX || x > 0);

  let xMin = Infinity;
  let xMax = -Infinity;
  let yMin = Infinity;
  let yMax = -Infinity;
  for (const s of styled) {
    for (let i = 0; i < s.x.length; i++) {
      const x = s.x[i]!;
      const y = s.y[i]!;
      if (!usable(x, y)) continue;
      if (x < xMin) xMin = x;
      if (x > xMax) xMax = x;
      if (y < yMin) yMin = y;
      if (y > yMax) yMax = y;
    }
  }
  const refs = (options.referenceLines ?? []).filter((r) => Number.isFinite(r.value) && (r.axis === 'y' || !logX || r.value > 0));
  const hasData = xMin <= xMax;
  let out = svgOpen(width, height, options.title, options.standalone) + titleText(options.title, width) + frame(area);
  out += axisLabels(area, height, options.xLabel, options.yLabel);
  if (showLegend) out += legend(styled, area);
  if (!hasData) return `${out}${noData(area)}</svg>`;

  for (const r of refs) {
    if (r.axis === 'y') {
      yMin = Math.min(yMin, r.value);
      yMax = Math.max(yMax, r.value);
    }
  }
  if (options.yDomain && options.yDomain[1] > options.yDomain[0]) [yMin, yMax] = options.yDomain;
  [xMin, xMax] = widenDomain(xMin, xMax, logX);
  [yMin, yMax] = widenDomain(yMin, yMax);
  if (styled.every((s) => s.style === 'points')) {
    // Markers only: pad 5 % so no marker sits on the frame (lines keep the exact extent).
    const px = (xMax - xMin) * 0.05;
    if (!logX) [xMin, xMax] = [xMin - px, xMax + px];
    if (!options.yDomain) {
      const py = (yMax - yMin) * 0.05;
      [yMin, yMax] = [yMin - py, yMax + py];
    }
  }
  const sx = makeScale(xMin, xMax, area.left, area.left + area.width, logX);
  const sy = makeScale(yMin, yMax, area.top + area.height, area.top);
  const bottom = area.top + area.height;

  // Grid, ticks and tick labels.
  let grid = '<g class="grid" stroke="#e3e3e3">';
  let labels = '<g class="ticks" fill="#333">';
  const yt = niceTicks(yMin, yMax, Math.max(2, Math.round(area.height / 50)));
  for (const v of yt.ticks) {
    const y = fmtCoord(sy(v));
    grid += `<line x1="${fmtCoord(area.left)}" y1="${y}" x2="${fmtCoord(area.left + area.width)}" y2="${y}"/>`;
    labels += `<text x="${fmtCoord(area.left - 4)}" y="${y}" text-anchor="end" dominant-baseline="middle">${escapeXml(formatTick(v, yt.step))}</text>`;
  }
  if (logX) {
    // Minor grid at 2…9 × 10^k (unlabelled), then the labelled ticks.
    for (let k = Math.floor(Math.log10(xMin)); k <= Math.ceil(Math.log10(xMax)); k++) {
      for (let m = 2; m <= 9; m++) {
        const v = m * 10 ** k;
        if (v > xMin && v < xMax) grid += `<line x1="${fmtCoord(sx(v))}" y1="${fmtCoord(area.top)}" x2="${fmtCoord(sx(v))}" y2="${fmtCoord(bottom)}" stroke="#f1f1f1"/>`;
      }
    }
    for (const v of logTicks(xMin, xMax)) {
      const x = fmtCoord(sx(v));
      grid += `<line x1="${x}" y1="${fmtCoord(area.top)}" x2="${x}" y2="${fmtCoord(bottom)}"/>`;
      labels += `<text x="${x}" y="${fmtCoord(bottom + 14)}" text-anchor="middle">${escapeXml(formatCompact(v))}</text>`;
    }
  } else {
    const xt = niceTicks(xMin, xMax, Math.max(2, Math.round(area.width / 90)));
    if (options.integerX && xt.step < 1) {
      xt.step = 1;
      xt.ticks = [];
      for (let v = Math.ceil(xMin); v <= xMax; v++) xt.ticks.push(v);
    }
    for (const v of xt.ticks) {
      const x = fmtCoord(sx(v));
      grid += `<line x1="${x}" y1="${fmtCoord(area.top)}" x2="${x}" y2="${fmtCoord(bottom)}"/>`;
      labels += `<text x="${x}" y="${fmtCoord(bottom + 14)}" text-anchor="middle">${escapeXml(formatTick(v, xt.step))}</text>`;
    }
  }
  out += `${grid}</g>${labels}</g>`;

  for (const r of refs) {
    if (r.axis === 'y') {
      const y = fmtCoord(sy(r.value));
      out += `<line class="ref" x1="${fmtCoord(area.left)}" y1="${y}" x2="${fmtCoord(area.left + area.width)}" y2="${y}" stroke="#B00020" stroke-dasharray="5 3"/>`;
      if (r.label) out += `<text x="${fmtCoord(area.left + area.width - 4)}" y="${fmtCoord(sy(r.value) - 4)}" text-anchor="end" fill="#B00020">${escapeXml(r.label)}</text>`;
    } else if (r.value >= xMin && r.value <= xMax) {
      const x = fmtCoord(sx(r.value));
      out += `<line class="ref" x1="${x}" y1="${fmtCoord(area.top)}" x2="${x}" y2="${fmtCoord(bottom)}" stroke="#B00020" stroke-dasharray="5 3"/>`;
      if (r.label) out += `<text x="${fmtCoord(sx(r.value) + 4)}" y="${fmtCoord(area.top + 12)}" fill="#B00020">${escapeXml(r.label)}</text>`;
    }
  }

  for (const s of styled) {
    if (s.style === 'points') {
      let marks = `<g class="series" fill="${s.color}">`;
      for (let i = 0; i < s.x.length; i++) {
        if (!usable(s.x[i]!, s.y[i]!)) continue;
        marks += `<circle cx="${fmtCoord(sx(s.x[i]!))}" cy="${fmtCoord(sy(s.y[i]!))}" r="3"/>`;
      }
      out += `${marks}</g>`;
      continue;
    }
    let d = '';
    let pen = false;
    for (let i = 0; i < s.x.length; i++) {
      if (!usable(s.x[i]!, s.y[i]!)) {
        pen = false;
        continue;
      }
      d += `${pen ? 'L' : 'M'}${fmtCoord(sx(s.x[i]!))} ${fmtCoord(sy(s.y[i]!))}`;
      pen = true;
    }
    if (d) out += `<path class="series" d="${d}" fill="none" stroke="${s.color}" stroke-width="1.5" stroke-linejoin="round"/>`;
  }
  return `${out}</svg>`;
}

export interface BarChartOptions {
  labels: string[];
  values: number[];
  title?: string;
  yLabel?: string;
  width?: number;
  height?: number;
  color?: string;
  /** Horizontal dashed line, e.g. a limit. */
  referenceLine?: { value: number; label?: string };
  standalone?: boolean;
}

/** Vertical bars from 0 (non-finite values get no bar). Labels are shown up to 40 bars, truncated to 14 chars. */
export function barChart(options: BarChartOptions): string {
  const width = options.width ?? 640;
  const height = options.height ?? 240;
  const n = Math.min(options.labels.length, options.values.length);
  const area = plotArea(width, height, Boolean(options.title), false);
  let out = svgOpen(width, height, options.title, options.standalone) + titleText(options.title, width) + frame(area);
  out += axisLabels(area, height, undefined, options.yLabel);
  const finite = options.values.slice(0, n).filter((v) => Number.isFinite(v));
  if (n === 0 || finite.length === 0) return `${out}${noData(area)}</svg>`;
  const ref = options.referenceLine && Number.isFinite(options.referenceLine.value) ? options.referenceLine : undefined;
  let yMin = Math.min(0, ...finite, ref ? ref.value : 0);
  let yMax = Math.max(0, ...finite, ref ? ref.value : 0);
  [yMin, yMax] = widenDomain(yMin, yMax);
  if (yMin === -yMax && Math.min(0, ...finite) === 0) yMin = 0; // all-zero data: keep 0 at the bottom
  const sy = makeScale(yMin, yMax, area.top + area.height, area.top);
  const yt = niceTicks(yMin, yMax, Math.max(2, Math.round(area.height / 50)));
  out += '<g class="grid" stroke="#e3e3e3">';
  for (const v of yt.ticks) out += `<line x1="${fmtCoord(area.left)}" y1="${fmtCoord(sy(v))}" x2="${fmtCoord(area.left + area.width)}" y2="${fmtCoord(sy(v))}"/>`;
  out += '</g><g class="ticks" fill="#333">';
  for (const v of yt.ticks) out += `<text x="${fmtCoord(area.left - 4)}" y="${fmtCoord(sy(v))}" text-anchor="end" dominant-baseline="middle">${escapeXml(formatTick(v, yt.step))}</text>`;
  const slot = area.width / n;
  const barWidth = Math.max(1, slot * 0.7);
  const y0 = sy(0);
  for (let i = 0; i < n; i++) {
    if (n <= 40) {
      const raw = options.labels[i]!;
      const label = raw.length > 14 ? `${raw.slice(0, 13)}…` : raw;
      out += `<text x="${fmtCoord(area.left + slot * (i + 0.5))}" y="${fmtCoord(area.top + area.height + 14)}" text-anchor="middle">${escapeXml(label)}</text>`;
    }
  }
  out += `</g><g class="bars" fill="${options.color ?? PALETTE[0]}">`;
  for (let i = 0; i < n; i++) {
    const v = options.values[i]!;
    if (!Number.isFinite(v)) continue;
    const yv = sy(v);
    const top = Math.min(yv, y0);
    const h = Math.max(Math.abs(y0 - yv), v === 0 ? 0 : 1);
    out += `<rect x="${fmtCoord(area.left + slot * i + (slot - barWidth) / 2)}" y="${fmtCoord(top)}" width="${fmtCoord(barWidth)}" height="${fmtCoord(h)}"><title>${escapeXml(`${options.labels[i]}: ${formatCompact(v)}`)}</title></rect>`;
  }
  out += '</g>';
  if (ref) {
    const y = fmtCoord(sy(ref.value));
    out += `<line class="ref" x1="${fmtCoord(area.left)}" y1="${y}" x2="${fmtCoord(area.left + area.width)}" y2="${y}" stroke="#B00020" stroke-dasharray="5 3"/>`;
    if (ref.label) out += `<text x="${fmtCoord(area.left + area.width - 4)}" y="${fmtCoord(sy(ref.value) - 4)}" text-anchor="end" fill="#B00020">${escapeXml(ref.label)}</text>`;
  }
  return `${out}</svg>`;
}
