import { mkdtemp, readFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { isOneLineError, loopcheck } from '../support/cli.js';

async function tmp(): Promise<string> {
  return mkdtemp(path.join(os.tmpdir(), 'loopcheck-verify-'));
}

interface ReportJson {
  passed: boolean;
  simulated: boolean;
  backend: string;
  device: { id: string; name: string };
  summary: { latencyMs: number; latencyMsMax: number; dropouts: number; captureBufferMsP99: number | null; snrDbMin: number | null };
  cases: { suite: string; name: string; passed: boolean; failures: unknown[] }[];
}

describe('loopcheck verify on the virtual backend (end to end through the CLI)', () => {
  it('passes with latencyMs=40 and reports 40 ms (±0.1 ms: sub-sample alignment, exact simulated clock)', async () => {
    const out = await tmp();
    const r = await loopcheck(['verify', '--backend', 'virtual', '--impair', 'latencyMs=40', '--out', out]);
    expect(r.stderr).not.toMatch(/\n\s+at /);
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toContain('SIMULATED');
    const report = JSON.parse(await readFile(path.join(out, 'report.json'), 'utf8')) as ReportJson;
    expect(report.passed).toBe(true);
    expect(report.simulated).toBe(true);
    expect(report.backend).toBe('virtual');
    expect(Math.abs(report.summary.latencyMs - 40)).toBeLessThan(0.1);
    expect(Math.abs(report.summary.latencyMsMax - 40)).toBeLessThan(0.1);
    expect(report.summary.dropouts).toBe(0);
    expect(report.cases.map((c) => c.suite)).toEqual(['latency', 'latency', 'latency', 'latency', 'latency', 'dropouts', 'fidelity']);
    const html = await readFile(path.join(out, 'report.html'), 'utf8');
    expect(html).toContain('<svg');
    expect(html).toContain('SIMULATED');
    expect(html).not.toMatch(/<script|https?:\/\/|<link\b/i);
    const junit = await readFile(path.join(out, 'junit.xml'), 'utf8');
    expect(junit).not.toContain('<failure');
  });

  it('fails (exit 1) with dropouts=2: summary.dropouts = 2 and a <failure> in junit.xml', async () => {
    const out = await tmp();
    const r = await loopcheck(['verify', '--backend', 'virtual', '--suite', 'dropouts', '--impair', 'dropouts=2,seed=3', '--out', out]);
    expect(r.exitCode).toBe(1);
    const report = JSON.parse(await readFile(path.join(out, 'report.json'), 'utf8')) as ReportJson;
    expect(report.passed).toBe(false);
    expect(report.summary.dropouts).toBe(2);
    const junit = await readFile(path.join(out, 'junit.xml'), 'utf8');
    expect(junit).toMatch(/<failure[^>]*maxDropouts/);
  });

  it('fails (exit 1) when latency is 150 ms against the 100 ms criterion', async () => {
    const out = await tmp();
    const r = await loopcheck(['verify', '--backend', 'virtual', '--suite', 'latency', '--impair', 'latencyMs=150', '--out', out]);
    expect(r.exitCode).toBe(1);
    const report = JSON.parse(await readFile(path.join(out, 'report.json'), 'utf8')) as ReportJson;
    expect(Math.abs(report.summary.latencyMsMax - 150)).toBeLessThan(0.1);
  });

  it('honours a --criteria file (a 30 ms limit fails a 40 ms device)', async () => {
    const out = await tmp();
    const criteria = path.join(out, 'criteria.json');
    await (await import('node:fs/promises')).writeFile(criteria, JSON.stringify({ maxLatencyMs: 30 }));
    const r = await loopcheck(['verify', '--backend', 'virtual', '--suite', 'latency', '--impair', 'latencyMs=40', '--criteria', criteria, '--out', out]);
    expect(r.exitCode).toBe(1);
  });

  it('shows a hostile device name as text in the HTML report', async () => {
    const out = await tmp();
    const name = '<img src=x onerror=alert(1)>';
    const r = await loopcheck(['verify', '--backend', 'virtual', '--suite', 'latency', '--device', name, '--out', out]);
    expect(r.exitCode).toBe(0);
    const html = await readFile(path.join(out, 'report.html'), 'utf8');
    expect(html).not.toContain('<img src=x');
    expect(html).toContain('&lt;img src=x onerror=alert(1)&gt;');
    const report = JSON.parse(await readFile(path.join(out, 'report.json'), 'utf8')) as ReportJson;
    expect(report.device.name).toBe(name);
  });

  it.each([
    [['verify', '--backend', 'no-such-backend'], /unknown backend/],
    [['verify', '--suite', 'nope'], /unknown suite/],
    [['verify', '--impair', 'latencyMs=abc'], /latencyMs/],
    [['verify', '--impair', 'bogus=1'], /bogus/],
    [['verify', '--criteria', '/nonexistent/criteria.json'], /criteria/],
    [['verify', '--buffer-ms', '-5'], /buffer-ms/],
    [['verify', '--no-such-flag'], /no-such-flag/],
  ])('usage error %j exits 2 with one line and no stack trace', async (args, pattern) => {
    const r = await loopcheck([...args, '--out', await tmp()]);
    expect(r.exitCode).toBe(2);
    expect(isOneLineError(r.stderr)).toBe(true);
    expect(r.stderr).toMatch(pattern);
  });
});
