/**
 * The criteria table every format shows: criterion, limit, measured, margin, pass/fail.
 * `measured` comes from the report summary (or the worst case metric); `status` is `fail` when the measured
 * value misses the limit OR any case reports a failure for that criterion (the harness stays the authority).
 */
import type { CaseResult, Criteria } from '../harness/types.js';
import type { Report } from './types.js';

export type CriterionKey = keyof Criteria;

interface CriterionSpec {
  label: string;
  unit: string;
  /** `<` strictly less, `≤` at most, `≥` at least. */
  comparator: '<' | '≤' | '≥';
  measure: (report: Report) => number | null;
}

/** Largest finite value of `pick` over the cases, or null when no case measured it. */
function worstOverCases(cases: CaseResult[], pick: (c: CaseResult) => number | null | undefined): number | null {
  let worst: number | null = null;
  for (const c of cases) {
    const v = pick(c);
    if (typeof v === 'number' && Number.isFinite(v) && (worst === null || v > worst)) worst = v;
  }
  return worst;
}

function finiteOrNull(x: number | null | undefined): number | null {
  return typeof x === 'number' && Number.isFinite(x) ? x : null;
}

const SPECS: Record<CriterionKey, CriterionSpec> = {
  maxLatencyMs: {
    label: 'Latency (max over repeats)',
    unit: 'ms',
    comparator: '<',
    measure: (r) => finiteOrNull(r.summary.latencyMsMax) ?? worstOverCases(r.cases, (c) => c.metrics.latencyMs),
  },
  maxDropouts: { label: 'Dropouts', unit: '', comparator: '≤', measure: (r) => finiteOrNull(r.summary.dropouts) },
  maxCaptureBufferMsP99: {
    label: 'Capture buffer p99',
    unit: 'ms',
    comparator: '<',
    measure: (r) => finiteOrNull(r.summary.captureBufferMsP99),
  },
  minSnrDb: { label: 'SNR (min)', unit: 'dB', comparator: '≥', measure: (r) => finiteOrNull(r.summary.snrDbMin) },
  maxGainErrorDb: {
    label: '|Gain| (max)',
    unit: 'dB',
    comparator: '≤',
    measure: (r) => worstOverCases(r.cases, (c) => (typeof c.metrics.gainDb === 'number' ? Math.abs(c.metrics.gainDb) : null)),
  },
  maxThdnDb: { label: 'THD+N (max)', unit: 'dB', comparator: '≤', measure: (r) => worstOverCases(r.cases, (c) => c.metrics.thdnDb) },
  maxDriftPpm: {
    label: '|Drift| (max)',
    unit: 'ppm',
    comparator: '≤',
    measure: (r) => worstOverCases(r.cases, (c) => (typeof c.metrics.driftPpm === 'number' ? Math.abs(c.metrics.driftPpm) : null)),
  },
  maxOverruns: {
    label: 'Overruns',
    unit: '',
    comparator: '≤',
    measure: (r) => {
      if (typeof r.summary.overruns === 'number') return finiteOrNull(r.summary.overruns);
      let sum: number | null = null;
      for (const c of r.cases) if (typeof c.metrics.overruns === 'number') sum = (sum ?? 0) + c.metrics.overruns;
      return sum;
    },
  },
};

export interface CriterionRow {
  key: CriterionKey;
  label: string;
  unit: string;
  comparator: '<' | '≤' | '≥';
  limit: number;
  measured: number | null;
  /** Headroom in the criterion's unit: limit − measured for max criteria, measured − limit for min. Negative = missed. */
  margin: number | null;
  status: 'pass' | 'fail' | 'n/a';
}

/** One row per criterion set in `report.criteria`, in a fixed order. */
export function criteriaRows(report: Report): CriterionRow[] {
  const rows: CriterionRow[] = [];
  for (const key of Object.keys(SPECS) as CriterionKey[]) {
    const limit = report.criteria[key];
    if (typeof limit !== 'number' || Number.isNaN(limit)) continue;
    const spec = SPECS[key];
    const caseFailures = report.cases.flatMap((c) => c.failures.filter((f) => f.criterion === key));
    let measured = spec.measure(report);
    if (measured === null) {
      // Fall back to what the harness recorded with the failure, worst first.
      const fromFailures = caseFailures.map((f) => f.measured).filter((m): m is number => typeof m === 'number' && Number.isFinite(m));
      if (fromFailures.length > 0) measured = spec.comparator === '≥' ? Math.min(...fromFailures) : Math.max(...fromFailures);
    }
    const margin = measured === null ? null : spec.comparator === '≥' ? measured - limit : limit - measured;
    const missed =
      measured !== null && (spec.comparator === '<' ? !(measured < limit) : spec.comparator === '≤' ? !(measured <= limit) : !(measured >= limit));
    const status = missed || caseFailures.length > 0 ? 'fail' : measured === null ? 'n/a' : 'pass';
    rows.push({ key, label: spec.label, unit: spec.unit, comparator: spec.comparator, limit, measured, margin, status });
  }
  return rows;
}
