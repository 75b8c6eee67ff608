import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { consoleSummary } from '../../src/report/console.js';
import { criteriaRows } from '../../src/report/criteria.js';
import { appendStepSummary, markdownSummary } from '../../src/report/markdown.js';
import { HOSTILE_NAME, makeReport } from './report-fixture.js';

describe('criteriaRows', () => {
  it('computes measured value, margin and status per criterion', () => {
    const rows = criteriaRows(makeReport({ passed: false }));
    expect(rows.map((r) => [r.key, r.measured, r.margin, r.status])).toEqual([
      ['maxLatencyMs', 120.5, -20.5, 'fail'],
      ['maxDropouts', 3, -3, 'fail'],
      ['minSnrDb', 70.5, 10.5, 'pass'],
    ]);
    const pass = criteriaRows(makeReport({ passed: true }));
    expect(pass.every((r) => r.status === 'pass')).toBe(true);
    // latency is "strictly less than": exactly at the limit fails.
    const atLimit = makeReport({ passed: true });
    atLimit.summary.latencyMsMax = 100;
    expect(criteriaRows(atLimit)[0]!.status).toBe('fail');
    // not measured → n/a, unless a case reported a failure for it
    const unmeasured = makeReport({ passed: true });
    unmeasured.summary.snrDbMin = null;
    expect(criteriaRows(unmeasured)[2]!.status).toBe('n/a');
  });
});

describe('consoleSummary', () => {
  it('prints verdict, SIMULATED banner, criteria and failing cases without colour codes', () => {
    const text = consoleSummary(makeReport({ passed: false, simulated: true, deviceName: HOSTILE_NAME }), { color: false });
    const lines = text.trimEnd().split('\n');
    expect(lines[0]).toContain('FAIL');
    expect(lines[1]).toBe('SIMULATED — no real audio device was measured');
    expect(text).toMatch(/FAIL Latency \(max over repeats\)\s+120\.5 ms\s+\(limit < 100 ms, margin -20\.5 ms\)/);
    expect(text).toMatch(/ok {3}SNR \(min\)\s+70\.5 dB/);
    expect(text).toContain('latency/repeat 2: latency 120.5 ms is not below 100 ms');
    expect(text).toContain('dropouts & <glitches>/sine 60 s: 3 dropouts found');
    expect(text).not.toContain('\x1b');
    expect(text).not.toContain('\u0007'); // control chars from the device name are neutralised
    expect(lines.length).toBeLessThan(15);
  });

  it('uses ANSI colours only when asked, and no banner when not simulated', () => {
    const text = consoleSummary(makeReport({ passed: true }), { color: true });
    expect(text).toContain('\x1b[1;32mPASS\x1b[0m');
    expect(text).not.toContain('SIMULATED');
  });
});

describe('markdownSummary / appendStepSummary', () => {
  const dirs: string[] = [];
  afterAll(async () => Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true }))));

  it('renders a criteria table and escapes HTML/Markdown in outside strings', () => {
    const md = markdownSummary(makeReport({ passed: false, simulated: true, deviceName: HOSTILE_NAME }));
    expect(md).toContain('## loopcheck: ❌ FAIL');
    expect(md).toContain('SIMULATED — no real audio device was measured');
    expect(md).toContain('| Latency (max over repeats) | &lt; 100 ms | 120.5 ms | -20.5 ms | ❌ fail |');
    expect(md).not.toContain('<img');
    expect(md).toContain('&lt;img src=x onerror=alert(1)&gt;');
    expect(md).toContain('- dropouts &amp; &lt;glitches&gt; / sine 60 s');
    // A `|` in a name cannot break a table row.
    const piped = makeReport({ passed: false });
    piped.cases[1]!.failures[0]!.message = 'a | b';
    expect(markdownSummary(piped)).toContain('a \\| b');
    expect(markdownSummary(makeReport({ passed: true }))).not.toContain('SIMULATED');
  });

  it('appends to GITHUB_STEP_SUMMARY when set, does nothing when not', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'loopcheck-md-'));
    dirs.push(dir);
    const file = join(dir, 'summary.md');
    await writeFile(file, 'previous step\n');
    const report = makeReport({ passed: true });
    expect(await appendStepSummary(report, {})).toBe(false);
    expect(await appendStepSummary(report, { GITHUB_STEP_SUMMARY: '' })).toBe(false);
    expect(await appendStepSummary(report, { GITHUB_STEP_SUMMARY: file })).toBe(true);
    const content = await readFile(file, 'utf8');
    expect(content.startsWith('previous step\n## loopcheck: ✅ PASS')).toBe(true);
    await expect(appendStepSummary(report, { GITHUB_STEP_SUMMARY: join(dir, 'missing', 'x.md') })).rejects.toMatchObject({ code: 'INVALID_FILE' });
  });
});
