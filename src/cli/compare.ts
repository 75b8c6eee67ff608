/**
 * `loopcheck compare OLD/report.json NEW/report.json`: a table of metric changes with regressions flagged, and
 * compare.html (with --out). Exit 0 no regression; 1 a regression beyond the tolerance; 2 unreadable/invalid input.
 */
import path from 'node:path';
import { mkdir, readFile } from 'node:fs/promises';
import { LoopcheckError } from '../errors.js';
import { compareReports, compareTable, DEFAULT_TOLERANCE, parseReportJson, renderCompareHtml, type ComparableReport } from '../report/compare.js';
import { escapeTerminal } from '../report/escape.js';
import { roundForJson } from '../report/format.js';
import { writeFileAtomic } from '../report/index.js';
import type { CommandIo } from './io.js';
import { formatHelp, numberOption, parse } from './options.js';

const HELP = formatHelp({
  usage: 'loopcheck compare OLD/report.json NEW/report.json [--tolerance-ms N] [--tolerance-pct P] [--tolerance-db D] [--out DIR]',
  summary:
    'Compares two verify reports: summary latency, latency max, dropouts, capture buffer p99, SNR min and the\n' +
    'latency of every case. A latency-like metric regresses when it grows by more than the larger of\n' +
    '--tolerance-ms and --tolerance-pct of OLD; any new dropout regresses; SNR regresses when it falls by more\n' +
    'than --tolerance-db; PASS → FAIL regresses. Exit 0 no regression; 1 regression; 2 unreadable input.',
  options: [
    ['--tolerance-ms N', `allowed latency increase, ms (default ${DEFAULT_TOLERANCE.ms})`],
    ['--tolerance-pct P', `allowed latency increase, % of OLD (default ${DEFAULT_TOLERANCE.percent})`],
    ['--tolerance-db D', `allowed SNR decrease, dB (default ${DEFAULT_TOLERANCE.db})`],
    ['--out DIR', 'also write DIR/compare.html and DIR/compare.json'],
  ],
});

async function load(file: string): Promise<ComparableReport> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (cause) {
    throw new LoopcheckError('INVALID_FILE', `compare: cannot read ${file.slice(0, 120)}: ${(cause as NodeJS.ErrnoException).code ?? (cause as Error).message}`, {
      hint: 'pass two report.json files written by `loopcheck verify --out DIR`',
      cause,
    });
  }
  return parseReportJson(text, file);
}

export async function compare(argv: string[], io: CommandIo): Promise<number> {
  const { values, positionals } = parse(
    'compare',
    argv,
    {
      'tolerance-ms': { type: 'string' },
      'tolerance-pct': { type: 'string' },
      'tolerance-db': { type: 'string' },
      out: { type: 'string' },
    },
    true,
  );
  if (values.help) {
    io.stdout.write(HELP);
    return 0;
  }
  if (positionals.length !== 2) {
    throw new LoopcheckError('INVALID_ARGUMENT', `compare: expected two report.json files (OLD NEW), got ${positionals.length}`, {
      hint: 'loopcheck compare old/report.json new/report.json',
    });
  }
  const tolerance = {
    ms: numberOption('compare', 'tolerance-ms', values['tolerance-ms'], { min: 0, max: 100_000 }) ?? DEFAULT_TOLERANCE.ms,
    percent: numberOption('compare', 'tolerance-pct', values['tolerance-pct'], { min: 0, max: 10_000 }) ?? DEFAULT_TOLERANCE.percent,
    db: numberOption('compare', 'tolerance-db', values['tolerance-db'], { min: 0, max: 1000 }) ?? DEFAULT_TOLERANCE.db,
  };
  const [oldPath, newPath] = positionals as [string, string];
  const [oldR, newR] = [await load(oldPath), await load(newPath)];
  const result = compareReports(oldR, newR, tolerance, { old: oldPath, new: newPath });
  const json = `${JSON.stringify(result, (_k, v: unknown) => (typeof v === 'number' ? roundForJson(v) : v), 2)}\n`;
  if (values.out) {
    const outDir = path.resolve(values.out);
    try {
      await mkdir(outDir, { recursive: true });
      await writeFileAtomic(path.join(outDir, 'compare.html'), renderCompareHtml(result));
      await writeFileAtomic(path.join(outDir, 'compare.json'), json);
    } catch (cause) {
      throw new LoopcheckError('INVALID_FILE', `compare: cannot write to ${values.out.slice(0, 80)}: ${(cause as Error).message}`, { hint: 'choose a writable --out directory', cause });
    }
  }
  io.stdout.write(values.json ? json : compareTable(result, escapeTerminal));
  return result.regressions > 0 ? 1 : 0;
}
