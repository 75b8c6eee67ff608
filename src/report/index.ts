/** Reporters by name, and `writeReports` (atomic writes: temp file in the same directory + rename). */
import { randomBytes } from 'node:crypto';
import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { LoopcheckError } from '../errors.js';
import { HtmlReporter } from './html.js';
import { JsonReporter } from './json.js';
import { JunitReporter } from './junit.js';
import type { Report, Reporter } from './types.js';

export type ReporterName = 'json' | 'junit' | 'html';

export const REPORTERS: Readonly<Record<ReporterName, Reporter>> = Object.freeze({
  json: new JsonReporter(),
  junit: new JunitReporter(),
  html: new HtmlReporter(),
});

export const DEFAULT_REPORTERS: readonly ReporterName[] = ['json', 'junit', 'html'];

function isReporterName(name: string): name is ReporterName {
  return Object.prototype.hasOwnProperty.call(REPORTERS, name);
}

/** Write `content` to `path` atomically: a temp file next to it, then rename (readers never see half a file). */
export async function writeFileAtomic(path: string, content: string): Promise<void> {
  const tmp = `${path}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  try {
    await writeFile(tmp, content, 'utf8');
    await rename(tmp, path);
  } catch (err) {
    await rm(tmp, { force: true });
    throw err;
  }
}

/**
 * Render the named reports (all rendered before any is written) and write them into `outDir`
 * (created if missing). Returns the absolute paths written, in the order of `names` (duplicates ignored).
 */
export async function writeReports(report: Report, outDir: string, names: readonly string[] = DEFAULT_REPORTERS): Promise<string[]> {
  const unknown = names.filter((n) => !isReporterName(n));
  if (unknown.length > 0) {
    throw new LoopcheckError('INVALID_ARGUMENT', `unknown report format(s): ${unknown.join(', ')}`, {
      hint: `use one or more of: ${Object.keys(REPORTERS).join(', ')}`,
    });
  }
  const reporters = [...new Set(names as ReporterName[])].map((n) => REPORTERS[n]);
  const rendered = reporters.map((r) => ({ path: resolve(join(outDir, r.fileName)), content: r.render(report) }));
  try {
    await mkdir(outDir, { recursive: true });
    for (const { path, content } of rendered) await writeFileAtomic(path, content);
  } catch (cause) {
    throw new LoopcheckError('INVALID_FILE', `cannot write reports to ${outDir}: ${(cause as Error).message}`, {
      hint: 'choose a writable --out directory',
      cause,
    });
  }
  return rendered.map((r) => r.path);
}

export { HtmlReporter, JsonReporter, JunitReporter };
export type { Report, Reporter } from './types.js';
export { consoleSummary } from './console.js';
export { markdownSummary, appendStepSummary } from './markdown.js';
export { createProgress, shouldShowProgress } from './progress.js';
