/**
 * Judging measured metrics against criteria: per case (the criteria its suite names) and for the run
 * summary. Pure functions; the runner calls them.
 */
import type { CaseFailure, CaseMetrics, Criteria } from './types.js';
import type { ReportSummary } from '../report/types.js';

function failure(criterion: keyof Criteria, message: string, measured: number | null, limit: number): CaseFailure {
  return { criterion, message, measured, limit };
}

const fmt = (v: number, digits = 2): string => (Number.isInteger(v) ? String(v) : v.toFixed(digits));

/** Failures of one case's metrics against the criteria its suite is judged on. */
export function judgeCase(metrics: CaseMetrics, criteria: Criteria, judgedOn: (keyof Criteria)[]): CaseFailure[] {
  const out: CaseFailure[] = [];
  for (const key of judgedOn) {
    const limit = criteria[key];
    if (limit === undefined) continue;
    switch (key) {
      case 'maxLatencyMs': {
        const v = metrics.latencyMs;
        if (v === null || v === undefined) out.push(failure(key, 'latency could not be measured', null, limit));
        else if (!(v < limit)) out.push(failure(key, `latency ${fmt(v)} ms ≥ ${fmt(limit)} ms`, v, limit));
        break;
      }
      case 'maxDropouts': {
        const v = metrics.dropoutCount ?? 0;
        if (v > limit) out.push(failure(key, `${v} dropout${v === 1 ? '' : 's'} > ${limit} allowed`, v, limit));
        break;
      }
      case 'maxCaptureBufferMsP99': {
        const v = metrics.captureBufferMsP99;
        if (v !== null && v !== undefined && v > limit) out.push(failure(key, `capture buffer p99 ${fmt(v)} ms > ${fmt(limit)} ms`, v, limit));
        break;
      }
      case 'minSnrDb': {
        const v = metrics.snrDb;
        if (v === null || v === undefined) out.push(failure(key, 'SNR could not be measured', null, limit));
        else if (v < limit) out.push(failure(key, `SNR ${fmt(v, 1)} dB < ${fmt(limit, 1)} dB`, v, limit));
        break;
      }
      case 'maxGainErrorDb': {
        const v = metrics.gainDb;
        if (v === null || v === undefined) out.push(failure(key, 'gain could not be measured', null, limit));
        else if (Math.abs(v) > limit) out.push(failure(key, `gain ${fmt(v)} dB, |gain| > ${fmt(limit)} dB`, v, limit));
        break;
      }
      case 'maxThdnDb': {
        const v = metrics.thdnDb;
        if (v === null || v === undefined) out.push(failure(key, 'THD+N could not be measured (no 997 Hz tone found)', null, limit));
        else if (v > limit) out.push(failure(key, `THD+N ${fmt(v, 1)} dB > ${fmt(limit, 1)} dB`, v, limit));
        break;
      }
      case 'maxDriftPpm': {
        const v = metrics.driftPpm;
        if (v !== null && v !== undefined && Math.abs(v) > limit) out.push(failure(key, `drift ${fmt(v)} ppm, |drift| > ${fmt(limit)} ppm`, v, limit));
        break;
      }
      case 'maxOverruns': {
        const v = metrics.overruns ?? 0;
        if (v > limit) out.push(failure(key, `${v} overruns > ${limit} allowed`, v, limit));
        break;
      }
    }
  }
  return out;
}

/** Run-level failures: the summary against the default-judged criteria (latency max, dropouts total). */
export function judgeSummary(summary: ReportSummary, criteria: Criteria): CaseFailure[] {
  const out: CaseFailure[] = [];
  if (summary.latencyMsMax !== null && !(summary.latencyMsMax < criteria.maxLatencyMs)) {
    out.push(failure('maxLatencyMs', `max latency ${fmt(summary.latencyMsMax)} ms ≥ ${fmt(criteria.maxLatencyMs)} ms`, summary.latencyMsMax, criteria.maxLatencyMs));
  }
  if (summary.dropouts > criteria.maxDropouts) {
    out.push(failure('maxDropouts', `${summary.dropouts} dropouts > ${criteria.maxDropouts} allowed`, summary.dropouts, criteria.maxDropouts));
  }
  if (criteria.maxCaptureBufferMsP99 !== undefined && summary.captureBufferMsP99 !== null && summary.captureBufferMsP99 > criteria.maxCaptureBufferMsP99) {
    out.push(failure('maxCaptureBufferMsP99', `capture buffer p99 ${fmt(summary.captureBufferMsP99)} ms > ${fmt(criteria.maxCaptureBufferMsP99)} ms`, summary.captureBufferMsP99, criteria.maxCaptureBufferMsP99));
  }
  return out;
}
