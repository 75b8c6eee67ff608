/**
 * merge.html: one self-contained page (inline CSS and SVG, no script, no external resources) for a fleet merge:
 * the verdict naming the failing machines, the pass/fail matrix (machine × suite), the latency distribution per
 * machine (a range plot and a table), the worst cases and where every report came from. Every string from the
 * reports (host, device and suite names, paths, messages) is escaped.
 */
import { escapeHtml, escapeXml } from './escape.js';
import { formatNumber, formatValue } from './format.js';
import type { CellStatus, MergeMachine, MergeResult } from './merge.js';
import { BASE_CSS } from './page-css.js';
import { PALETTE, fmtCoord, formatTick, makeScale, niceTicks, widenDomain } from './svg.js';

const e = escapeHtml;

/** Worst cases listed in the page (merge.json has them all). */
const WORST_CASES_SHOWN = 50;

const CSS = BASE_CSS + `
.verdict{border-radius:6px;padding:14px 18px;color:#fff;background:var(--pass)}.verdict.fail{background:var(--fail)}
.verdict h1{margin:0;font-size:26px}.verdict p,.verdict li{margin:4px 0 0;overflow-wrap:anywhere}
.banner{margin:10px 0;padding:12px 16px;border-radius:6px;font-weight:700;border:3px solid #c99400;background:#fff3cd;color:#5c3d00}
td.pass{background:#e6f4ea;color:var(--pass);font-weight:700;text-align:center}
td.fail{background:#fde2e4;color:var(--fail);font-weight:700;text-align:center}
td.missing{color:var(--muted);text-align:center}
tr.failed th{color:var(--fail)}
`;

/**
 * Latency per machine as horizontal ranges: a bar from the smallest to the largest per-case latency, a point at
 * their median, the machine's latency limit as a red tick; one row per machine in page order (worst first).
 */
export function latencyRangePlot(machines: readonly MergeMachine[], width = 760): string {
  const title = 'Latency per machine (per-case min–max, point = median)';
  const labelW = 240;
  const rowH = 22;
  const top = 30;
  const bottom = 38;
  const height = top + bottom + Math.max(1, machines.length) * rowH;
  const area = { left: labelW, top, width: width - labelW - 16, height: height - top - bottom };
  let out =
    `<svg class="plot" viewBox="0 0 ${width} ${height}" width="${width}" height="${height}" role="img" aria-label="${escapeXml(title)}" font-family="system-ui, sans-serif" font-size="11">` +
    `<title>${escapeXml(title)}</title>` +
    `<text x="${fmtCoord(width / 2)}" y="16" text-anchor="middle" font-size="13" font-weight="600">${escapeXml(title)}</text>` +
    `<rect class="plot-area" x="${fmtCoord(area.left)}" y="${fmtCoord(area.top)}" width="${fmtCoord(area.width)}" height="${fmtCoord(area.height)}" fill="#fff" stroke="#888"/>` +
    `<text x="${fmtCoord(area.left + area.width / 2)}" y="${fmtCoord(height - 6)}" text-anchor="middle">write → delivery latency (ms)</text>`;
  const values = machines.flatMap((m) => [m.latency.casesMin, m.latency.casesMax, m.maxLatencyMs]).filter((v): v is number => v !== null);
  if (values.length === 0) {
    return `${out}<text x="${fmtCoord(area.left + area.width / 2)}" y="${fmtCoord(area.top + area.height / 2)}" text-anchor="middle" fill="#666">no data</text></svg>`;
  }
  let [x0, x1] = widenDomain(Math.min(0, ...values), Math.max(...values) * 1.05);
  const xt = niceTicks(x0, x1, Math.max(2, Math.round(area.width / 80)));
  x0 = Math.min(x0, xt.ticks[0] ?? x0);
  x1 = Math.max(x1, xt.ticks[xt.ticks.length - 1] ?? x1);
  const sx = makeScale(x0, x1, area.left, area.left + area.width);
  const bottomY = area.top + area.height;
  let grid = '<g class="grid" stroke="#e3e3e3">';
  let ticks = '<g class="ticks" fill="#333">';
  for (const v of xt.ticks) {
    const x = fmtCoord(sx(v));
    grid += `<line x1="${x}" y1="${fmtCoord(area.top)}" x2="${x}" y2="${fmtCoord(bottomY)}"/>`;
    ticks += `<text x="${x}" y="${fmtCoord(bottomY + 14)}" text-anchor="middle">${escapeXml(formatTick(v, xt.step))}</text>`;
  }
  out += `${grid}</g>${ticks}</g>`;
  machines.forEach((m, i) => {
    const cy = area.top + (i + 0.5) * rowH;
    const color = m.passed ? PALETTE[0] : '#B00020';
    const name = m.label.length > 38 ? `${m.label.slice(0, 37)}…` : m.label;
    out += `<text x="${fmtCoord(area.left - 6)}" y="${fmtCoord(cy)}" text-anchor="end" dominant-baseline="middle" fill="${m.passed ? '#111' : '#B00020'}">${escapeXml(name)}</text>`;
    const { casesMin: lo, casesMedian: med, casesMax: hi } = m.latency;
    if (lo !== null && hi !== null) {
      out +=
        `<g class="range" fill="${color}" stroke="${color}"><line x1="${fmtCoord(sx(lo))}" y1="${fmtCoord(cy)}" x2="${fmtCoord(sx(hi))}" y2="${fmtCoord(cy)}" stroke-width="6" stroke-linecap="round" stroke-opacity="0.35"/>` +
        (med === null ? '' : `<circle cx="${fmtCoord(sx(med))}" cy="${fmtCoord(cy)}" r="4"/>`) +
        `<title>${escapeXml(`${m.label}: min ${formatNumber(lo)} ms, median ${formatNumber(med)} ms, max ${formatNumber(hi)} ms over ${m.latency.caseCount} case(s)`)}</title></g>`;
    }
    if (m.maxLatencyMs !== null && m.maxLatencyMs >= x0 && m.maxLatencyMs <= x1) {
      const x = fmtCoord(sx(m.maxLatencyMs));
      out += `<line class="ref" x1="${x}" y1="${fmtCoord(cy - rowH / 2 + 3)}" x2="${x}" y2="${fmtCoord(cy + rowH / 2 - 3)}" stroke="#B00020" stroke-dasharray="3 2"/>`;
    }
  });
  return `${out}</svg>`;
}

const CELL: Record<CellStatus, string> = { pass: 'PASS', fail: 'FAIL', missing: '—' };

function matrixTable(m: MergeResult): string {
  const head = `<tr><th>Machine</th>${m.suites.map((s) => `<th>${e(s)}</th>`).join('')}<th>Verdict</th></tr>`;
  const body = m.machines
    .map((x) => {
      const cells = m.suites
        .map((s) => {
          const c = x.suites[s]!;
          const title = c.status === 'missing' ? 'not run' : `${c.cases - c.failed} of ${c.cases} case(s) passed`;
          return `<td class="${c.status}" title="${e(title)}">${CELL[c.status]}</td>`;
        })
        .join('');
      const flag = [x.simulated ? 'SIMULATED' : '', x.interrupted ? 'INTERRUPTED' : ''].filter(Boolean).join(', ');
      return `<tr${x.passed ? '' : ' class="failed"'}><th scope="row">${e(x.label)}${flag ? ` <span class="muted">${e(flag)}</span>` : ''}</th>${cells}<td class="${x.passed ? 'pass' : 'fail'}">${x.passed ? 'PASS' : 'FAIL'}</td></tr>`;
    })
    .join('');
  return `<table><thead>${head}</thead><tbody>${body}</tbody></table>`;
}

function latencyTable(m: MergeResult): string {
  const body = m.machines
    .map((x) => {
      const l = x.latency;
      const cells = [l.casesMin, l.casesMedian, l.casesMax, l.summaryMs, l.summaryMsMax, x.maxLatencyMs].map((v) => `<td class="num">${e(formatValue(v, 'ms'))}</td>`).join('');
      return `<tr><th scope="row">${e(x.label)}</th>${cells}<td class="num">${l.caseCount}</td><td class="num">${e(formatNumber(x.dropouts))}</td></tr>`;
    })
    .join('');
  return (
    '<table><thead><tr><th>Machine</th><th>Case min</th><th>Case median</th><th>Case max</th><th>Summary</th><th>Summary max (judged)</th><th>Limit</th><th>Cases</th><th>Dropouts</th></tr></thead>' +
    `<tbody>${body}</tbody></table>`
  );
}

function worstCasesTable(m: MergeResult): string {
  const shown = m.cases.slice(0, WORST_CASES_SHOWN);
  const body = shown
    .map(
      (c) =>
        `<tr${c.passed ? '' : ' class="failed"'}><td>${e(c.machine)}</td><td>${e(c.suite)}</td><td>${e(c.name)}</td><td class="${c.passed ? 'pass' : 'fail'}">${c.passed ? 'PASS' : 'FAIL'}</td>` +
        `<td class="num">${e(formatValue(c.latencyMs, 'ms'))}</td><td>${e(c.failures.join('; '))}</td></tr>`,
    )
    .join('');
  const more = m.cases.length > shown.length ? `<p class="muted">${m.cases.length - shown.length} more case(s) in merge.json.</p>` : '';
  return `<table><thead><tr><th>Machine</th><th>Suite</th><th>Case</th><th>Verdict</th><th>Latency</th><th>Failures</th></tr></thead><tbody>${body}</tbody></table>${more}`;
}

function sourcesTable(m: MergeResult): string {
  const body = m.machines
    .map(
      (x) =>
        `<tr><th scope="row">${e(x.label)}</th><td>${e(x.source)}</td><td>${e(x.device.id)}</td><td>${e(x.os ?? 'n/a')}</td><td>${e(x.versions.loopcheck)}</td>` +
        `<td>${e(x.versions.node ?? 'n/a')}</td><td>${e(x.versions.addon ?? 'n/a')}</td><td>${e(x.startedAt)}</td></tr>`,
    )
    .join('');
  return `<table><thead><tr><th>Machine</th><th>Report</th><th>Device id</th><th>OS</th><th>loopcheck</th><th>Node</th><th>Addon</th><th>Started</th></tr></thead><tbody>${body}</tbody></table>`;
}

/** The whole merge.html page. */
export function renderMergeHtml(m: MergeResult): string {
  const verdict = m.passed ? `All ${m.reports} report(s) passed` : `${m.failed} of ${m.reports} report(s) failed`;
  const failing = m.machines.filter((x) => !x.passed);
  const header =
    `<header class="verdict${m.passed ? '' : ' fail'}"><h1>${e(verdict)}</h1>` +
    (failing.length ? `<ul>${failing.map((x) => `<li>${e(x.label)}: ${e(x.failures[0] ?? 'failed')}${x.failures.length > 1 ? ` (+${x.failures.length - 1} more)` : ''}</li>`).join('')}</ul>` : '') +
    `<p>${m.suites.length} suite(s): ${e(m.suites.join(', ') || 'none')}.</p></header>`;
  const banner = m.simulated ? `<div class="banner" role="alert">SIMULATED — ${m.simulated} of ${m.reports} report(s) measured the virtual backend, not a real audio device</div>` : '';
  return (
    '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n<meta name="viewport" content="width=device-width, initial-scale=1">\n' +
    `<title>loopcheck merge — ${e(verdict)}</title>\n<style>${CSS}</style>\n</head>\n<body>\n<main>\n` +
    header +
    banner +
    '<nav class="toc"><a href="#matrix">Matrix</a> · <a href="#latency">Latency</a> · <a href="#cases">Worst cases</a> · <a href="#sources">Reports</a></nav>\n' +
    `<section id="matrix"><h2>Pass/fail matrix</h2>${matrixTable(m)}<p class="muted">A suite passes on a machine when every case of it passed; — = not run. Failing machines first, then by judged latency.</p></section>\n` +
    `<section id="latency"><h2>Latency</h2><figure>${latencyRangePlot(m.machines)}<figcaption>Bars: per-case write → delivery latency, min to max; points: median; red ticks: each machine's limit.</figcaption></figure>${latencyTable(m)}</section>\n` +
    `<section id="cases"><h2>Worst cases</h2>${worstCasesTable(m)}</section>\n` +
    `<section id="sources"><h2>Reports</h2>${sourcesTable(m)}</section>\n` +
    `<footer>Generated by loopcheck ${e(m.version)} merge. Self-contained: no scripts, no external resources.</footer>\n</main>\n</body>\n</html>\n`
  );
}
