/**
 * Merges report.json files from many runners (machines, OS versions, devices, buffer sizes) into one fleet
 * summary: a pass/fail matrix (machine × suite), the latency distribution per machine and every case, worst first.
 *
 * - A "machine" is one report: its environment host name plus backend, device name and capture buffer, e.g.
 *   `ci-linux-1 (pulse, Null Output, 50 ms)`, so two runs on one host with different devices stay apart. A label
 *   that still repeats (the same set-up twice) is numbered ` #1`, ` #2`, … in input order.
 * - A matrix cell is `pass` when every case of that suite passed, `fail` when one did not, `missing` when the report
 *   has no case of that suite (not selected, or the run was interrupted first).
 * - Latency per machine: the report's summary latencyMs (median over cases) and latencyMsMax (judged), and
 *   min/median/max over the per-case latencyMs (write → delivery, ms); cases without a latency are left out.
 * - Worst first: failing machines first, then by latencyMsMax, descending; cases: failed first, then by latencyMs.
 * Strings are kept as they were in the reports; the renderers escape them.
 */
import { LoopcheckError } from '../errors.js';
import { percentile } from '../dsp/stats.js';
import { formatNumber } from './format.js';
import { isObj, parseLoopcheckJson } from './read-report.js';

/** The parts of a report.json that merge reads (validated by `parseMergeInput`). */
export interface MergeInput {
  version: string;
  passed: boolean;
  simulated: boolean;
  interrupted: boolean;
  error: string | null;
  backend: string;
  device: { id: string; name: string };
  bufferMs: number | null;
  maxLatencyMs: number | null;
  summary: { latencyMs: number | null; latencyMsMax: number | null; dropouts: number };
  cases: { suite: string; name: string; passed: boolean; latencyMs: number | null; failures: string[] }[];
  environment: { hostname: string | null; os: string | null; node: string | null; addon: string | null };
  startedAt: string;
}

export type CellStatus = 'pass' | 'fail' | 'missing';

export interface MergeMachine {
  /** Unique within the merge: host (backend, device, buffer). */
  label: string;
  hostname: string;
  backend: string;
  device: { id: string; name: string };
  bufferMs: number | null;
  passed: boolean;
  simulated: boolean;
  interrupted: boolean;
  /** Why the run stopped early, when it did. */
  error: string | null;
  /** The report.json this machine came from. */
  source: string;
  versions: { loopcheck: string; node: string | null; addon: string | null };
  os: string | null;
  startedAt: string;
  maxLatencyMs: number | null;
  suites: Record<string, { status: CellStatus; cases: number; failed: number }>;
  /** ms; `cases*` over the per-case latencyMs values (`caseCount` of them). */
  latency: { summaryMs: number | null; summaryMsMax: number | null; casesMin: number | null; casesMedian: number | null; casesMax: number | null; caseCount: number };
  dropouts: number;
  /** One line per unmet criterion: `suite/case: message`. */
  failures: string[];
}

export interface MergeCase {
  machine: string;
  suite: string;
  name: string;
  passed: boolean;
  latencyMs: number | null;
  failures: string[];
}

export interface MergeResult {
  tool: 'loopcheck';
  kind: 'merge';
  /** Version of the loopcheck that merged (each machine carries its own in `versions`). */
  version: string;
  passed: boolean;
  reports: number;
  failed: number;
  /** Labels of the failing machines, worst first. */
  failedMachines: string[];
  simulated: number;
  suites: string[];
  /** rows = machine labels (same order as `machines`), columns = suites, cells[row][column]. */
  matrix: { rows: string[]; columns: string[]; cells: CellStatus[][] };
  machines: MergeMachine[];
  /** Every case of every machine, worst first. */
  cases: MergeCase[];
}

const finiteOrNull = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);
const strOrNull = (v: unknown): string | null => (typeof v === 'string' ? v : null);

/** Parses and validates a report.json text; INVALID_FILE naming the file otherwise. */
export function parseMergeInput(text: string, source: string): MergeInput {
  const bad = (why: string) =>
    new LoopcheckError('INVALID_FILE', `merge: ${source.slice(0, 160)} is not a loopcheck report.json: ${why}`, {
      hint: 'pass directories holding report.json files written by `loopcheck verify --out DIR`, or the files themselves',
    });
  const v = parseLoopcheckJson(text, bad);
  if (typeof v.passed !== 'boolean') throw bad('"passed" must be true or false');
  if (!isObj(v.summary)) throw bad('no "summary" object');
  const s = v.summary;
  for (const k of ['latencyMs', 'latencyMsMax'] as const) {
    if (s[k] !== undefined && s[k] !== null && finiteOrNull(s[k]) === null) throw bad(`summary.${k} must be a number or null`);
  }
  if (finiteOrNull(s.dropouts) === null) throw bad('summary.dropouts must be a number');
  if (!Array.isArray(v.cases)) throw bad('no "cases" array');
  const cases = v.cases.map((c: unknown, i: number) => {
    if (!isObj(c) || typeof c.suite !== 'string' || typeof c.name !== 'string' || typeof c.passed !== 'boolean' || !isObj(c.metrics)) {
      throw bad(`cases[${i}] needs suite, name, passed and metrics`);
    }
    const lat = c.metrics.latencyMs;
    if (lat !== undefined && lat !== null && finiteOrNull(lat) === null) throw bad(`cases[${i}].metrics.latencyMs must be a number or null`);
    const failures = Array.isArray(c.failures) ? c.failures.map((f) => (isObj(f) && typeof f.message === 'string' ? f.message : String(f))) : [];
    return { suite: c.suite, name: c.name, passed: c.passed, latencyMs: finiteOrNull(lat), failures };
  });
  const device = isObj(v.device) ? v.device : {};
  const env = isObj(v.environment) ? v.environment : {};
  const format = isObj(v.format) ? v.format : {};
  const criteria = isObj(v.criteria) ? v.criteria : {};
  return {
    version: String(v.version ?? '?'),
    passed: v.passed,
    simulated: v.simulated === true,
    interrupted: v.interrupted === true,
    error: strOrNull(v.error),
    backend: String(v.backend ?? '?'),
    device: { id: String(device.id ?? ''), name: String(device.name ?? '') },
    bufferMs: finiteOrNull(format.bufferMs),
    maxLatencyMs: finiteOrNull(criteria.maxLatencyMs),
    summary: { latencyMs: finiteOrNull(s.latencyMs), latencyMsMax: finiteOrNull(s.latencyMsMax), dropouts: s.dropouts as number },
    cases,
    environment: { hostname: strOrNull(env.hostname), os: strOrNull(env.os), node: strOrNull(env.node), addon: strOrNull(env.addon) },
    startedAt: String(v.startedAt ?? ''),
  };
}

/** `host (backend, device, N ms)`; an unknown host says so. */
export function machineLabel(r: MergeInput): string {
  const host = r.environment.hostname || 'unknown host';
  const parts = [r.backend, r.device.name || r.device.id || 'default device', ...(r.bufferMs === null ? [] : [`${formatNumber(r.bufferMs)} ms`])];
  return `${host} (${parts.join(', ')})`;
}

/** Descending comparator; null (not measured) sorts after every number. */
const desc = (a: number | null, b: number | null) => (b ?? -Infinity) - (a ?? -Infinity);

function toMachine(r: MergeInput, source: string, label: string, suites: readonly string[]): MergeMachine {
  const cells: MergeMachine['suites'] = {};
  for (const suite of suites) {
    const cs = r.cases.filter((c) => c.suite === suite);
    const failed = cs.filter((c) => !c.passed).length;
    cells[suite] = { status: cs.length === 0 ? 'missing' : failed > 0 ? 'fail' : 'pass', cases: cs.length, failed };
  }
  const lat = r.cases.map((c) => c.latencyMs).filter((x): x is number => x !== null);
  const failures = r.cases.flatMap((c) => c.failures.map((f) => `${c.suite}/${c.name}: ${f}`));
  if (r.interrupted) failures.unshift(`interrupted${r.error ? `: ${r.error}` : ''}`);
  else if (!r.passed && failures.length === 0) failures.push(r.cases.length === 0 ? 'no case completed' : 'a summary criterion failed (see its report)');
  return {
    label,
    hostname: r.environment.hostname ?? '',
    backend: r.backend,
    device: r.device,
    bufferMs: r.bufferMs,
    passed: r.passed,
    simulated: r.simulated,
    interrupted: r.interrupted,
    error: r.error,
    source,
    versions: { loopcheck: r.version, node: r.environment.node, addon: r.environment.addon },
    os: r.environment.os,
    startedAt: r.startedAt,
    maxLatencyMs: r.maxLatencyMs,
    suites: cells,
    latency: {
      summaryMs: r.summary.latencyMs,
      summaryMsMax: r.summary.latencyMsMax,
      casesMin: lat.length ? Math.min(...lat) : null,
      casesMedian: percentile(lat, 50),
      casesMax: lat.length ? Math.max(...lat) : null,
      caseCount: lat.length,
    },
    dropouts: r.summary.dropouts,
    failures,
  };
}

/** Combines parsed reports (in the order given; `source` = the file each came from) into one fleet summary. */
export function mergeReports(inputs: readonly { source: string; report: MergeInput }[], version: string): MergeResult {
  const suites = [...new Set(inputs.flatMap((i) => i.report.cases.map((c) => c.suite)))];
  const count = new Map<string, number>();
  for (const i of inputs) count.set(machineLabel(i.report), (count.get(machineLabel(i.report)) ?? 0) + 1);
  const nth = new Map<string, number>();
  const rows = inputs.map(({ source, report }) => {
    const base = machineLabel(report);
    const n = (nth.get(base) ?? 0) + 1;
    nth.set(base, n);
    return { report, machine: toMachine(report, source, count.get(base)! > 1 ? `${base} #${n}` : base, suites) };
  });
  rows.sort((a, b) => Number(a.machine.passed) - Number(b.machine.passed) || desc(a.machine.latency.summaryMsMax, b.machine.latency.summaryMsMax) || a.machine.label.localeCompare(b.machine.label));
  const machines = rows.map((r) => r.machine);
  const cases: MergeCase[] = rows.flatMap(({ report, machine }) =>
    report.cases.map((c) => ({ machine: machine.label, suite: c.suite, name: c.name, passed: c.passed, latencyMs: c.latencyMs, failures: c.failures })),
  );
  cases.sort((a, b) => Number(a.passed) - Number(b.passed) || desc(a.latencyMs, b.latencyMs));
  const failedMachines = machines.filter((m) => !m.passed).map((m) => m.label);
  return {
    tool: 'loopcheck',
    kind: 'merge',
    version,
    passed: failedMachines.length === 0,
    reports: machines.length,
    failed: failedMachines.length,
    failedMachines,
    simulated: machines.filter((m) => m.simulated).length,
    suites,
    matrix: { rows: machines.map((m) => m.label), columns: suites, cells: machines.map((m) => suites.map((s) => m.suites[s]!.status)) },
    machines,
    cases,
  };
}

/** The one-line verdict: how many passed, and which machines failed. */
export function mergeSummaryLine(m: MergeResult, clean: (s: string) => string = (s) => s): string {
  const sim = m.simulated ? ` (${m.simulated} SIMULATED)` : '';
  if (m.passed) return `merge: all ${m.reports} report(s) passed${sim}`;
  return `merge: ${m.failed} of ${m.reports} report(s) FAILED${sim}: ${m.failedMachines.map(clean).join('; ')}`;
}

const CELL: Record<CellStatus, string> = { pass: 'PASS', fail: 'FAIL', missing: '-' };

/** Console text: the matrix with latency per machine, the failures, `notes`, and the summary line last. */
export function mergeTable(m: MergeResult, clean: (s: string) => string = (s) => s, notes: string[] = []): string {
  const head = ['machine', ...m.suites, 'verdict', 'lat min', 'lat med', 'lat max', 'dropouts'];
  const lines = m.machines.map((x) => [
    clean(x.label),
    ...m.suites.map((s) => CELL[x.suites[s]!.status]),
    x.passed ? 'PASS' : 'FAIL',
    formatNumber(x.latency.casesMin),
    formatNumber(x.latency.casesMedian),
    formatNumber(x.latency.casesMax),
    formatNumber(x.dropouts),
  ]);
  const w = head.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i]!.length)));
  const fmt = (cells: string[]) => cells.map((c, i) => (i === 0 || i <= m.suites.length + 1 ? c.padEnd(w[i]!) : c.padStart(w[i]!))).join('  ').trimEnd();
  const failures = m.machines.filter((x) => !x.passed).flatMap((x) => x.failures.map((f) => `  ${clean(x.label)}: ${clean(f)}`));
  return [fmt(head), ...lines.map(fmt), 'latency: write → delivery per case, ms', ...(failures.length ? ['failures:', ...failures] : []), ...notes, mergeSummaryLine(m, clean)].join('\n') + '\n';
}
