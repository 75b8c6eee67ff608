/**
 * report.html: one self-contained page. Inline CSS (screen + print), inline SVG plots rendered here
 * (./svg.ts), no <script>, no external links, fonts or images. Every string from outside the tool (device
 * names and ids, suite and case names, messages, environment values) goes through `escapeHtml`.
 *
 * Plots, when the data is there: latency per repeat (points, one series per suite, limit as a dashed line),
 * dropouts per case (bars), and per case: frequency response magnitude (log-x), impulse response (time
 * relative to the peak) and a zoomed waveform around each dropout (capture vs aligned reference).
 */
import type { Dropout } from '../analysis/types.js';
import type { CaseMetrics, CaseResult } from '../harness/types.js';
import { criteriaRows } from './criteria.js';
import { escapeHtml } from './escape.js';
import { formatDurationMs, formatNumber, formatValue } from './format.js';
import { barChart, linePlot } from './svg.js';
import type { Report, Reporter } from './types.js';
import { BASE_CSS } from './page-css.js';

/** Dropout-window plots per case; the rest are listed in the dropout table only (keeps the page bounded). */
export const MAX_DROPOUT_PLOTS_PER_CASE = 24;
/** Points per series of a dropout-window plot (windows are short; 1000 keeps the waveform shape). */
const DROPOUT_PLOT_POINTS = 1000;

const CSS = BASE_CSS + `
h1{margin:0;font-size:30px;letter-spacing:.04em}
h3{margin:20px 0 6px;font-size:16px}
.verdict{border-radius:6px;padding:14px 18px;color:#fff}
.verdict.pass{background:var(--pass)}
.verdict.fail{background:var(--fail)}
.verdict p{margin:4px 0 0;opacity:.95;overflow-wrap:anywhere}
.banner{margin:10px 0;padding:12px 16px;border-radius:6px;font-weight:700;font-size:16px;border:3px solid}
.banner.simulated{background:repeating-linear-gradient(135deg,#fff3cd 0 14px,#ffe8a1 14px 28px);border-color:#c99400;color:#5c3d00}
.banner.interrupted{background:#fde2e4;border-color:var(--fail);color:var(--fail)}
.banner small{display:block;font-weight:400;font-size:13px;overflow-wrap:anywhere}
nav.toc h2{border:0;margin:4px 0;font-size:15px}
nav.toc ol{margin:4px 0;padding-left:20px}
.pass-text{color:var(--pass);font-weight:700}
.fail-text{color:var(--fail);font-weight:700}
.na-text{color:var(--muted)}
section.case{background:#fff;border:1px solid var(--line);border-left:6px solid var(--pass);border-radius:6px;padding:4px 14px 10px;margin:14px 0}
section.case.fail{border-left-color:var(--fail)}
ul.failures{color:var(--fail);margin:6px 0}
.plots{display:flex;flex-wrap:wrap;gap:10px}
@media print{
  nav.toc a{color:#111;text-decoration:none}
  section.case,.banner{break-inside:avoid}
  .plots{display:block}
}
`;

const e = escapeHtml;

function statusCell(status: 'pass' | 'fail' | 'n/a'): string {
  if (status === 'pass') return '<td class="pass-text">PASS</td>';
  if (status === 'fail') return '<td class="fail-text">FAIL</td>';
  return '<td class="na-text">not measured</td>';
}

function criteriaTable(report: Report): string {
  const rows = criteriaRows(report);
  if (rows.length === 0) return '<p class="muted">No criteria set.</p>';
  const body = rows
    .map(
      (r) =>
        `<tr><td>${e(r.label)} <span class="muted">(${e(r.key)})</span></td><td class="num">${e(r.comparator)} ${e(formatValue(r.limit, r.unit))}</td>` +
        `<td class="num">${e(formatValue(r.measured, r.unit))}</td><td class="num">${e(formatValue(r.margin, r.unit))}</td>${statusCell(r.status)}</tr>`,
    )
    .join('');
  return `<table><thead><tr><th>Criterion</th><th>Limit</th><th>Measured</th><th>Margin</th><th>Result</th></tr></thead><tbody>${body}</tbody></table>`;
}

function kvTable(rows: [string, string][]): string {
  return `<table class="kv"><tbody>${rows.map(([k, v]) => `<tr><th scope="row">${e(k)}</th><td>${e(v)}</td></tr>`).join('')}</tbody></table>`;
}

function summaryTable(report: Report): string {
  const s = report.summary;
  const failed = report.cases.filter((c) => !c.passed).length;
  const rows: [string, string][] = [
    ['Latency (median over cases)', formatValue(s.latencyMs, 'ms')],
    ['Latency max (judged)', formatValue(s.latencyMsMax, 'ms')],
  ];
  if (s.latencyMsMin !== undefined) rows.push(['Latency min', formatValue(s.latencyMsMin, 'ms')]);
  if (s.latencyMsMedian !== undefined) rows.push(['Latency median', formatValue(s.latencyMsMedian, 'ms')]);
  rows.push(
    ['Dropouts', formatNumber(s.dropouts)],
    ['Capture buffer p50', formatValue(s.captureBufferMsP50, 'ms')],
    ['Capture buffer p99', formatValue(s.captureBufferMsP99, 'ms')],
    ...(s.serverLatencyMsP99 !== undefined && s.serverLatencyMsP99 !== null
      ? ([
          ['Server-reported latency p50 / p99', `${formatValue(s.serverLatencyMsP50, 'ms')} / ${formatValue(s.serverLatencyMsP99, 'ms')}`],
          ['Added by loopcheck (buffer p99 − server p99)', formatValue((s.captureBufferMsP99 ?? 0) - s.serverLatencyMsP99, 'ms')],
        ] as [string, string][])
      : []),
    ['SNR min', formatValue(s.snrDbMin, 'dB')],
  );
  if (s.overruns !== undefined) rows.push(['Overruns', formatNumber(s.overruns)]);
  if (s.bitExact !== undefined) rows.push(['Bit-exact', s.bitExact === null ? 'n/a' : s.bitExact ? 'yes' : 'no']);
  rows.push(['Cases', `${report.cases.length} (${failed} failed)`], ['Duration', formatDurationMs(report.durationMs)]);
  return kvTable(rows);
}

/** Latency per repeat: one point series per suite with latency values, the limit as a dashed line. */
function latencyPlot(report: Report): string {
  const bySuite = new Map<string, number[]>();
  for (const c of report.cases) {
    const v = c.metrics.latencyMs;
    if (typeof v !== 'number' || !Number.isFinite(v)) continue;
    const list = bySuite.get(c.suite) ?? [];
    list.push(v);
    bySuite.set(c.suite, list);
  }
  if (bySuite.size === 0) return '';
  const series = [...bySuite].map(([suite, ys]) => ({ label: suite, x: ys.map((_, i) => i + 1), y: ys, style: 'points' as const }));
  const limit = report.criteria.maxLatencyMs;
  const svg = linePlot({
    title: 'Latency per repeat',
    xLabel: 'repeat',
    yLabel: 'latency (ms)',
    integerX: true,
    series,
    referenceLines: Number.isFinite(limit) ? [{ axis: 'y', value: limit, label: `limit ${formatNumber(limit)} ms` }] : [],
  });
  return `<figure>${svg}<figcaption>Write → delivery latency of every repeat; dashed: the limit (strictly less than).</figcaption></figure>`;
}

function dropoutBars(report: Report): string {
  const withCounts = report.cases.filter((c) => typeof c.metrics.dropoutCount === 'number' || Array.isArray(c.metrics.dropouts));
  if (withCounts.length < 2 || !withCounts.some((c) => dropoutCount(c.metrics) > 0)) return '';
  const svg = barChart({
    title: 'Dropouts per case',
    yLabel: 'dropouts',
    labels: withCounts.map((c) => `${c.suite}/${c.name}`),
    values: withCounts.map((c) => dropoutCount(c.metrics)),
  });
  return `<figure>${svg}</figure>`;
}

function dropoutCount(m: CaseMetrics): number {
  return m.dropoutCount ?? m.dropouts?.length ?? 0;
}

const METRIC_LABELS: Record<string, [string, string]> = {
  latencyMs: ['Latency', 'ms'],
  latencySamples: ['Latency', 'samples'],
  latencyConfidence: ['Latency confidence', ''],
  dropoutCount: ['Dropouts', ''],
  gainDb: ['Gain', 'dB'],
  snrDb: ['SNR', 'dB'],
  thdnDb: ['THD+N', 'dB'],
  driftPpm: ['Drift', 'ppm'],
  bitExact: ['Bit-exact', ''],
  captureBufferMsP50: ['Capture buffer p50', 'ms'],
  captureBufferMsP99: ['Capture buffer p99', 'ms'],
  overruns: ['Overruns', ''],
  underruns: ['Underruns', ''],
  discontinuities: ['Discontinuities', ''],
};

function metricValue(v: unknown, unit: string): string {
  if (typeof v === 'number') return formatValue(v, unit);
  if (typeof v === 'boolean') return v ? 'yes' : 'no';
  if (v === null || v === undefined) return 'n/a';
  if (typeof v === 'string') return v;
  return JSON.stringify(v) ?? 'n/a';
}

function metricsTable(m: CaseMetrics): string {
  const rows: string[] = [];
  for (const [key, value] of Object.entries(m)) {
    if (key === 'dropouts' || value === undefined) continue;
    const [label, unit] = METRIC_LABELS[key] ?? [key, ''];
    rows.push(`<tr><th scope="row">${e(label)}</th><td class="num">${e(metricValue(value, unit))}</td></tr>`);
  }
  if (m.dropouts && m.dropoutCount === undefined) rows.push(`<tr><th scope="row">Dropouts</th><td class="num">${m.dropouts.length}</td></tr>`);
  return rows.length ? `<table class="kv"><tbody>${rows.join('')}</tbody></table>` : '<p class="muted">No metrics.</p>';
}

function dropoutTable(dropouts: Dropout[]): string {
  if (dropouts.length === 0) return '';
  const rows = dropouts
    .map((d, i) => `<tr><td class="num">${i + 1}</td><td class="num">${e(formatValue(d.atSeconds, 's'))}</td><td class="num">${e(formatValue(d.durationMs, 'ms'))}</td><td>${e(String(d.kind))}</td></tr>`)
    .join('');
  return `<table><thead><tr><th>#</th><th>At (capture)</th><th>Duration</th><th>Kind</th></tr></thead><tbody>${rows}</tbody></table>`;
}

function frequencyResponsePlot(c: CaseResult): string {
  const fr = c.analysis?.frequencyResponse;
  if (!fr || fr.frequencies.length === 0) return '';
  const [lo, hi] = fr.bandHz;
  const svg = linePlot({
    title: 'Frequency response (magnitude)',
    xLabel: 'frequency (Hz)',
    yLabel: 'magnitude (dB)',
    logX: true,
    series: [{ label: '', x: fr.frequencies, y: fr.magnitudeDb }],
    referenceLines: [
      { axis: 'x', value: lo },
      { axis: 'x', value: hi },
    ],
  });
  return `<figure>${svg}<figcaption>0 dB = mean over 200 Hz – 2 kHz. Ripple ${e(formatValue(fr.rippleDb, 'dB'))} within ${e(formatNumber(lo))}–${e(formatNumber(hi))} Hz (dashed).</figcaption></figure>`;
}

function impulseResponsePlot(c: CaseResult): string {
  const ir = c.analysis?.impulseResponse;
  if (!ir || ir.samples.length === 0 || !(ir.sampleRate > 0)) return '';
  // Time axis: ms relative to the peak, which sits at index preSamples.
  const x = Array.from({ length: ir.samples.length }, (_, i) => ((i - ir.preSamples) / ir.sampleRate) * 1000);
  const svg = linePlot({ title: 'Impulse response', xLabel: 'time from peak (ms)', yLabel: 'amplitude (peak = 1)', series: [{ label: '', x, y: ir.samples }] });
  return `<figure>${svg}</figure>`;
}

/** The dropout matching a window (closest atSeconds), for the plot title. */
function nearestDropout(dropouts: Dropout[] | undefined, atSeconds: number): Dropout | undefined {
  let best: Dropout | undefined;
  for (const d of dropouts ?? []) if (!best || Math.abs(d.atSeconds - atSeconds) < Math.abs(best.atSeconds - atSeconds)) best = d;
  return best && Math.abs(best.atSeconds - atSeconds) < 1e-3 ? best : undefined;
}

function dropoutPlots(c: CaseResult): string {
  const windows = c.plots?.dropoutWindows ?? [];
  const rate = c.plots?.sampleRate ?? 0;
  if (windows.length === 0 || !(rate > 0)) return '';
  let out = '';
  for (const w of windows.slice(0, MAX_DROPOUT_PLOTS_PER_CASE)) {
    // Time axis: ms relative to the dropout; sample i of the window is at startSeconds + i / rate (capture time).
    const n = Math.min(w.capture.length, w.reference.length);
    const x = Array.from({ length: n }, (_, i) => (w.startSeconds + i / rate - w.atSeconds) * 1000);
    const d = nearestDropout(c.metrics.dropouts, w.atSeconds);
    const title = `Dropout at ${formatNumber(w.atSeconds)} s${d ? ` (${d.kind}, ${formatNumber(d.durationMs)} ms)` : ''}`;
    const svg = linePlot({
      title,
      xLabel: 'time from dropout (ms)',
      yLabel: 'amplitude',
      width: 480,
      height: 240,
      maxPointsPerSeries: DROPOUT_PLOT_POINTS,
      series: [
        { label: 'aligned reference', x, y: w.reference.subarray(0, n) },
        { label: 'capture', x, y: w.capture.subarray(0, n) },
      ],
      referenceLines: [{ axis: 'x', value: 0 }],
    });
    out += `<figure>${svg}</figure>`;
  }
  const more = windows.length - MAX_DROPOUT_PLOTS_PER_CASE;
  const note = more > 0 ? `<p class="muted">${more} more dropout window(s) not plotted (see the table).</p>` : '';
  return `<h4>Dropouts, zoomed</h4><div class="plots">${out}</div>${note}`;
}

function caseSection(c: CaseResult, index: number): string {
  const failures = c.failures.length
    ? `<ul class="failures">${c.failures.map((f) => `<li><strong>${e(f.criterion)}</strong>: ${e(f.message)}${f.measured !== undefined || f.limit !== undefined ? ` <span class="muted">(measured ${e(formatNumber(f.measured))}, limit ${e(formatNumber(f.limit))})</span>` : ''}</li>`).join('')}</ul>`
    : '';
  const warnings = c.analysis?.warnings?.length ? `<ul class="muted">${c.analysis.warnings.map((w) => `<li>${e(w)}</li>`).join('')}</ul>` : '';
  const plots = frequencyResponsePlot(c) + impulseResponsePlot(c);
  return (
    `<section class="case ${c.passed ? 'pass' : 'fail'}" id="case-${index + 1}">` +
    `<h3>${e(c.suite)} / ${e(c.name)} — <span class="${c.passed ? 'pass-text' : 'fail-text'}">${c.passed ? 'PASS' : 'FAIL'}</span> <span class="muted">(${e(formatDurationMs(c.durationMs))})</span></h3>` +
    failures +
    metricsTable(c.metrics) +
    dropoutTable(c.metrics.dropouts ?? []) +
    warnings +
    (plots ? `<div class="plots">${plots}</div>` : '') +
    dropoutPlots(c) +
    '</section>'
  );
}

function environmentTable(report: Report): string {
  const f = report.format;
  const rows: [string, string][] = [
    ['OS', report.environment.os],
    ['Node', report.environment.node],
    ['Host', report.environment.hostname],
    ['Backend', `${report.backend}${report.simulated ? ' (simulated)' : ''}`],
    ['Device name', report.device.name],
    ['Device id', report.device.id],
    ['Format', `${f.sampleRate} Hz, ${f.channels} ch, ${f.sampleFormat}`],
    ['Buffer', formatValue(f.bufferMs, 'ms')],
    ['loopcheck version', report.version],
    ...(report.environment.addon ? ([['Native addon', report.environment.addon]] as [string, string][]) : []),
    ...(report.environment.library ? ([['Audio library', report.environment.library]] as [string, string][]) : []),
    ['Started', report.startedAt],
    ['Duration', formatDurationMs(report.durationMs)],
  ];
  const impair = report.environment.impair;
  if (impair && Object.keys(impair).length > 0) rows.push(['Impairments', Object.entries(impair).map(([k, v]) => `${k}=${v}`).join(', ')]);
  return kvTable(rows);
}

export class HtmlReporter implements Reporter {
  readonly name = 'html';
  readonly fileName = 'report.html';

  render(report: Report): string {
    const verdict = report.passed ? 'PASS' : 'FAIL';
    const banners =
      (report.simulated
        ? '<div class="banner simulated" role="alert">SIMULATED — no real audio device was measured<small>The virtual backend produced these numbers on a simulated clock; they say nothing about real hardware.</small></div>'
        : '') +
      (report.interrupted
        ? `<div class="banner interrupted" role="alert">INTERRUPTED — partial report${report.error ? `<small>${e(report.error)}</small>` : ''}</div>`
        : report.error
          ? `<div class="banner interrupted" role="alert">Run error<small>${e(report.error)}</small></div>`
          : '');
    const latency = latencyPlot(report);
    const bars = dropoutBars(report);
    const toc =
      '<nav class="toc"><h2>Contents</h2><ol>' +
      '<li><a href="#criteria">Criteria</a></li><li><a href="#summary">Summary</a></li>' +
      (latency ? '<li><a href="#latency">Latency</a></li>' : '') +
      `<li><a href="#cases">Cases</a><ol>${report.cases
        .map((c, i) => `<li><a href="#case-${i + 1}">${e(c.suite)} / ${e(c.name)}</a> <span class="${c.passed ? 'pass-text' : 'fail-text'}">${c.passed ? 'PASS' : 'FAIL'}</span></li>`)
        .join('')}</ol></li>` +
      '<li><a href="#environment">Environment</a></li></ol></nav>';
    return (
      '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n' +
      '<meta name="viewport" content="width=device-width, initial-scale=1">\n' +
      `<title>loopcheck ${verdict} — ${e(report.device.name)}</title>\n<style>${CSS}</style>\n</head>\n<body>\n<main>\n` +
      `<header class="verdict ${report.passed ? 'pass' : 'fail'}"><h1>${verdict}</h1>` +
      `<p>loopcheck ${e(report.version)} · backend ${e(report.backend)} · ${e(report.device.name)} · ${e(report.startedAt)}</p></header>\n` +
      banners +
      toc +
      `\n<section id="criteria"><h2>Criteria</h2>${criteriaTable(report)}</section>\n` +
      `<section id="summary"><h2>Summary</h2>${summaryTable(report)}${bars}</section>\n` +
      (latency ? `<section id="latency"><h2>Latency</h2>${latency}</section>\n` : '') +
      `<section id="cases"><h2>Cases</h2>${report.cases.length ? report.cases.map(caseSection).join('\n') : '<p class="muted">No cases ran.</p>'}</section>\n` +
      `<section id="environment"><h2>Environment</h2>${environmentTable(report)}</section>\n` +
      `<footer>Generated by loopcheck ${e(report.version)}. Self-contained: no scripts, no external resources.</footer>\n` +
      '</main>\n</body>\n</html>\n'
    );
  }
}
