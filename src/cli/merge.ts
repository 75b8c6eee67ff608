/**
 * `loopcheck merge DIR… [--out DIR]`: finds report.json files (directories are searched recursively; files are
 * taken as given), combines them into one fleet summary (src/report/merge.ts) and writes merge.json and merge.html.
 * Exit 0 every report passed; 1 one failed (the last line names the failing machines); 2 bad input: no report
 * found, or a file unreadable or not a report.json (one line naming it).
 */
import path from 'node:path';
import { mkdir, readdir, readFile, stat } from 'node:fs/promises';
import { LoopcheckError } from '../errors.js';
import { escapeTerminal } from '../report/escape.js';
import { roundForJson } from '../report/format.js';
import { writeFileAtomic } from '../report/index.js';
import { renderMergeHtml } from '../report/merge-html.js';
import { mergeReports, mergeTable, parseMergeInput, type MergeInput } from '../report/merge.js';
import { VERSION } from '../version.js';
import type { CommandIo } from './io.js';
import { formatHelp, parse } from './options.js';

const DEFAULT_OUT = path.join('reports', 'merge');

const HELP = formatHelp({
  usage: 'loopcheck merge DIR|report.json… [--out DIR] [--json]',
  summary:
    'Combines the report.json files of many runners into one summary: a pass/fail matrix (machine × suite),\n' +
    'latency per machine (per-case min/median/max) and every case, worst first. Directories are searched\n' +
    'recursively for files named report.json. A machine is the report\'s host name with its backend, device and\n' +
    'buffer. Writes merge.json and merge.html (self-contained). Exit 0 all passed; 1 a report failed; 2 bad input.',
  options: [
    ['--out DIR', `where merge.json and merge.html go (default ${DEFAULT_OUT}); --json prints merge.json instead of the table`],
  ],
});

/** Directories not worth descending into when looking for reports. */
const SKIP_DIRS = new Set(['node_modules', '.git']);

const clip = (p: string) => escapeTerminal(p.length > 160 ? `…${p.slice(-159)}` : p);

/** report.json files under `dir`, sorted; symbolic links are not followed (no loops). */
async function findReports(dir: string): Promise<string[]> {
  const found: string[] = [];
  const walk = async (d: string): Promise<void> => {
    const entries = await readdir(d, { withFileTypes: true });
    for (const entry of entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
      const p = path.join(d, entry.name);
      if (entry.isDirectory() && !SKIP_DIRS.has(entry.name)) await walk(p);
      else if (entry.isFile() && entry.name === 'report.json') found.push(p);
    }
  };
  await walk(dir);
  return found;
}

/** The report files the arguments name, in argument order, each once. */
async function collect(args: string[]): Promise<string[]> {
  const files: string[] = [];
  for (const arg of args) {
    let isDir: boolean;
    try {
      isDir = (await stat(arg)).isDirectory();
    } catch (cause) {
      throw new LoopcheckError('INVALID_FILE', `merge: cannot read ${clip(arg)}: ${(cause as NodeJS.ErrnoException).code ?? (cause as Error).message}`, {
        hint: 'pass directories holding report.json files, or report.json files',
        cause,
      });
    }
    if (!isDir) {
      files.push(arg);
      continue;
    }
    let inDir: string[];
    try {
      inDir = await findReports(arg);
    } catch (cause) {
      throw new LoopcheckError('INVALID_FILE', `merge: cannot search ${clip(arg)}: ${(cause as NodeJS.ErrnoException).code ?? (cause as Error).message}`, { hint: 'check the directory permissions', cause });
    }
    if (inDir.length === 0) {
      throw new LoopcheckError('INVALID_FILE', `merge: no report.json found in ${clip(arg)}`, { hint: 'pass the directories `loopcheck verify --out DIR` wrote (or downloaded artifacts holding them)' });
    }
    files.push(...inDir);
  }
  const seen = new Set<string>();
  return files.filter((f) => {
    const key = path.resolve(f);
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

async function load(file: string): Promise<MergeInput> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (cause) {
    throw new LoopcheckError('INVALID_FILE', `merge: cannot read ${clip(file)}: ${(cause as NodeJS.ErrnoException).code ?? (cause as Error).message}`, {
      hint: 'pass report.json files written by `loopcheck verify --out DIR`',
      cause,
    });
  }
  return parseMergeInput(text, clip(file));
}

export async function merge(argv: string[], io: CommandIo): Promise<number> {
  const { values, positionals } = parse('merge', argv, { out: { type: 'string' } }, true);
  if (values.help) {
    io.stdout.write(HELP);
    return 0;
  }
  if (positionals.length === 0) {
    throw new LoopcheckError('INVALID_ARGUMENT', 'merge: expected at least one directory or report.json', { hint: 'loopcheck merge reports-linux/ reports-windows/ --out merged' });
  }
  const files = await collect(positionals);
  const inputs = [];
  for (const source of files) inputs.push({ source, report: await load(source) });
  const result = mergeReports(inputs, VERSION);
  const json = `${JSON.stringify(result, (_k, v: unknown) => (typeof v === 'number' ? roundForJson(v) : v), 2)}\n`;
  const out = values.out ?? DEFAULT_OUT;
  try {
    await mkdir(out, { recursive: true });
    await writeFileAtomic(path.join(out, 'merge.json'), json);
    await writeFileAtomic(path.join(out, 'merge.html'), renderMergeHtml(result));
  } catch (cause) {
    throw new LoopcheckError('INVALID_FILE', `merge: cannot write to ${clip(out)}: ${(cause as Error).message.split('\n')[0]}`, { hint: 'choose a writable --out directory', cause });
  }
  io.stdout.write(values.json ? json : mergeTable(result, escapeTerminal, [`wrote ${escapeTerminal(path.join(out, 'merge.html'))} and merge.json`]));
  return result.passed ? 0 : 1;
}
