/** The compact terminal summary printed after a run. Outside strings are stripped of control characters. */
import { criteriaRows } from './criteria.js';
import { escapeTerminal } from './escape.js';
import { formatDurationMs, formatNumber, formatValue } from './format.js';
import type { Report } from './types.js';

export interface ConsoleSummaryOptions {
  /** ANSI colours (callers pass `stream.isTTY && !process.env.NO_COLOR`). */
  color: boolean;
}

const ANSI = { red: '31', green: '32', yellow: '33', bold: '1', dim: '2' } as const;

/** Multi-line summary: verdict, SIMULATED/INTERRUPTED banners, criteria with measured values, failing cases. */
export function consoleSummary(report: Report, options: ConsoleSummaryOptions): string {
  const paint = (style: keyof typeof ANSI | (keyof typeof ANSI)[], text: string) =>
    options.color ? `\x1b[${(Array.isArray(style) ? style : [style]).map((s) => ANSI[s]).join(';')}m${text}\x1b[0m` : text;
  const t = escapeTerminal;
  const lines: string[] = [];
  const verdict = report.passed ? paint(['bold', 'green'], 'PASS') : paint(['bold', 'red'], 'FAIL');
  const f = report.format;
  lines.push(
    `loopcheck ${t(report.version)}: ${verdict} · ${t(report.backend)} · "${t(report.device.name)}" · ` +
      `${f.sampleRate} Hz ${f.channels} ch ${t(f.sampleFormat)}, buffer ${formatNumber(f.bufferMs)} ms`,
  );
  if (report.simulated) lines.push(paint(['bold', 'yellow'], 'SIMULATED — no real audio device was measured'));
  if (report.interrupted) lines.push(paint(['bold', 'red'], `INTERRUPTED — partial report${report.error ? `: ${t(report.error)}` : ''}`));
  else if (report.error) lines.push(paint('red', `error: ${t(report.error)}`));

  const rows = criteriaRows(report);
  if (rows.length) {
    const labelWidth = Math.max(...rows.map((r) => r.label.length));
    const measuredWidth = Math.max(...rows.map((r) => formatValue(r.measured, r.unit).length));
    for (const r of rows) {
      const mark = r.status === 'pass' ? paint('green', 'ok  ') : r.status === 'fail' ? paint(['bold', 'red'], 'FAIL') : paint('dim', 'n/a ');
      lines.push(
        `  ${mark} ${r.label.padEnd(labelWidth)}  ${formatValue(r.measured, r.unit).padStart(measuredWidth)}  ` +
          `(limit ${r.comparator} ${formatValue(r.limit, r.unit)}${r.margin === null ? '' : `, margin ${formatValue(r.margin, r.unit)}`})`,
      );
    }
  }
  const failed = report.cases.filter((c) => !c.passed);
  lines.push(`  ${report.cases.length} case(s), ${failed.length} failed, ${formatDurationMs(report.durationMs)}`);
  for (const c of failed) {
    const why = c.failures.map((x) => t(x.message)).join('; ') || 'failed';
    lines.push(`  ${paint('red', '✗')} ${t(c.suite)}/${t(c.name)}: ${why}`);
  }
  return `${lines.join('\n')}\n`;
}
