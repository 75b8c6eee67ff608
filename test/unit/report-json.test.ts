import { describe, expect, it } from 'vitest';
import { roundForJson } from '../../src/report/format.js';
import { JsonReporter, reportToJson } from '../../src/report/json.js';
import { HOSTILE_NAME, makeReport } from './report-fixture.js';

describe('JsonReporter', () => {
  const reporter = new JsonReporter();

  it('writes report.json with every required key and round-trips', () => {
    const report = makeReport({ passed: false, simulated: true, deviceName: HOSTILE_NAME });
    const text = reporter.render(report);
    expect(reporter.fileName).toBe('report.json');
    expect(text.startsWith('{\n  "tool": "loopcheck"')).toBe(true); // 2-space indentation
    const parsed = JSON.parse(text);
    expect(parsed).toEqual(reportToJson(report));
    expect(JSON.parse(JSON.stringify(parsed, null, 2))).toEqual(parsed);
    for (const key of ['tool', 'version', 'passed', 'simulated', 'backend', 'device', 'format', 'criteria', 'summary', 'cases', 'startedAt', 'durationMs']) {
      expect(parsed).toHaveProperty(key);
    }
    expect(parsed.device).toEqual({ id: report.device.id, name: HOSTILE_NAME });
    expect(parsed.simulated).toBe(true);
    expect(parsed.passed).toBe(false);
    expect(parsed.criteria).toEqual({ maxLatencyMs: 100, maxDropouts: 0, minSnrDb: 60 });
    for (const key of ['latencyMs', 'latencyMsMax', 'dropouts', 'captureBufferMsP99', 'snrDbMin']) expect(parsed.summary).toHaveProperty(key);
    expect(parsed.summary.dropouts).toBe(3);
    expect(parsed.cases).toHaveLength(report.cases.length);
    for (const c of parsed.cases) expect(Object.keys(c).sort()).toEqual(['durationMs', 'failures', 'metrics', 'name', 'passed', 'suite']);
    expect(parsed.cases.flatMap((c: { failures: unknown[] }) => c.failures)).toHaveLength(2);
  });

  it('never writes NaN/Infinity and leaves the analysis/plot arrays out', () => {
    const text = reporter.render(makeReport({ passed: false }));
    expect(text).not.toMatch(/NaN|Infinity/);
    expect(text).not.toContain('analysis');
    expect(text).not.toContain('dropoutWindows');
    expect(text).not.toContain('impulseResponse');
    const parsed = JSON.parse(text);
    const dropoutCase = parsed.cases.find((c: { name: string }) => c.name === 'sine 60 s');
    expect(dropoutCase.metrics.snrDb).toBeNull(); // NaN in the fixture
    expect(dropoutCase.metrics.gainDb).toBeNull(); // +Infinity in the fixture
    expect(dropoutCase.metrics.dropouts).toHaveLength(3);
    // The fixture holds > 8000 plot samples; the JSON stays small.
    expect(text.length).toBeLessThan(10_000);
  });

  it('rounds floats to 4 decimals (4 significant digits below 1e-3)', () => {
    const parsed = JSON.parse(reporter.render(makeReport({ passed: true })));
    expect(parsed.cases[0].metrics.latencyMs).toBe(25.7163); // 25.716333
    expect(parsed.cases[2].metrics.latencyMs).toBe(26.1235); // 26.12345678
    expect(parsed.durationMs).toBe(70123.4568);
    expect(parsed.format.sampleRate).toBe(48000);
    expect(roundForJson(0.000123456)).toBe(0.0001235);
    expect(roundForJson(-0.00001)).toBe(-0.00001);
    expect(roundForJson(-0.00004)).toBe(-0.00004);
    expect(roundForJson(Number.NEGATIVE_INFINITY)).toBeNull();
  });
});
