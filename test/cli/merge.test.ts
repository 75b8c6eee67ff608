import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { validateWorkflow } from '@action-validator/core';
import { beforeAll, describe, expect, it } from 'vitest';
import { isOneLineError, loopcheck, ROOT } from '../support/cli.js';

// Three "machines": verify on the virtual backend with different device names, host names edited in the JSON
// (the way reports from three runners would differ). The second has one dropout per signal, so it fails.
const HOSTILE_DEVICE = '<img src=x onerror=alert(1)>';
const HOSTILE_HOST = '<script>alert("host")</script>';
const RUNS = [
  { dir: 'linux-1', host: 'linux-runner-1\u001b[2J', device: 'studio-a', impair: [] as string[] },
  { dir: 'win-2', host: 'win-runner-2', device: HOSTILE_DEVICE, impair: ['--impair', 'dropouts=1'] },
  { dir: 'mac-3', host: HOSTILE_HOST, device: 'studio-c', impair: [] as string[] },
];

let root: string;
let fleet: string;
const reportOf = (dir: string) => path.join(fleet, dir, 'out', 'report.json');

interface MergeJson {
  passed: boolean;
  failedMachines: string[];
  matrix: { rows: string[]; columns: string[]; cells: string[][] };
  machines: { label: string; hostname: string; passed: boolean; latency: { casesMin: number; casesMedian: number; casesMax: number; caseCount: number } }[];
  cases: { machine: string; passed: boolean }[];
}

beforeAll(async () => {
  root = mkdtempSync(path.join(tmpdir(), 'lc-merge-'));
  fleet = path.join(root, 'artifacts');
  const results = await Promise.all(
    RUNS.map((r) => loopcheck(['verify', '--backend', 'virtual', '--suite', 'latency', '--suite', 'dropouts', '--device', r.device, ...r.impair, '--out', path.join(fleet, r.dir, 'out')])),
  );
  results.forEach((r, i) => expect(r.exitCode, r.stderr).toBe(RUNS[i]!.impair.length ? 1 : 0));
  for (const r of RUNS) {
    const report = JSON.parse(readFileSync(reportOf(r.dir), 'utf8')) as { environment: { hostname: string } };
    report.environment.hostname = r.host;
    writeFileSync(reportOf(r.dir), JSON.stringify(report));
  }
});

describe('loopcheck merge', () => {
  it('three reports, one failing: exit 1, the summary names the failing machine, matrix in merge.json', async () => {
    const out = path.join(root, 'merged');
    const r = await loopcheck(['merge', fleet, '--out', out]); // a directory: searched recursively
    expect(r.exitCode, r.stderr).toBe(1);
    const last = r.stdout.trim().split('\n').pop()!;
    expect(last).toMatch(/^merge: 1 of 3 report\(s\) FAILED .*win-runner-2 \(virtual, <img src=x onerror=alert\(1\)>, 10 ms\)$/);
    expect(last).not.toMatch(/linux-runner-1|studio-c/);
    expect(r.stdout).toMatch(/dropouts\/dropouts: 1 dropout > 0 allowed/);
    expect(r.stdout).not.toContain('\u001b'); // a host name cannot drive the terminal

    const json = JSON.parse(readFileSync(path.join(out, 'merge.json'), 'utf8')) as MergeJson;
    expect(json.passed).toBe(false);
    expect(json.failedMachines).toEqual(['win-runner-2 (virtual, <img src=x onerror=alert(1)>, 10 ms)']);
    expect(json.matrix.columns).toEqual(['latency', 'dropouts']);
    // Worst first: the failing machine is row 0; its latency suite passed, its dropouts suite failed.
    expect(json.matrix.rows[0]).toBe(json.failedMachines[0]);
    expect(json.matrix.cells).toEqual([
      ['pass', 'fail'],
      ['pass', 'pass'],
      ['pass', 'pass'],
    ]);
    expect(json.machines.map((m) => m.hostname).sort()).toEqual(RUNS.map((r) => r.host).sort());
    for (const m of json.machines) {
      // Virtual default latency is 20 ms exactly; 0.1 ms covers the sub-sample alignment (as verify's own test).
      for (const v of [m.latency.casesMin, m.latency.casesMedian, m.latency.casesMax]) expect(Math.abs(v - 20)).toBeLessThan(0.1);
      expect(m.latency.caseCount).toBe(6); // 5 latency repeats + the dropouts case
    }
    expect(json.cases).toHaveLength(18);
    expect(json.cases[0]).toMatchObject({ machine: json.failedMachines[0], passed: false });

    const html = readFileSync(path.join(out, 'merge.html'), 'utf8');
    expect(html).toContain('&lt;img src=x onerror=alert(1)&gt;');
    expect(html).toContain('&lt;script&gt;alert(&quot;host&quot;)&lt;/script&gt;');
    expect(html).not.toMatch(/<img|<script|https?:\/\/|<link\b/i);
    expect(html).toMatch(/1 of 3 report\(s\) failed/);
    expect(html).toContain('<svg');
  });

  it('all passing (files given directly): exit 0; --json prints merge.json', async () => {
    const out = path.join(root, 'merged-ok');
    const r = await loopcheck(['merge', reportOf('linux-1'), reportOf('mac-3'), '--out', out]);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stdout.trim().split('\n').pop()).toBe('merge: all 2 report(s) passed (2 SIMULATED)');
    const j = await loopcheck(['merge', reportOf('linux-1'), reportOf('mac-3'), '--out', out, '--json']);
    expect(j.exitCode, j.stderr).toBe(0);
    const json = JSON.parse(j.stdout) as MergeJson;
    expect(json.passed).toBe(true);
    expect(json.matrix.cells).toEqual([
      ['pass', 'pass'],
      ['pass', 'pass'],
    ]);
  });

  it('the same set-up twice stays two machines (#1, #2)', async () => {
    const twin = path.join(root, 'twin');
    mkdirSync(twin);
    copyFileSync(reportOf('mac-3'), path.join(twin, 'report.json'));
    const r = await loopcheck(['merge', reportOf('mac-3'), twin, '--out', path.join(root, 'merged-twin'), '--json']);
    expect(r.exitCode, r.stderr).toBe(0);
    expect((JSON.parse(r.stdout) as MergeJson).matrix.rows.map((l) => l.slice(-3)).sort()).toEqual([' #1', ' #2']);
  });

  it('bad input exits 2 with one line naming the file', async () => {
    const garbage = path.join(root, 'garbage.json');
    writeFileSync(garbage, '{"tool":"loopcheck", "passed": tr');
    const notReport = path.join(root, 'bench.json');
    writeFileSync(notReport, '{"tool":"loopcheck","passed":true}');
    const badDir = path.join(root, 'bad-dir', 'x');
    mkdirSync(badDir, { recursive: true });
    writeFileSync(path.join(badDir, 'report.json'), '\u0000\u0001 not json');
    const empty = path.join(root, 'empty');
    mkdirSync(empty);
    const cases: [string[], string | null][] = [
      [[garbage], 'garbage.json'],
      [[reportOf('linux-1'), notReport], 'bench.json'],
      [[path.join(root, 'bad-dir')], path.join('bad-dir', 'x', 'report.json')],
      [[empty], 'empty'],
      [[path.join(root, 'missing')], 'missing'],
      [[], null],
    ];
    for (const [args, named] of cases) {
      const r = await loopcheck(['merge', ...args, '--out', path.join(root, 'never')]);
      expect(r.exitCode, args.join(' ')).toBe(2);
      expect(isOneLineError(r.stderr), r.stderr).toBe(true);
      if (named) expect(r.stderr).toContain(named);
    }
  });

  it("docs/fleet.md's GitHub Actions workflow passes the workflow schema and merges with npx loopcheck merge", () => {
    const doc = readFileSync(path.join(ROOT, 'docs', 'fleet.md'), 'utf8');
    const yaml = /```yaml\n([\s\S]*?)```/.exec(doc)?.[1];
    expect(yaml).toBeDefined();
    expect(validateWorkflow(yaml!).errors).toEqual([]);
    expect(validateWorkflow(yaml!.replace('runs-on: ubuntu-latest', 'runs-onn: ubuntu-latest')).errors.length).toBeGreaterThan(0); // the check can fail
    expect(yaml).toMatch(/run: npm run verify\b/);
    expect(yaml).toMatch(/actions\/download-artifact@v4/);
    expect(yaml).toMatch(/run: npx loopcheck merge fleet/);
  });
});
