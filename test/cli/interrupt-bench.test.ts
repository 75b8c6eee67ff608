/**
 * Ctrl-C / SIGTERM during `loopcheck bench` on the virtual backend (no audio daemon needed), like
 * interrupt.test.ts does for record and verify: `bench --realtime` is spawned (the virtual device then runs in
 * real time, so a run lasts seconds), signalled, and must exit 130 / 143 with bench.json and bench.html written and
 * marked interrupted; a second SIGINT exits at once. Which rows a partial bench.json holds is checked in-process
 * on runBench, where the abort can be placed exactly (between the first and the second buffer size).
 */
import { mkdtemp, readFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import dropoutSuite from '../../suites/dropouts.suite.js';
import latencySuite from '../../suites/latency.suite.js';
import { bench } from '../../src/cli/bench.js';
import { runBench, type BenchResult } from '../../src/harness/bench.js';
import { sleep, spawnLoopcheck, stderrLines as lines } from '../support/cli.js';
import { doubleCtrlCIo } from '../support/fake-io.js';

async function tmp(): Promise<string> {
  return mkdtemp(path.join(os.tmpdir(), 'loopcheck-interrupt-bench-'));
}

/** Three sizes, one repeat, 1 s steady stimulus: ≥ 3 s of real time per size, so ~1 s in is inside the first. */
const BENCH_ARGS = ['bench', '--backend', 'virtual', '--realtime', '--buffers', '10,20,50', '--repeat', '1', '--duration', '1'];

async function readBench(out: string): Promise<BenchResult> {
  return JSON.parse(await readFile(path.join(out, 'bench.json'), 'utf8')) as BenchResult;
}

describe.skipIf(process.platform === 'win32')('interrupting `loopcheck bench` (POSIX signals)', { concurrent: true }, () => {
  for (const [signal, code] of [
    ['SIGINT', 130],
    ['SIGTERM', 143],
  ] as const) {
    it(`bench --realtime: ${signal} after ~1 s ⇒ exit ${code}, partial bench.json + bench.html marked interrupted`, async () => {
      const out = await tmp();
      const s = spawnLoopcheck([...BENCH_ARGS, '--out', out]);
      await s.ready;
      await sleep(1000);
      s.child.kill(signal);
      const r = await s.child;
      expect(r.exitCode, String(r.stderr)).toBe(code);
      expect(lines(r.stderr)[0]).toMatch(new RegExp(`^loopcheck: ${signal}: stopping after the current step`));
      const result = await readBench(out);
      expect(result.interrupted).toBe(true);
      expect(result.simulated).toBe(true);
      // Stopped inside the first size (each takes seconds of real time): that size's partial row, no later one.
      expect(result.rows.length).toBeGreaterThanOrEqual(1);
      expect(result.rows.length).toBeLessThan(3);
      expect(result.rows.at(-1)!.errors.join(' ')).toMatch(/INTERRUPTED/);
      // A row cut short never becomes the recommendation.
      expect(result.rows.find((row) => row.bufferMs === result.recommendation.bufferMs)?.errors ?? []).toEqual([]);
      expect(await readFile(path.join(out, 'bench.html'), 'utf8')).toContain('INTERRUPTED');
      // The table still goes to stdout, with the interrupted size's error under it.
      expect(String(r.stdout)).toMatch(/10 ms: INTERRUPTED/);
    });
  }

  it('bench --realtime: a second SIGINT exits at once with 130 (spawned)', async () => {
    const out = await tmp();
    const s = spawnLoopcheck([...BENCH_ARGS, '--out', out]);
    await s.ready;
    await sleep(1000);
    s.child.kill('SIGINT');
    // The second one once the first has been taken (its line printed), while bench is still winding down.
    while (!s.stderr().includes('stopping after the current step') && s.child.exitCode === null) await sleep(10);
    s.child.kill('SIGINT');
    const r = await s.child;
    expect(r.exitCode, String(r.stderr)).toBe(130);
    expect(lines(r.stderr)).toContain('loopcheck: interrupted again, exiting now');
  });

  it('bench: a second SIGINT exits at once with 130 (in-process, the exit observed through CommandIo)', async () => {
    const out = await tmp();
    // Two Ctrl-C in a row, as soon as bench listens.
    const { io, stderr, exits } = doubleCtrlCIo();
    const code = await bench(['--backend', 'virtual', '--buffers', '10', '--repeat', '1', '--duration', '1', '--out', out], io);
    expect(exits).toEqual([130]);
    expect(stderr.join('')).toContain('loopcheck: interrupted again, exiting now');
    // The first SIGINT alone (as the fake exit returned control) still ends the run as interrupted.
    expect(code).toBe(130);
    expect((await readBench(out)).interrupted).toBe(true);
  });

  it('runBench aborted as the second size starts: the first row complete, the second partial, no third', async () => {
    const controller = new AbortController();
    const result = await runBench({
      backend: 'virtual',
      buffersMs: [10, 20, 50],
      modes: ['shared'],
      repeat: 1,
      dropoutSeconds: 1,
      load: 0,
      latencySuite,
      dropoutSuite,
      signal: controller.signal,
      onProgress: (_done, _total, note) => {
        if (note.startsWith('20 ms shared: capturing')) controller.abort();
      },
    });
    expect(result.interrupted).toBe(true);
    expect(result.rows.map((r) => r.bufferMs)).toEqual([10, 20]);
    const [first, second] = result.rows;
    expect(first!.errors).toEqual([]);
    // Measured, not a placeholder: the virtual device's latency is the same for every frame (design.md), so
    // p99 equals the median; 1e-6 ms allows for float rounding only.
    expect(first!.latencyMsMedian).toBeGreaterThan(0);
    expect(Math.abs(first!.latencyMsP99! - first!.latencyMsMedian!)).toBeLessThan(1e-6);
    expect(first!.dropouts).toBe(0);
    expect(second!.errors.join(' ')).toMatch(/INTERRUPTED/);
    // Only the complete row can be recommended.
    expect(result.recommendation.bufferMs).toBe(10);
  });
});
