import { describe, expect, it } from 'vitest';
import { decimateMinMax, formatCompact, formatTick, linePlot, logTicks, makeScale, niceTicks, barChart } from '../../src/report/svg.js';

/** The plot-area rectangle and all path vertices of an SVG produced by linePlot. */
function parsePlot(svg: string) {
  const rect = /<rect class="plot-area" x="([\d.]+)" y="([\d.]+)" width="([\d.]+)" height="([\d.]+)"/.exec(svg);
  if (!rect) throw new Error('no plot area');
  const [left, top, width, height] = rect.slice(1).map(Number) as [number, number, number, number];
  const paths = [...svg.matchAll(/<path class="series" d="([^"]*)"/g)].map((m) =>
    [...m[1]!.matchAll(/([ML])(-?[\d.]+) (-?[\d.]+)/g)].map((p) => ({ cmd: p[1]!, x: Number(p[2]), y: Number(p[3]) })),
  );
  return { left, top, width, height, paths };
}

// Coordinates are written with 1 decimal, so a mapped point can be off by ≤ 0.05 user units.
const COORD_TOLERANCE = 0.051;

describe('linePlot coordinate mapping', () => {
  it('maps the max to the top, the min to the bottom and x linearly across the plot area', () => {
    const x = [0, 1, 2, 3, 4];
    const y = [2, 7, -3, 5, 0];
    const svg = linePlot({ series: [{ label: '', x, y }], width: 500, height: 300 });
    const { left, top, width, height, paths } = parsePlot(svg);
    expect(paths).toHaveLength(1);
    const pts = paths[0]!;
    expect(pts).toHaveLength(5);
    // y = 7 (max) at the top, y = −3 (min) at the bottom, y = 2 halfway.
    expect(Math.abs(pts[1]!.y - top)).toBeLessThanOrEqual(COORD_TOLERANCE);
    expect(Math.abs(pts[2]!.y - (top + height))).toBeLessThanOrEqual(COORD_TOLERANCE);
    expect(Math.abs(pts[0]!.y - (top + height / 2))).toBeLessThanOrEqual(COORD_TOLERANCE);
    // x = 0 at the left edge, x = 4 at the right edge, x = 1 a quarter of the way.
    expect(Math.abs(pts[0]!.x - left)).toBeLessThanOrEqual(COORD_TOLERANCE);
    expect(Math.abs(pts[4]!.x - (left + width))).toBeLessThanOrEqual(COORD_TOLERANCE);
    expect(Math.abs(pts[1]!.x - (left + width / 4))).toBeLessThanOrEqual(COORD_TOLERANCE);
  });

  it('puts decades equally apart on a log-x axis', () => {
    const svg = linePlot({ series: [{ label: '', x: [10, 100, 1000], y: [0, 1, 2] }], logX: true });
    const { left, width, paths } = parsePlot(svg);
    const xs = paths[0]!.map((p) => p.x);
    expect(Math.abs(xs[0]! - left)).toBeLessThanOrEqual(COORD_TOLERANCE);
    expect(Math.abs(xs[1]! - (left + width / 2))).toBeLessThanOrEqual(COORD_TOLERANCE);
    expect(Math.abs(xs[2]! - (left + width))).toBeLessThanOrEqual(COORD_TOLERANCE);
    expect(svg).toContain('>1k<');
  });

  it('breaks the line at NaN and skips x ≤ 0 on a log axis, never writing NaN', () => {
    const svg = linePlot({ series: [{ label: 'a', x: [0, 1, 2, 3, 4], y: [1, 2, Number.NaN, 4, Number.POSITIVE_INFINITY] }] });
    const { paths } = parsePlot(svg);
    expect(paths[0]!.map((p) => p.cmd).join('')).toBe('MLM');
    expect(svg).not.toMatch(/NaN|Infinity/);
    const logSvg = linePlot({ series: [{ label: '', x: [-1, 0, 10, 100], y: [5, 5, 1, 2] }], logX: true });
    expect(parsePlot(logSvg).paths[0]).toHaveLength(2);
    expect(logSvg).not.toMatch(/NaN|Infinity/);
  });

  it('handles empty, all-NaN and constant series without NaN in the output', () => {
    for (const y of [[], [Number.NaN, Number.NaN], [3, 3, 3, 3]]) {
      const svg = linePlot({ title: 't', xLabel: 'x', yLabel: 'y', series: [{ label: 's', x: y.map((_, i) => i), y }] });
      expect(svg).toMatch(/^<svg[^>]*>.*<\/svg>$/s);
      expect(svg).not.toMatch(/NaN|Infinity/);
    }
    expect(linePlot({ series: [] })).toContain('no data');
    // A constant series is drawn as a horizontal line in the middle of the widened domain.
    const { top, height, paths } = parsePlot(linePlot({ series: [{ label: '', x: [0, 1, 2], y: [3, 3, 3] }] }));
    for (const p of paths[0]!) expect(Math.abs(p.y - (top + height / 2))).toBeLessThanOrEqual(COORD_TOLERANCE);
    // A single point: x and y domains both degenerate.
    expect(linePlot({ series: [{ label: '', x: [5], y: [5], style: 'points' }] })).not.toMatch(/NaN|Infinity/);
  });

  it('escapes labels and adds no namespace URL unless standalone', () => {
    const svg = linePlot({ title: '<b>&', series: [{ label: '"x"<', x: [0, 1], y: [0, 1] }] });
    expect(svg).toContain('&lt;b&gt;&amp;');
    expect(svg).toContain('&quot;x&quot;&lt;');
    expect(svg).not.toContain('http');
    expect(linePlot({ standalone: true, series: [] })).toContain('xmlns=');
  });

  it('bounds the output: a 1-million-point series is decimated to ≤ 2000 points', () => {
    const n = 1_000_000;
    const y = new Float32Array(n);
    for (let i = 0; i < n; i++) y[i] = Math.sin(i / 100);
    y[543_210] = 5; // a spike must survive decimation
    const x = Float32Array.from({ length: n }, (_, i) => i);
    const svg = linePlot({ series: [{ label: '', x, y }] });
    const { top, paths } = parsePlot(svg);
    expect(paths[0]!.length).toBeLessThanOrEqual(2000);
    expect(Math.min(...paths[0]!.map((p) => p.y))).toBeCloseTo(top, 1);
    expect(svg.length).toBeLessThan(40_000);
  });
});

describe('svg helpers', () => {
  it('decimateMinMax keeps each bucket min and max in index order', () => {
    const y = [0, 5, -5, 1, /* bucket 2 */ 2, 2, 9, -1];
    const x = y.map((_, i) => i);
    const d = decimateMinMax(x, y, 4); // 2 buckets of 4
    expect(d.x).toEqual([1, 2, 6, 7]);
    expect(d.y).toEqual([5, -5, 9, -1]);
    expect(decimateMinMax(x, y, 100).y).toEqual(y);
    // A bucket with no finite value becomes a single NaN (a line break).
    const nanBucket = decimateMinMax([0, 1, 2, 3, 4, 5], [Number.NaN, Number.NaN, Number.NaN, 1, 3, 2], 4); // 2 buckets of 3
    expect(nanBucket.y[0]).toBeNaN();
    expect(nanBucket.y.slice(1)).toEqual([1, 3]);
  });

  it('nice ticks are 1/2/5 multiples inside the domain', () => {
    expect(niceTicks(0, 10, 5).ticks).toEqual([0, 2, 4, 6, 8, 10]);
    expect(niceTicks(-3, 7, 5).ticks).toEqual([-2, 0, 2, 4, 6]);
    expect(niceTicks(0.1, 0.35, 5).ticks).toEqual([0.1, 0.15, 0.2, 0.25, 0.3, 0.35]);
    expect(niceTicks(1, 1).ticks).toEqual([]);
    expect(logTicks(20, 20000)).toEqual([100, 1000, 10000]);
    expect(logTicks(20, 900)).toEqual([20, 50, 100, 200, 500]);
  });

  it('formats ticks compactly', () => {
    expect(formatCompact(1000)).toBe('1k');
    expect(formatCompact(20000)).toBe('20k');
    expect(formatCompact(0.000123)).toBe('0.000123');
    expect(formatTick(0.15, 0.05)).toBe('0.15');
    expect(formatTick(-0, 1)).toBe('0');
    expect(formatTick(2000, 1000)).toBe('2k');
  });

  it('makeScale maps domain ends to range ends (linear and log)', () => {
    const s = makeScale(-3, 7, 100, 0);
    expect(s(7)).toBe(0);
    expect(s(-3)).toBe(100);
    const l = makeScale(10, 1000, 0, 200, true);
    expect(l(100)).toBeCloseTo(100, 9); // log10 midpoint; 1e-9 tolerance covers float rounding of log10
  });

  it('barChart draws one bar per finite value from zero', () => {
    const svg = barChart({ labels: ['a', 'b<', 'c'], values: [0, 3, Number.NaN], referenceLine: { value: 1, label: 'limit' } });
    const bars = [...svg.matchAll(/<rect x="[\d.]+" y="([\d.]+)" width="[\d.]+" height="([\d.]+)"/g)];
    expect(bars).toHaveLength(2);
    expect(Number(bars[0]![2])).toBe(0);
    expect(Number(bars[1]![2])).toBeGreaterThan(0);
    expect(svg).toContain('b&lt;');
    expect(svg).not.toMatch(/NaN|Infinity/);
    expect(barChart({ labels: [], values: [] })).toContain('no data');
  });
});
