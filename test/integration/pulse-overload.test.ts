/**
 * Overload (issue 7 item 3) on the real daemon: busy-looping hogs on every core while
 * `verify --backend pulse --suite dropouts --duration 30 --buffer-ms 10` runs. The run must complete (exit 0 or
 * 1, a whole report, within the hang guard), and what the analysis found must agree with the streams' own
 * counters: a case whose render stream underran, or whose capture lost frames in our queues (overruns) or was
 * marked discontinuous, has ≥ 1 dropout, and every dropout lies inside the stimulus. The long version is
 * scripts/overload.sh SECONDS.
 *
 * Measured here (2 cores shared with other work; daemon as root, its sink thread SCHED_RR): with 2 hogs, 3 of 3
 * runs had dropouts — 14–18 (mostly `silence`, 1–4 `gap`), 25–31 render underruns, 0–960 frames of overruns; the
 * same runs without hogs had 4–20 dropouts with 4–24 underruns and no overruns (the machine is never idle). So the
 * hogs do cause loss at 10 ms, and the consistency rules below are exercised, not vacuous, in practice; on a
 * machine where no loss happens the test still checks that the run completes and reports coherently.
 *
 * Why "counters ⇒ ≥ 1 dropout" holds: render underruns are counted only while the stimulus still has frames to
 * write (native/linux/pulse_engine.cc), so each one puts silence inside the stimulus; overruns/discontinuities
 * mean captured frames were dropped, which the analysis sees as a gap. Caveat (not seen in any run): frames
 * dropped only in the 50 ms before or the ~0.5 s tail after the stimulus would be invisible in the signal.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, readFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { Report } from '../../src/report/types.js';
import { loopcheck } from '../support/cli.js';
import { probePulse, requirePulseServer } from '../native/pulse-support.js';

const probe = probePulse();
const pulse = requirePulseServer(probe);

const STIMULUS_S = 30;
/** Hang guard for the whole verify run (~32 s of audio + analysis; 38–42 s measured under the hogs). */
const HANG_GUARD_MS = 100_000;
/**
 * Tolerance on a dropout's position, s: report positions are printed to 0.1 ms and the analysis refines
 * boundaries to the sample within 5 ms blocks; two blocks (10 ms) cover both without admitting a position outside
 * the stimulus.
 */
const POSITION_TOL_S = 0.01;

/** One busy-looping node process per core, each bounded by its own deadline (a bound if the test dies). */
function startHogs(count: number, maxMs: number): ChildProcess[] {
  const source = `const end = Date.now() + ${maxMs}; let x = 0; while (Date.now() < end) x = Math.sqrt(x + 1.5);`;
  return Array.from({ length: count }, () => spawn(process.execPath, ['-e', source], { stdio: 'ignore' }));
}

describe.runIf(pulse)('overload: CPU hogs on every core during verify at 10 ms buffers (PulseAudio)', () => {
  let hogs: ChildProcess[] = [];
  afterEach(() => {
    for (const h of hogs) h.kill('SIGKILL');
    hogs = [];
  });

  it('the run completes, and the dropouts found agree with the underrun/overrun/discontinuity counters', async () => {
    const cores = Math.max(2, os.availableParallelism());
    // The hogs outlive any run that beats the hang guard, so the load lasts the whole capture.
    hogs = startHogs(cores, HANG_GUARD_MS);
    const out = await mkdtemp(path.join(os.tmpdir(), 'loopcheck-pulse-overload-'));
    const r = await loopcheck(['verify', '--backend', 'pulse', '--suite', 'dropouts', '--duration', String(STIMULUS_S), '--buffer-ms', '10', '--out', out], {
      env: { PULSE_SERVER: process.env.PULSE_SERVER! },
      timeoutMs: HANG_GUARD_MS,
    });
    // Still running at the end: the load was there throughout (a hog that died early would make this a quiet run).
    expect(hogs.map((h) => h.exitCode)).toEqual(hogs.map(() => null));
    for (const h of hogs) h.kill('SIGKILL');

    // Completed: 0 (no dropouts) or 1 (a criterion failed); -1 = killed by the hang guard, anything else a crash.
    expect([0, 1], `exit ${r.exitCode}\n${r.stdout}\n${r.stderr}`).toContain(r.exitCode);
    const report = JSON.parse(await readFile(path.join(out, 'report.json'), 'utf8')) as Report;
    expect(report.interrupted, report.error).toBe(false);
    expect(report.backend).toBe('pulse');
    expect(report.cases.map((c) => c.suite)).toEqual(['dropouts']);

    const rate = report.format.sampleRate;
    let dropouts = 0;
    for (const c of report.cases) {
      const m = c.metrics;
      const found = m.dropouts ?? [];
      const underruns = m.underruns ?? 0;
      const overruns = m.overruns ?? 0;
      const discontinuities = m.discontinuities ?? 0;
      dropouts += found.length;
      const kinds = ['gap', 'silence', 'click'].map((k) => `${k} ${found.filter((d) => d.kind === k).length}`).join(', ');
      process.stdout.write(
        `[overload] ${cores} hogs, ${STIMULUS_S} s at 10 ms (granted ${report.format.bufferMs} ms): exit ${r.exitCode}; ${c.name}: dropouts ${found.length} (${kinds}), ` +
          `render underruns ${underruns}, capture overruns ${overruns} frames, discontinuities ${discontinuities}\n`,
      );
      // The stimulus was found (30 s of broadband audio survives any loss seen here), so positions mean something.
      expect(m.latencySamples, JSON.stringify(c.failures)).toEqual(expect.any(Number));
      if (underruns + overruns + discontinuities > 0) {
        expect(found.length, `underruns ${underruns}, overruns ${overruns}, discontinuities ${discontinuities}, yet no dropout found`).toBeGreaterThanOrEqual(1);
      }
      // Inside the stimulus: from its first frame in the capture to its last, which inserted audio (render
      // underruns play silence and then go on late) pushes back by at most the dropouts' total length.
      const start = m.latencySamples! / rate;
      const end = start + STIMULUS_S + found.reduce((s, d) => s + d.durationMs / 1000, 0);
      for (const d of found) {
        expect(d.atSeconds, `dropout ${JSON.stringify(d)} outside the stimulus ${start.toFixed(3)}–${end.toFixed(3)} s`).toBeGreaterThanOrEqual(start - POSITION_TOL_S);
        expect(d.atSeconds, `dropout ${JSON.stringify(d)} outside the stimulus ${start.toFixed(3)}–${end.toFixed(3)} s`).toBeLessThanOrEqual(end + POSITION_TOL_S);
        expect(d.durationMs).toBeGreaterThan(0);
      }
    }
    // Reported as found: the summary carries the cases' counts, and any dropout fails the run (maxDropouts 0).
    expect(report.summary.dropouts).toBe(dropouts);
    expect(report.summary.overruns).toBe(report.cases.reduce((n, c) => n + (c.metrics.overruns ?? 0), 0));
    if (dropouts > 0) expect(r.exitCode).toBe(1);
    expect(report.passed).toBe(r.exitCode === 0);
  }, HANG_GUARD_MS + 30_000);
});
