/**
 * Compares two report.json files (OLD → NEW) metric by metric and flags regressions, for CI trend checks.
 *
 * Direction and tolerance per metric (delta = new − old):
 * - latency-like (ms; summary latencyMs, latencyMsMax, captureBufferMsP99, per-case latencyMs): worse when
 *   larger; a regression when delta > max(toleranceMs, tolerancePercent/100 · |old|).
 * - dropouts (count): any increase is a regression.
 * - snrDbMin (dB): worse when smaller; a regression when −delta > toleranceDb.
 * - verdict: passed → failed is a regression.
 * A metric present in only one report (or null in either) is listed, never flagged.
 */
import { LoopcheckError } from '../errors.js';
import { escapeHtml } from './escape.js';
import { formatNumber } from './format.js';
import { BASE_CSS } from './page-css.js';
import { isObj, parseLoopcheckJson } from './read-report.js';

export interface CompareTolerance {
  /** Allowed latency-like increase, ms (default 2). */
  ms: number;
  /** Allowed latency-like increase relative to OLD, percent (default 10). The larger allowance wins. */
  percent: number;
  /** Allowed SNR decrease, dB (default 3). */
  db: number;
}

export const DEFAULT_TOLERANCE: CompareTolerance = { ms: 2, percent: 10, db: 3 };

export interface CompareRow {
  metric: string;
  unit: string;
  old: number | null;
  new: number | null;
  /** new − old, when both are numbers. */
  delta: number | null;
  /** How much worse it may get before it is flagged (same unit). */
  allowed: number | null;
  regression: boolean;
  improved: boolean;
  note?: string;
}

export interface Comparison {
  old: { path: string; version: string; backend: string; device: string; startedAt: string; passed: boolean };
  new: { path: string; version: string; backend: string; device: string; startedAt: string; passed: boolean };
  tolerance: CompareTolerance;
  rows: CompareRow[];
  regressions: number;
}

/** The parts of a report.json that compare reads (validated by `parseReportJson`). */
export interface ComparableReport {
  version: string;
  passed: boolean;
  backend: string;
  device: { id: string; name: string };
  startedAt: string;
  summary: { latencyMs: number | null; latencyMsMax: number | null; dropouts: number; captureBufferMsP99: number | null; snrDbMin: number | null };
  cases: { suite: string; name: string; passed: boolean; metrics: { latencyMs?: number | null; dropoutCount?: number } }[];
}

const numOrNull = (v: unknown): v is number | null => v === null || (typeof v === 'number' && Number.isFinite(v));

/** Parses and validates a report.json text; INVALID_FILE saying what is wrong otherwise. */
export function parseReportJson(text: string, source: string): ComparableReport {
  const bad = (why: string) =>
    new LoopcheckError('INVALID_FILE', `compare: ${source.slice(0, 120)} is not a loopcheck report.json: ${why}`, { hint: 'pass report.json files written by `loopcheck verify --out DIR`' });
  const v = parseLoopcheckJson(text, bad);
  if (!isObj(v.summary)) throw bad('no "summary" object');
  const s = v.summary;
  for (const k of ['latencyMs', 'latencyMsMax', 'captureBufferMsP99', 'snrDbMin'] as const) {
    if (!numOrNull(s[k] ?? null)) throw bad(`summary.${k} must be a number or null`);
  }
  if (typeof s.dropouts !== 'number' || !Number.isFinite(s.dropouts)) throw bad('summary.dropouts must be a number');
  if (!Array.isArray(v.cases)) throw bad('no "cases" array');
  const cases = v.cases.map((c: unknown, i: number) => {
    if (!isObj(c) || typeof c.suite !== 'string' || typeof c.name !== 'string' || !isObj(c.metrics)) throw bad(`cases[${i}] needs suite, name and metrics`);
    const lat = c.metrics.latencyMs;
    if (lat !== undefined && !numOrNull(lat)) throw bad(`cases[${i}].metrics.latencyMs must be a number or null`);
    return { suite: c.suite, name: c.name, passed: c.passed === true, metrics: { latencyMs: lat as number | null | undefined } };
  });
  const device = isObj(v.device) ? v.device : {};
  return {
    version: String(v.version ?? '?'),
    passed: v.passed === true,
    backend: String(v.backend ?? '?'),
    device: { id: String(device.id ?? ''), name: String(device.name ?? '') },
    startedAt: String(v.startedAt ?? ''),
    summary: {
      latencyMs: (s.latencyMs ?? null) as number | null,
      latencyMsMax: (s.latencyMsMax ?? null) as number | null,
      dropouts: s.dropouts,
      captureBufferMsP99: (s.captureBufferMsP99 ?? null) as number | null,
      snrDbMin: (s.snrDbMin ?? null) as number | null,
    },
    cases,
  };
}

type Direction = 'lower-better-ms' | 'count' | 'higher-better-db';

function compareValue(metric: string, unit: string, o: number | null | undefined, n: number | null | undefined, dir: Direction, tol: CompareTolerance): CompareRow {
  const old = typeof o === 'number' && Number.isFinite(o) ? o : null;
  const neu = typeof n === 'number' && Number.isFinite(n) ? n : null;
  if (old === null || neu === null) {
    return { metric, unit, old, new: neu, delta: null, allowed: null, regression: false, improved: false, note: old === null && neu === null ? 'not measured' : old === null ? 'new metric' : 'no longer measured' };
  }
  const delta = neu - old;
  let allowed: number;
  let worse: number; // how much worse, ≥ 0 when worse
  if (dir === 'lower-better-ms') {
    allowed = Math.max(tol.ms, (tol.percent / 100) * Math.abs(old));
    worse = delta;
  } else if (dir === 'count') {
    allowed = 0;
    worse = delta;
  } else {
    allowed = tol.db;
    worse = -delta;
  }
  return { metric, unit, old, new: neu, delta, allowed, regression: worse > allowed, improved: worse < 0 };
}

/** Compares OLD and NEW; per-case latency is matched by suite and case name. */
export function compareReports(oldR: ComparableReport, newR: ComparableReport, tol: CompareTolerance = DEFAULT_TOLERANCE, paths: { old: string; new: string } = { old: 'OLD', new: 'NEW' }): Comparison {
  const rows: CompareRow[] = [
    compareValue('summary.latencyMs', 'ms', oldR.summary.latencyMs, newR.summary.latencyMs, 'lower-better-ms', tol),
    compareValue('summary.latencyMsMax', 'ms', oldR.summary.latencyMsMax, newR.summary.latencyMsMax, 'lower-better-ms', tol),
    compareValue('summary.dropouts', '', oldR.summary.dropouts, newR.summary.dropouts, 'count', tol),
    compareValue('summary.captureBufferMsP99', 'ms', oldR.summary.captureBufferMsP99, newR.summary.captureBufferMsP99, 'lower-better-ms', tol),
    compareValue('summary.snrDbMin', 'dB', oldR.summary.snrDbMin, newR.summary.snrDbMin, 'higher-better-db', tol),
  ];
  const key = (c: { suite: string; name: string }) => `${c.suite}\u0000${c.name}`;
  const newCases = new Map(newR.cases.map((c) => [key(c), c]));
  const seen = new Set<string>();
  for (const c of oldR.cases) {
    seen.add(key(c));
    const n = newCases.get(key(c));
    if (c.metrics.latencyMs === undefined && n?.metrics.latencyMs === undefined) continue;
    const row = compareValue(`${c.suite}/${c.name} latencyMs`, 'ms', c.metrics.latencyMs, n?.metrics.latencyMs, 'lower-better-ms', tol);
    if (!n) row.note = 'case missing in NEW';
    rows.push(row);
  }
  for (const c of newR.cases) {
    if (seen.has(key(c)) || c.metrics.latencyMs === undefined) continue;
    rows.push(compareValue(`${c.suite}/${c.name} latencyMs`, 'ms', undefined, c.metrics.latencyMs, 'lower-better-ms', tol));
  }
  if (oldR.passed && !newR.passed) {
    rows.push({ metric: 'verdict', unit: '', old: 1, new: 0, delta: -1, allowed: 0, regression: true, improved: false, note: 'PASS → FAIL' });
  }
  const side = (r: ComparableReport, path: string) => ({ path, version: r.version, backend: r.backend, device: r.device.name, startedAt: r.startedAt, passed: r.passed });
  return { old: side(oldR, paths.old), new: side(newR, paths.new), tolerance: tol, rows, regressions: rows.filter((r) => r.regression).length };
}

function fmtDelta(r: CompareRow): string {
  if (r.delta === null) return 'n/a';
  const s = formatNumber(r.delta);
  return r.delta > 0 ? `+${s}` : s;
}

function status(r: CompareRow): string {
  return r.regression ? 'REGRESSION' : r.improved ? 'better' : r.note ?? 'ok';
}

/** Plain-text table for the console (names pass through `clean`, e.g. escapeTerminal). */
export function compareTable(c: Comparison, clean: (s: string) => string = (s) => s): string {
  const head = ['metric', 'old', 'new', 'delta', 'allowed', 'status'];
  const lines = c.rows.map((r) => [clean(r.metric), formatNumber(r.old), formatNumber(r.new), fmtDelta(r), r.allowed === null ? 'n/a' : formatNumber(r.allowed), status(r)]);
  const w = head.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i]!.length)));
  const fmt = (cells: string[]) => cells.map((x, i) => (i === 0 || i === 5 ? x.padEnd(w[i]!) : x.padStart(w[i]!))).join('  ').trimEnd();
  const tol = c.tolerance;
  return (
    [
      `compare ${clean(c.old.path)} (${c.old.passed ? 'PASS' : 'FAIL'}) → ${clean(c.new.path)} (${c.new.passed ? 'PASS' : 'FAIL'})`,
      `tolerance: latency +${formatNumber(tol.ms)} ms or +${formatNumber(tol.percent)} % (larger), dropouts +0, SNR −${formatNumber(tol.db)} dB`,
      fmt(head),
      ...lines.map(fmt),
      c.regressions ? `${c.regressions} regression(s)` : 'no regressions',
    ].join('\n') + '\n'
  );
}

const CSS = BASE_CSS + `
.verdict{border-radius:6px;padding:14px 18px;color:#fff;background:var(--pass)}.verdict.fail{background:var(--fail)}
.verdict h1{margin:0;font-size:26px}.verdict p{margin:4px 0 0;overflow-wrap:anywhere}
tr.regression td{background:#fde2e4}tr.regression td.status{color:var(--fail);font-weight:700}
tr.improved td.status{color:var(--pass)}
`;

/** compare.html: self-contained (inline CSS, no script); every string from the reports is escaped. */
export function renderCompareHtml(c: Comparison): string {
  const e = escapeHtml;
  const tol = c.tolerance;
  const body = c.rows
    .map(
      (r) =>
        `<tr class="${r.regression ? 'regression' : r.improved ? 'improved' : ''}"><td>${e(r.metric)}</td><td class="num">${e(formatNumber(r.old))}</td><td class="num">${e(formatNumber(r.new))}</td>` +
        `<td class="num">${e(fmtDelta(r))}${r.unit && r.delta !== null ? ` ${e(r.unit)}` : ''}</td><td class="num">${r.allowed === null ? 'n/a' : e(formatNumber(r.allowed))}</td><td class="status">${e(status(r))}</td></tr>`,
    )
    .join('');
  const side = (label: string, s: Comparison['old']) =>
    `<tr><th scope="row">${label}</th><td>${e(s.path)}</td><td>${e(s.version)}</td><td>${e(s.backend)}</td><td>${e(s.device)}</td><td>${e(s.startedAt)}</td><td>${s.passed ? 'PASS' : 'FAIL'}</td></tr>`;
  return (
    '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n<meta name="viewport" content="width=device-width, initial-scale=1">\n' +
    `<title>loopcheck compare — ${c.regressions ? `${c.regressions} regression(s)` : 'no regressions'}</title>\n<style>${CSS}</style>\n</head>\n<body>\n<main>\n` +
    `<header class="verdict${c.regressions ? ' fail' : ''}"><h1>${c.regressions ? `${c.regressions} regression(s)` : 'No regressions'}</h1>` +
    `<p>Tolerance: latency +${e(formatNumber(tol.ms))} ms or +${e(formatNumber(tol.percent))} % of OLD (the larger), dropouts +0, SNR −${e(formatNumber(tol.db))} dB, PASS → FAIL.</p></header>\n` +
    `<table><thead><tr><th></th><th>File</th><th>Version</th><th>Backend</th><th>Device</th><th>Started</th><th>Verdict</th></tr></thead><tbody>${side('OLD', c.old)}${side('NEW', c.new)}</tbody></table>\n` +
    `<table><thead><tr><th>Metric</th><th>OLD</th><th>NEW</th><th>Δ (NEW − OLD)</th><th>Allowed</th><th>Status</th></tr></thead><tbody>${body}</tbody></table>\n` +
    '<p class="muted">Generated by loopcheck compare. Self-contained: no scripts, no external resources.</p>\n</main>\n</body>\n</html>\n'
  );
}
