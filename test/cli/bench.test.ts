import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { isOneLineError, loopcheck } from '../support/cli.js';

describe('loopcheck bench', () => {
  it('virtual: one row per size, bench.json + bench.html, table on stdout', async () => {
    const out = mkdtempSync(path.join(tmpdir(), 'lc-bench-'));
    const r = await loopcheck(['bench', '--backend', 'virtual', '--buffers', '20,10', '--repeat', '2', '--duration', '1', '--out', out]);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/recommendation: 10 ms/);
    expect(r.stdout).toMatch(/SIMULATED/);
    const json = JSON.parse(readFileSync(path.join(out, 'bench.json'), 'utf8'));
    expect(json.rows.map((x: { bufferMs: number }) => x.bufferMs)).toEqual([10, 20]);
    for (const key of ['bufferMs', 'mode', 'latencyMsMedian', 'latencyMsP99', 'captureBufferMsP99', 'dropouts', 'overruns', 'underruns', 'cpuPercent']) {
      expect(json.rows[0]).toHaveProperty(key);
    }
    expect(json.recommendation).toMatchObject({ bufferMs: 10 });
    const html = readFileSync(path.join(out, 'bench.html'), 'utf8');
    expect(html).toMatch(/<svg[^>]*class="plot"/);
    expect(html).not.toMatch(/<script/i);
  });

  it('--json prints bench.json on stdout', async () => {
    const out = mkdtempSync(path.join(tmpdir(), 'lc-bench-'));
    const r = await loopcheck(['bench', '--backend', 'virtual', '--buffers', '10', '--repeat', '1', '--duration', '1', '--out', out, '--json']);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout).rows).toHaveLength(1);
  });

  it.each([
    [['--buffers', '10,abc']],
    [['--buffers', '0']],
    [['--repeat', '0']],
    [['--load', '-1']],
    [['--modes', 'exclusive']],
    [['--nope']],
  ])('bad input %j: exit 2 with one line', async (args) => {
    const r = await loopcheck(['bench', '--backend', 'virtual', ...args]);
    expect(r.exitCode).toBe(2);
    expect(isOneLineError(r.stderr), r.stderr).toBe(true);
  });
});
