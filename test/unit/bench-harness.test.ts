import { describe, expect, it } from 'vitest';
import latencySuite from '../../suites/latency.suite.js';
import dropoutSuite from '../../suites/dropouts.suite.js';
import { benchRowFromReport, parseBufferList, parseModes, recommendBuffer, runBench, supportedModes, type BenchRow } from '../../src/harness/bench.js';
import { isLoopcheckError } from '../../src/errors.js';
import { makeReport } from './report-fixture.js';

function row(bufferMs: number, p99: number | null, dropouts: number, extra: Partial<BenchRow> = {}): BenchRow {
  return {
    bufferMs, mode: 'shared', grantedBufferMs: bufferMs, latencyMsMedian: p99, latencyMsP99: p99, latencyMsMax: p99,
    captureBufferMsP99: bufferMs, serverLatencyMsP99: null, dropouts, overruns: 0, underruns: 0, cpuPercent: 1, errors: [], ...extra,
  };
}

function codeOf(f: () => unknown): string | undefined {
  try {
    f();
  } catch (e) {
    return isLoopcheckError(e) ? e.code : 'not a LoopcheckError';
  }
  return undefined;
}

describe('parseBufferList / parseModes', () => {
  it('sorts and de-duplicates sizes', () => {
    expect(parseBufferList('50,10, 20,10')).toEqual([10, 20, 50]);
  });
  it('rejects empty, zero, too large and non-numeric sizes', () => {
    for (const bad of ['', '10,,20', '0', '2001', 'ten', '10,x']) expect(codeOf(() => parseBufferList(bad)), bad).toBe('INVALID_ARGUMENT');
  });
  it('has exclusive on wasapi only', () => {
    expect(supportedModes('wasapi')).toEqual(['shared', 'exclusive']);
    expect(parseModes('shared,exclusive', 'wasapi')).toEqual(['shared', 'exclusive']);
    expect(parseModes('shared', 'pulse')).toEqual(['shared']);
    expect(codeOf(() => parseModes('exclusive', 'pulse'))).toBe('INVALID_ARGUMENT');
    expect(codeOf(() => parseModes('shared,exclusive', 'virtual'))).toBe('INVALID_ARGUMENT');
    expect(codeOf(() => parseModes('turbo', 'wasapi'))).toBe('INVALID_ARGUMENT');
  });
});

describe('recommendBuffer', () => {
  it('picks the smallest size with zero dropouts and p99 strictly below the limit', () => {
    const rows = [row(5, 8, 3), row(10, 12, 0), row(20, 22, 0)];
    expect(recommendBuffer(rows, 100).bufferMs).toBe(10);
    // p99 equal to the limit does not qualify (strictly less than).
    expect(recommendBuffer([row(10, 100, 0), row(20, 99.9, 0)], 100).bufferMs).toBe(20);
  });
  it('skips rows with case errors or no latency, and says why when nothing qualifies', () => {
    expect(recommendBuffer([row(10, 12, 0, { errors: ['signal not found'] }), row(20, null, 0), row(50, 40, 0)], 100).bufferMs).toBe(50);
    const none = recommendBuffer([row(10, 12, 1), row(20, 150, 0)], 100);
    expect(none.bufferMs).toBeNull();
    expect(none.reason).toMatch(/no buffer size/);
  });
});

describe('benchRowFromReport', () => {
  it('takes latency percentiles from the latency suite only and dropouts from the dropouts suite only', () => {
    const report = makeReport({ passed: false });
    const suites = new Set(report.cases.map((c) => c.suite));
    const latName = [...suites][0]!;
    const lat = report.cases.filter((c) => c.suite === latName).map((c) => c.metrics.latencyMs).filter((v): v is number => typeof v === 'number');
    const r = benchRowFromReport(report, 20, 'shared', 12.5, latName, 'no-such-suite');
    expect(r.dropouts).toBe(0);
    expect(r.latencyMsMax).toBe(lat.length ? Math.max(...lat) : null);
    expect(r.cpuPercent).toBe(12.5);
    expect(r.grantedBufferMs).toBe(report.format.bufferMs);
  });
});

describe('runBench on the virtual backend', () => {
  it('one row per size; the capture buffer p99 follows the simulated period', async () => {
    const result = await runBench({
      backend: 'virtual', buffersMs: [10, 40], modes: ['shared'], repeat: 2, dropoutSeconds: 1, load: 1,
      latencySuite, dropoutSuite,
    });
    expect(result.simulated).toBe(true);
    expect(result.rows.map((r) => r.bufferMs)).toEqual([10, 40]);
    // Virtual device: chunk k is delivered at the end of its period, so delivery − device time of its first frame
    // is one period exactly; 1e-6 ms absorbs float rounding of frame→ms conversion.
    expect(result.rows[0]!.captureBufferMsP99).toBeCloseTo(10, 6);
    expect(result.rows[1]!.captureBufferMsP99).toBeCloseTo(40, 6);
    // Simulated write→delivery latency is the configured 20 ms default (design.md), at every buffer size.
    for (const r of result.rows) {
      expect(r.latencyMsMedian).toBeCloseTo(20, 6);
      expect(r.dropouts).toBe(0);
    }
    expect(result.recommendation.bufferMs).toBe(10);
    expect(result.notes.join(' ')).toMatch(/only shared mode/);
  });
});
