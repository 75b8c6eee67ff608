/**
 * report.json: the `Report` model as 2-space JSON. Cases are serialised as
 * `{ suite, name, passed, metrics, failures, durationMs }` (the analysis/plot arrays stay out of the file);
 * every number goes through `roundForJson` (4 decimals, or 4 significant digits below 1e-3; NaN/±Infinity → null).
 */
import type { CaseResult } from '../harness/types.js';
import { roundForJson } from './format.js';
import type { Report, Reporter } from './types.js';

/** The JSON shape of one case: a CaseResult without `analysis` and `plots`. */
export type SerializedCase = Pick<CaseResult, 'suite' | 'name' | 'passed' | 'metrics' | 'failures' | 'durationMs'>;

export function serializeCase(c: CaseResult): SerializedCase {
  return { suite: c.suite, name: c.name, passed: c.passed, metrics: c.metrics, failures: c.failures, durationMs: c.durationMs };
}

/**
 * Deep copy into plain JSON values: numbers rounded (non-finite → null), typed arrays → arrays,
 * `undefined`/functions dropped, other objects copied key by key (insertion order kept).
 */
export function toJsonValue(value: unknown): unknown {
  if (typeof value === 'number') return roundForJson(value);
  if (typeof value === 'bigint') return Number(value);
  if (value === null || typeof value === 'string' || typeof value === 'boolean') return value;
  if (value === undefined || typeof value === 'function' || typeof value === 'symbol') return undefined;
  if (ArrayBuffer.isView(value) && !(value instanceof DataView)) return Array.from(value as unknown as ArrayLike<number>, (v) => roundForJson(Number(v)));
  if (Array.isArray(value)) return value.map((v) => toJsonValue(v) ?? null);
  if (value instanceof Date) return value.toISOString();
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
    const j = toJsonValue(v);
    if (j !== undefined) out[k] = j;
  }
  return out;
}

/** The plain object written to report.json (exported for tests and for `--json` on stdout). */
export function reportToJson(report: Report): Record<string, unknown> {
  return toJsonValue({ ...report, cases: report.cases.map(serializeCase) }) as Record<string, unknown>;
}

export class JsonReporter implements Reporter {
  readonly name = 'json';
  readonly fileName = 'report.json';

  render(report: Report): string {
    return `${JSON.stringify(reportToJson(report), null, 2)}\n`;
  }
}
