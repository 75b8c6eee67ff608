import { describe, expect, it } from 'vitest';
import { compareReports, compareTable, parseReportJson, renderCompareHtml, DEFAULT_TOLERANCE } from '../../src/report/compare.js';
import { isLoopcheckError } from '../../src/errors.js';
import { renderBenchHtml, latencyWhiskerPlot } from '../../src/report/bench-html.js';
import type { BenchResult, BenchRow } from '../../src/harness/bench.js';
import { HOSTILE_NAME } from './report-fixture.js';

function report(over: { latencyMs?: number; latencyMsMax?: number; dropouts?: number; snr?: number | null; passed?: boolean; caseLat?: number[]; device?: string } = {}) {
  const lat = over.caseLat ?? [20, 21];
  return {
    tool: 'loopcheck', version: '0.1.0', passed: over.passed ?? true, backend: 'virtual', device: { id: 'v', name: over.device ?? 'dev' }, startedAt: '2025-01-01T00:00:00Z',
    summary: { latencyMs: over.latencyMs ?? 20, latencyMsMax: over.latencyMsMax ?? 21, dropouts: over.dropouts ?? 0, captureBufferMsP99: 10, snrDbMin: over.snr === undefined ? 60 : over.snr },
    cases: lat.map((v, i) => ({ suite: 'latency', name: `latency #${i + 1}`, passed: true, metrics: { latencyMs: v } })),
  };
}
const parse = (o: object) => parseReportJson(JSON.stringify(o), 'x.json');

describe('compareReports', () => {
  it('an identical report has no regression and no improvement', () => {
    const c = compareReports(parse(report()), parse(report()));
    expect(c.regressions).toBe(0);
    expect(c.rows.every((r) => r.delta === null || r.delta === 0)).toBe(true);
  });
  it('latency: allowed increase is max(2 ms, 10 % of OLD)', () => {
    // OLD 20 ms: allowance max(2, 2) = 2 ms. +1.9 passes, +2.5 regresses.
    expect(compareReports(parse(report()), parse(report({ latencyMs: 21.9 }))).rows[0]!.regression).toBe(false);
    expect(compareReports(parse(report()), parse(report({ latencyMs: 22.5 }))).rows[0]!.regression).toBe(true);
    // OLD 80 ms: allowance 8 ms (10 %), so +5 ms passes.
    expect(compareReports(parse(report({ latencyMs: 80 })), parse(report({ latencyMs: 85 }))).rows[0]!.regression).toBe(false);
    // A custom 0.5 ms / 0 % tolerance flags +1 ms.
    expect(compareReports(parse(report()), parse(report({ latencyMs: 21 })), { ms: 0.5, percent: 0, db: 3 }).regressions).toBe(1);
  });
  it('any new dropout, an SNR drop beyond 3 dB, PASS → FAIL and a per-case latency jump regress', () => {
    expect(compareReports(parse(report()), parse(report({ dropouts: 1 }))).regressions).toBe(1);
    expect(compareReports(parse(report()), parse(report({ snr: 57.5 }))).regressions).toBe(0);
    expect(compareReports(parse(report()), parse(report({ snr: 56.5 }))).regressions).toBe(1);
    expect(compareReports(parse(report()), parse(report({ passed: false }))).rows.find((r) => r.metric === 'verdict')?.regression).toBe(true);
    const c = compareReports(parse(report()), parse(report({ caseLat: [20, 30] })));
    expect(c.rows.find((r) => r.metric === 'latency/latency #2 latencyMs')?.regression).toBe(true);
  });
  it('improvements and missing metrics are never regressions', () => {
    const c = compareReports(parse(report({ snr: null })), parse(report({ latencyMs: 10, snr: 50 })));
    expect(c.rows[0]!.improved).toBe(true);
    expect(c.rows.find((r) => r.metric === 'summary.snrDbMin')?.note).toBe('new metric');
    expect(c.regressions).toBe(0);
    expect(compareTable(c)).toMatch(/no regressions/);
  });
});

describe('parseReportJson', () => {
  it('rejects invalid JSON, non-reports and bad summaries with INVALID_FILE', () => {
    for (const text of ['{', '[]', '{"tool":"other"}', JSON.stringify({ ...report(), summary: { dropouts: 'x' } }), JSON.stringify({ ...report(), cases: 3 })]) {
      try {
        parseReportJson(text, 'bad.json');
        expect.unreachable(text);
      } catch (e) {
        expect(isLoopcheckError(e) && e.code).toBe('INVALID_FILE');
      }
    }
  });
});

describe('HTML escaping', () => {
  it('compare.html escapes device names', () => {
    const html = renderCompareHtml(compareReports(parse(report({ device: HOSTILE_NAME })), parse(report()), DEFAULT_TOLERANCE));
    expect(html).not.toContain('<img');
    expect(html).toContain('&lt;img src=x onerror=alert(1)&gt;');
    expect(html).not.toMatch(/<script/i);
  });
  it('bench.html escapes the device name and draws a whisker per row with a p99', () => {
    const rows: BenchRow[] = [10, 20].map((b) => ({
      bufferMs: b, mode: 'shared', grantedBufferMs: b, latencyMsMedian: b + 5, latencyMsP99: b + 8, latencyMsMax: b + 8, captureBufferMsP99: b,
      serverLatencyMsP99: null, dropouts: 0, overruns: 0, underruns: 0, cpuPercent: 3, errors: [],
    }));
    const result: BenchResult = {
      tool: 'loopcheck', kind: 'bench', version: '0.1.0', simulated: true, backend: 'virtual', device: { id: HOSTILE_NAME, name: HOSTILE_NAME },
      repeat: 1, dropoutSeconds: 1, load: 0, criteria: { maxLatencyMs: 100, maxDropouts: 0 }, notes: [HOSTILE_NAME], rows,
      recommendation: { bufferMs: 10, mode: 'shared', reason: 'r' }, environment: null, startedAt: 's', durationMs: 1, interrupted: false,
    };
    const html = renderBenchHtml(result);
    expect(html).not.toContain('<img');
    expect(html).not.toMatch(/<script/i);
    const svg = latencyWhiskerPlot(rows, 100);
    expect(svg.match(/class="whisker"/g)?.length).toBe(2);
    expect(svg.match(/<circle/g)?.length).toBe(2);
    expect(latencyWhiskerPlot([], 100)).toContain('no data');
  });
});
