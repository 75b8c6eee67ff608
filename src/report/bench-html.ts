/**
 * bench.html: one self-contained page (inline CSS and SVG, no script, no external resources) for a buffer-size
 * benchmark: the recommendation, a table of rows, latency vs buffer size (median as points joined by a line,
 * a whisker from the median up to p99, the latency limit dashed) on a log10 x axis with ticks at the measured
 * sizes, and dropouts per size as bars. Every string from outside (device name/id, notes, errors) is escaped.
 */
import type { BenchResult, BenchRow } from '../harness/bench.js';
import { escapeHtml, escapeXml } from './escape.js';
import { formatDurationMs, formatNumber, formatValue } from './format.js';
import { PALETTE, barChart, fmtCoord, makeScale, niceTicks, plotArea, widenDomain, formatTick } from './svg.js';
import { BASE_CSS } from './page-css.js';

const e = escapeHtml;

const CSS = BASE_CSS + `
h1{margin:0;font-size:26px}
.rec{border-radius:6px;padding:14px 18px;color:#fff;background:var(--pass);margin-top:10px}
.rec.none{background:var(--fail)}
.rec p{margin:4px 0 0;overflow-wrap:anywhere}
.banner{margin:10px 0;padding:12px 16px;border-radius:6px;font-weight:700;border:3px solid #c99400;background:#fff3cd;color:#5c3d00}
tr.best td{background:#e6f4ea}
@media print{
  nav.toc{display:none}
  .rec{break-inside:avoid}
}
`;

function rowLabel(r: BenchRow, modes: number): string {
  return modes > 1 ? `${formatNumber(r.bufferMs)} ms ${r.mode}` : `${formatNumber(r.bufferMs)} ms`;
}

/**
 * Latency vs requested buffer size: per mode, medians as points joined by a line and a whisker from the
 * median to p99; x is log10(buffer ms) with a tick at each measured size; the latency limit is dashed.
 */
export function latencyWhiskerPlot(rows: readonly BenchRow[], limitMs: number, width = 640, height = 300): string {
  const title = 'Latency vs buffer size (median, whisker to p99)';
  const modes = [...new Set(rows.map((r) => r.mode))];
  const hasLegend = modes.length > 1;
  const area = plotArea(width, height, true, hasLegend);
  const bottom = area.top + area.height;
  let out =
    `<svg class="plot" viewBox="0 0 ${width} ${height}" width="${width}" height="${height}" role="img" aria-label="${escapeXml(title)}" font-family="system-ui, sans-serif" font-size="11">` +
    `<title>${escapeXml(title)}</title>` +
    `<text x="${fmtCoord(width / 2)}" y="16" text-anchor="middle" font-size="13" font-weight="600">${escapeXml(title)}</text>` +
    `<rect class="plot-area" x="${fmtCoord(area.left)}" y="${fmtCoord(area.top)}" width="${fmtCoord(area.width)}" height="${fmtCoord(area.height)}" fill="#fff" stroke="#888"/>` +
    `<text x="${fmtCoord(area.left + area.width / 2)}" y="${fmtCoord(height - 6)}" text-anchor="middle">requested buffer (ms, log scale)</text>` +
    `<text x="12" y="${fmtCoord(area.top + area.height / 2)}" text-anchor="middle" transform="rotate(-90 12 ${fmtCoord(area.top + area.height / 2)})">write → delivery latency (ms)</text>`;
  const usable = rows.filter((r) => r.bufferMs > 0 && typeof r.latencyMsMedian === 'number' && Number.isFinite(r.latencyMsMedian));
  if (usable.length === 0) {
    return `${out}<text x="${fmtCoord(area.left + area.width / 2)}" y="${fmtCoord(area.top + area.height / 2)}" text-anchor="middle" fill="#666">no data</text></svg>`;
  }
  const sizes = [...new Set(usable.map((r) => r.bufferMs))].sort((a, b) => a - b);
  // Log x with a half-step margin each side so end points are not on the frame.
  const [x0, x1] = widenDomain(sizes[0]!, sizes[sizes.length - 1]!, true);
  const pad = (Math.log10(x1) - Math.log10(x0)) * 0.08;
  const sx = makeScale(10 ** (Math.log10(x0) - pad), 10 ** (Math.log10(x1) + pad), area.left, area.left + area.width, true);
  const ys = usable.flatMap((r) => [r.latencyMsMedian!, r.latencyMsP99 ?? r.latencyMsMedian!]);
  if (Number.isFinite(limitMs)) ys.push(limitMs);
  let [y0, y1] = widenDomain(Math.min(0, ...ys), Math.max(...ys) * 1.05);
  const yt = niceTicks(y0, y1, Math.max(2, Math.round(area.height / 50)));
  y1 = Math.max(y1, yt.ticks[yt.ticks.length - 1] ?? y1);
  y0 = Math.min(y0, yt.ticks[0] ?? y0);
  const sy = makeScale(y0, y1, bottom, area.top);

  let grid = '<g class="grid" stroke="#e3e3e3">';
  let labels = '<g class="ticks" fill="#333">';
  for (const v of yt.ticks) {
    const y = fmtCoord(sy(v));
    grid += `<line x1="${fmtCoord(area.left)}" y1="${y}" x2="${fmtCoord(area.left + area.width)}" y2="${y}"/>`;
    labels += `<text x="${fmtCoord(area.left - 4)}" y="${y}" text-anchor="end" dominant-baseline="middle">${escapeXml(formatTick(v, yt.step))}</text>`;
  }
  for (const s of sizes) {
    const x = fmtCoord(sx(s));
    grid += `<line x1="${x}" y1="${fmtCoord(area.top)}" x2="${x}" y2="${fmtCoord(bottom)}"/>`;
    labels += `<text x="${x}" y="${fmtCoord(bottom + 14)}" text-anchor="middle">${escapeXml(formatNumber(s))}</text>`;
  }
  out += `${grid}</g>${labels}</g>`;
  if (Number.isFinite(limitMs) && limitMs >= y0 && limitMs <= y1) {
    const y = fmtCoord(sy(limitMs));
    out += `<line class="ref" x1="${fmtCoord(area.left)}" y1="${y}" x2="${fmtCoord(area.left + area.width)}" y2="${y}" stroke="#B00020" stroke-dasharray="5 3"/>`;
    out += `<text x="${fmtCoord(area.left + area.width - 4)}" y="${fmtCoord(sy(limitMs) - 4)}" text-anchor="end" fill="#B00020">${escapeXml(`limit ${formatNumber(limitMs)} ms`)}</text>`;
  }
  modes.forEach((mode, mi) => {
    const color = PALETTE[mi % PALETTE.length]!;
    const pts = usable.filter((r) => r.mode === mode).sort((a, b) => a.bufferMs - b.bufferMs);
    // Modes side by side: a small x offset (px) so whiskers of equal sizes do not overlap.
    const dx = (mi - (modes.length - 1) / 2) * 6;
    let d = '';
    let g = `<g class="series" fill="${color}" stroke="${color}">`;
    for (const [i, r] of pts.entries()) {
      const x = sx(r.bufferMs) + dx;
      const ym = sy(r.latencyMsMedian!);
      d += `${i === 0 ? 'M' : 'L'}${fmtCoord(x)} ${fmtCoord(ym)}`;
      if (typeof r.latencyMsP99 === 'number' && Number.isFinite(r.latencyMsP99)) {
        const yp = sy(r.latencyMsP99);
        g += `<line class="whisker" x1="${fmtCoord(x)}" y1="${fmtCoord(ym)}" x2="${fmtCoord(x)}" y2="${fmtCoord(yp)}" stroke-width="1.5"/>`;
        g += `<line class="whisker-cap" x1="${fmtCoord(x - 5)}" y1="${fmtCoord(yp)}" x2="${fmtCoord(x + 5)}" y2="${fmtCoord(yp)}" stroke-width="1.5"/>`;
      }
      g += `<circle cx="${fmtCoord(x)}" cy="${fmtCoord(ym)}" r="3.5"><title>${escapeXml(`${formatNumber(r.bufferMs)} ms ${r.mode}: median ${formatNumber(r.latencyMsMedian)} ms, p99 ${formatNumber(r.latencyMsP99)} ms`)}</title></circle>`;
    }
    out += `<path class="series" d="${d}" fill="none" stroke="${color}" stroke-width="1.5"/>${g}</g>`;
    if (hasLegend) {
      const lx = area.left + mi * 110;
      out += `<g class="legend"><circle cx="${fmtCoord(lx + 7)}" cy="${fmtCoord(area.top - 14)}" r="3" fill="${color}"/><text x="${fmtCoord(lx + 16)}" y="${fmtCoord(area.top - 10)}">${escapeXml(mode)}</text></g>`;
    }
  });
  return `${out}</svg>`;
}

function rowsTable(result: BenchResult): string {
  const best = result.recommendation;
  const body = result.rows
    .map((r) => {
      const isBest = best.bufferMs === r.bufferMs && best.mode === r.mode;
      const cells = [
        formatValue(r.bufferMs, 'ms'),
        r.mode,
        formatValue(r.grantedBufferMs, 'ms'),
        formatValue(r.latencyMsMedian, 'ms'),
        formatValue(r.latencyMsP99, 'ms'),
        formatValue(r.captureBufferMsP99, 'ms'),
        formatNumber(r.dropouts),
        formatNumber(r.overruns),
        formatNumber(r.underruns),
        r.cpuPercent === null ? 'n/a' : `${formatNumber(r.cpuPercent)} %`,
      ];
      const errs = r.errors.length ? `<tr><td colspan="10" class="muted">${e(r.errors.join('; '))}</td></tr>` : '';
      return `<tr${isBest ? ' class="best"' : ''}>${cells.map((c, i) => (i === 1 ? `<td>${e(c)}</td>` : `<td class="num">${e(c)}</td>`)).join('')}</tr>${errs}`;
    })
    .join('');
  return (
    '<table><thead><tr><th>Buffer</th><th>Mode</th><th>Granted</th><th>Latency median</th><th>Latency p99</th>' +
    `<th>Capture buffer p99</th><th>Dropouts</th><th>Overruns</th><th>Underruns</th><th>CPU</th></tr></thead><tbody>${body}</tbody></table>`
  );
}

function kv(rows: [string, string][]): string {
  return `<table><tbody>${rows.map(([k, v]) => `<tr><th scope="row">${e(k)}</th><td>${e(v)}</td></tr>`).join('')}</tbody></table>`;
}

/** The whole bench.html page. */
export function renderBenchHtml(result: BenchResult): string {
  const rec = result.recommendation;
  const modes = new Set(result.rows.map((r) => r.mode)).size;
  const recBox =
    rec.bufferMs === null
      ? `<header class="rec none"><h1>No buffer size qualifies</h1><p>${e(rec.reason)}</p></header>`
      : `<header class="rec"><h1>Recommended buffer: ${e(formatValue(rec.bufferMs, 'ms'))}${rec.mode && modes > 1 ? ` (${e(rec.mode)})` : ''}</h1><p>${e(rec.reason)}</p></header>`;
  const banner = result.simulated ? '<div class="banner" role="alert">SIMULATED — the virtual backend was measured, not a real audio device</div>' : '';
  const interrupted = result.interrupted ? '<div class="banner" role="alert">INTERRUPTED — partial benchmark</div>' : '';
  const bars = barChart({
    title: 'Dropouts per buffer size',
    yLabel: 'dropouts',
    labels: result.rows.map((r) => rowLabel(r, modes)),
    values: result.rows.map((r) => r.dropouts),
  });
  const env = result.environment;
  const envRows: [string, string][] = [
    ['Backend', `${result.backend}${result.simulated ? ' (simulated)' : ''}`],
    ['Device name', result.device.name],
    ['Device id', result.device.id],
    ['Latency repeats per size', String(result.repeat)],
    ['Dropout stimulus', `${formatNumber(result.dropoutSeconds)} s per size`],
    ['CPU load workers', String(result.load)],
    ['OS', env?.os ?? 'n/a'],
    ['Node', env?.node ?? process.version],
    ['loopcheck version', result.version],
    ['Started', result.startedAt],
    ['Duration', formatDurationMs(result.durationMs)],
  ];
  const notes = result.notes.length ? `<ul>${result.notes.map((n) => `<li>${e(n)}</li>`).join('')}</ul>` : '';
  return (
    '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n<meta name="viewport" content="width=device-width, initial-scale=1">\n' +
    `<title>loopcheck bench — ${e(result.device.name)}</title>\n<style>${CSS}</style>\n</head>\n<body>\n<main>\n` +
    recBox +
    banner +
    interrupted +
    '<nav class="toc"><a href="#rows">Results</a> · <a href="#latency">Latency</a> · <a href="#dropouts">Dropouts</a> · <a href="#environment">Environment</a></nav>\n' +
    `<section id="rows"><h2>Results</h2>${rowsTable(result)}${notes}<p class="muted">Recommendation rule: the smallest buffer with 0 dropouts and latency p99 &lt; ${e(formatNumber(result.criteria.maxLatencyMs))} ms. CPU: process CPU time ÷ wall time during capture (100 % = one core).</p></section>\n` +
    `<section id="latency"><h2>Latency</h2><figure>${latencyWhiskerPlot(result.rows, result.criteria.maxLatencyMs)}<figcaption>Points: median write → delivery latency; whiskers: p99; dashed: the limit.</figcaption></figure></section>\n` +
    `<section id="dropouts"><h2>Dropouts</h2><figure>${bars}<figcaption>${result.rows.every((r) => r.dropouts === 0) ? 'No dropouts at any buffer size.' : 'Dropouts found in the steady stimulus, per buffer size.'}</figcaption></figure></section>\n` +
    `<section id="environment"><h2>Environment</h2>${kv(envRows)}</section>\n` +
    `<footer>Generated by loopcheck ${e(result.version)}. Self-contained: no scripts, no external resources.</footer>\n</main>\n</body>\n</html>\n`
  );
}
