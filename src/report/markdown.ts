/** GitHub step summary (`$GITHUB_STEP_SUMMARY`): verdict, banners, criteria table, failing cases. */
import { appendFile } from 'node:fs/promises';
import { LoopcheckError } from '../errors.js';
import { criteriaRows } from './criteria.js';
import { escapeMarkdown } from './escape.js';
import { formatDurationMs, formatNumber, formatValue } from './format.js';
import type { Report } from './types.js';

const m = escapeMarkdown;

export function markdownSummary(report: Report): string {
  const out: string[] = [];
  out.push(`## loopcheck: ${report.passed ? '✅ PASS' : '❌ FAIL'}`, '');
  if (report.simulated) out.push('> ⚠️ **SIMULATED — no real audio device was measured** (virtual backend).', '');
  if (report.interrupted) out.push(`> ⛔ **INTERRUPTED — partial report**${report.error ? `: ${m(report.error)}` : ''}`, '');
  else if (report.error) out.push(`> ⛔ **Run error**: ${m(report.error)}`, '');
  const f = report.format;
  out.push(
    `Backend ${m(report.backend)} · device ${m(report.device.name)} · ${f.sampleRate} Hz, ${f.channels} ch, ${m(f.sampleFormat)}, ` +
      `buffer ${formatNumber(f.bufferMs)} ms · loopcheck ${m(report.version)} · ${formatDurationMs(report.durationMs)}`,
    '',
  );
  const rows = criteriaRows(report);
  if (rows.length) {
    out.push('| Criterion | Limit | Measured | Margin | Result |', '|---|---:|---:|---:|---|');
    for (const r of rows) {
      const result = r.status === 'pass' ? '✅ pass' : r.status === 'fail' ? '❌ fail' : 'not measured';
      out.push(`| ${m(r.label)} | ${m(`${r.comparator} ${formatValue(r.limit, r.unit)}`)} | ${m(formatValue(r.measured, r.unit))} | ${m(formatValue(r.margin, r.unit))} | ${result} |`);
    }
    out.push('');
  }
  const failed = report.cases.filter((c) => !c.passed);
  out.push(`${report.cases.length} case(s), ${failed.length} failed.`);
  if (failed.length) {
    out.push('', '**Failing cases**', '');
    for (const c of failed) out.push(`- ${m(c.suite)} / ${m(c.name)}: ${c.failures.map((x) => m(x.message)).join('; ') || 'failed'}`);
  }
  return `${out.join('\n')}\n`;
}

/**
 * Append the summary to the file named by `GITHUB_STEP_SUMMARY`. Returns false (writes nothing) when the
 * variable is unset or empty; throws LoopcheckError INVALID_FILE when the file cannot be appended to.
 */
export async function appendStepSummary(report: Report, env: Record<string, string | undefined> = process.env): Promise<boolean> {
  const file = env.GITHUB_STEP_SUMMARY;
  if (!file) return false;
  try {
    await appendFile(file, `${markdownSummary(report)}\n`, 'utf8');
  } catch (cause) {
    throw new LoopcheckError('INVALID_FILE', `cannot append the step summary to GITHUB_STEP_SUMMARY=${file}: ${(cause as Error).message}`, {
      hint: 'unset GITHUB_STEP_SUMMARY or point it at a writable file',
      cause,
    });
  }
  return true;
}
