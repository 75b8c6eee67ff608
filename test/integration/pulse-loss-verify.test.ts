/**
 * Device loss during `loopcheck verify`, and a default-sink change during `loopcheck record`, each on a PRIVATE
 * PulseAudio daemon this file starts (never the shared one of scripts/ci/pulse.sh, which CI may be using):
 *  (a) `verify --suite dropouts --duration 10` with the daemon SIGKILLed ~2 s into the stimulus;
 *  (b) the same with the sink verify plays to unloaded (pactl unload-module);
 *      both ⇒ exit 1, one `loopcheck: DEVICE_LOST: …` line on stderr and no stack trace, report.json /
 *      junit.xml / report.html written and marked interrupted with the error, the process gone by itself
 *      within HANG_GUARD_MS of the loss (a leaked thread or handle would keep it alive);
 *  (c) `record` on the default sink while `pactl set-default-sink` points elsewhere: the streams were opened
 *      with DONT_MOVE on the sink resolved at open time, so the capture stays there ⇒ exit 0, full-length WAV.
 * Without libpulse / pulseaudio / pactl these skip with a reason; LOOPCHECK_REQUIRE_REAL_AUDIO=1 fails instead.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { native } from '../../src/native.js';
import { decodeWav } from '../../src/wav.js';
import { sleep, spawnLoopcheck, stderrLines, type Spawned } from '../support/cli.js';
import { startPrivateDaemon, type PrivateDaemon } from '../support/private-pulse.js';
import { requireCommand, strict } from '../support/require.js';

/** The CLI must be gone this long after the device is lost (a hang guard, not a speed assertion). */
const HANG_GUARD_MS = 30_000;

/** libpulse is loadable by the addon (no server probed: the shared daemon is left alone). */
function requireLibpulse(): boolean {
  let reason: string;
  try {
    const b = native();
    if (b.PulseSession && b.backendInfo().available) return true;
    reason = 'the addon has no usable pulse backend (libpulse missing?)';
  } catch (e) {
    reason = `native addon not loadable: ${(e as Error).message}`;
  }
  if (strict) throw new Error(`PulseAudio is required (LOOPCHECK_REQUIRE_REAL_AUDIO=1): ${reason}`);
  process.stderr.write(`[skip] pulse loss tests: ${reason}\n`);
  return false;
}

const install = 'apt-get install -y --no-install-recommends pulseaudio pulseaudio-utils';
const haveDaemon = requireLibpulse() && requireCommand('pulseaudio', install) && requireCommand('pactl', install);

function loadSink(daemon: PrivateDaemon, name: string): string {
  return daemon.pactl('load-module', 'module-null-sink', `sink_name=${name}`, 'rate=48000', 'channels=2', 'format=float32le', 'norewinds=1').trim();
}

/** Polls `pred` every 20 ms; false after `ms` (a hang guard, not a speed assertion). */
async function waitFor(pred: () => boolean, ms: number): Promise<boolean> {
  for (let t = 0; t < ms; t += 20) {
    if (pred()) return true;
    await sleep(20);
  }
  return pred();
}

/** Both of loopcheck's streams exist on the daemon (a playback sink-input and a record source-output). */
function streamsOpen(daemon: PrivateDaemon): boolean {
  try {
    return daemon.pactl('list', 'short', 'sink-inputs').trim() !== '' && daemon.pactl('list', 'short', 'source-outputs').trim() !== '';
  } catch {
    return false;
  }
}

/** The child's result, or null when it outlived `ms` (then it is SIGKILLed, by its own pid). */
async function within(run: Spawned, ms: number) {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<null>((r) => (timer = setTimeout(() => r(null), ms)));
  const r = await Promise.race([run.child, late]);
  clearTimeout(timer);
  if (r === null) {
    run.child.kill('SIGKILL');
    await run.child;
  }
  return r;
}

const disposers: (() => void)[] = [];
afterAll(() => {
  for (const d of disposers.splice(0)) d();
});

function tempDir(prefix: string): string {
  const dir = mkdtempSync(path.join(tmpdir(), prefix));
  disposers.push(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

// ---- (a), (b) verify loses its device ----

describe.skipIf(!haveDaemon)('pulse: `loopcheck verify` loses its device mid-stimulus (private daemon)', () => {
  const cases = [
    // Whichever stream notices first names the loss (playback or record), so match pa_strerror's text only.
    { how: 'the daemon is killed', osCode: 11, message: /Connection terminated/ },
    { how: 'its sink is unloaded', osCode: 12, message: /Entity killed/ },
  ] as const;

  it.each(cases)('$how ⇒ exit 1, one DEVICE_LOST line, reports marked with the error, no hang', async ({ how, osCode, message }) => {
    const daemon = await startPrivateDaemon();
    disposers.push(() => daemon.dispose());
    // Its own sink, so (b) can unload exactly the one verify plays to.
    const sink = `lc_vloss_${process.pid}`;
    const moduleId = loadSink(daemon, sink);
    const out = tempDir('lc-vloss-');
    const run = spawnLoopcheck(['verify', '--backend', 'pulse', '--device', sink, '--suite', 'dropouts', '--duration', '10', '--out', out], {
      env: daemon.clientEnv,
    });
    await run.ready;
    // Open = both streams on the daemon; then ~2 s into the 10 s stimulus (lead-in 0.35 s).
    expect(await waitFor(() => streamsOpen(daemon), 20_000)).toBe(true);
    await sleep(2000);
    if (how === 'the daemon is killed') daemon.kill();
    else daemon.pactl('unload-module', moduleId);
    const r = await within(run, HANG_GUARD_MS);
    expect(r, `verify still running ${HANG_GUARD_MS} ms after the loss; stderr: ${run.stderr()}`).not.toBeNull();
    expect(r!.signal ?? null, run.stderr()).toBeNull(); // exited by itself: no thread or handle kept it alive
    expect(r!.exitCode, run.stderr()).toBe(1);
    const lines = stderrLines(r!.stderr);
    expect(lines, run.stderr()).toHaveLength(1);
    expect(lines[0]).toMatch(/^loopcheck: DEVICE_LOST: /);
    expect(lines[0]).toMatch(message);
    expect(lines[0]).toContain(`(os code ${osCode})`);
    expect(String(r!.stderr)).not.toMatch(/\n\s+at /);

    const report = JSON.parse(readFileSync(path.join(out, 'report.json'), 'utf8'));
    expect(report.passed).toBe(false);
    expect(report.interrupted).toBe(true);
    expect(report.simulated).toBe(false);
    expect(report.backend).toBe('pulse');
    expect(report.device.id).toBe(sink);
    expect(report.error).toMatch(/^DEVICE_LOST: /);
    expect(report.error).toMatch(message);
    // The only case (dropouts, 1 repeat) was mid-capture: what it captured is kept, analysed and marked
    // incomplete (failed, the loss named), so QA sees the audio up to the loss.
    expect(report.cases).toHaveLength(1);
    const [c] = report.cases;
    expect(c.passed).toBe(false);
    expect(c.failures[0].criterion).toBe('error');
    expect(c.failures[0].message).toMatch(/^incomplete: DEVICE_LOST: /);
    expect(readFileSync(path.join(out, 'junit.xml'), 'utf8')).toContain('INTERRUPTED — partial report: DEVICE_LOST');
    expect(readFileSync(path.join(out, 'report.html'), 'utf8')).toContain('INTERRUPTED — partial report');
  });
});

// ---- (c) record while the default sink changes ----

describe.skipIf(!haveDaemon)('pulse: `loopcheck record` while the default sink changes (private daemon)', () => {
  it('stays on the sink resolved at open (DONT_MOVE): exit 0, a valid WAV of the full length', async () => {
    const daemon = await startPrivateDaemon();
    disposers.push(() => daemon.dispose());
    loadSink(daemon, 'other');
    expect(daemon.pactl('get-default-sink').trim()).toBe('loop');
    const wav = path.join(tempDir('lc-vdef-'), 'X.wav');
    const seconds = 4;
    // No --device: the default sink (loop) is resolved at open.
    const run = spawnLoopcheck(['record', '--backend', 'pulse', '--seconds', String(seconds), wav], { env: daemon.clientEnv });
    await run.ready;
    expect(await waitFor(() => daemon.pactl('list', 'short', 'source-outputs').trim() !== '', 20_000)).toBe(true);
    await sleep(1000);
    daemon.pactl('set-default-sink', 'other');
    expect(daemon.pactl('get-default-sink').trim()).toBe('other');
    // The record stream still reads loop's monitor after the change.
    const sources = daemon.pactl('list', 'short', 'sources');
    const loopMonitor = /^(\d+)\s+loop\.monitor\s/m.exec(sources)?.[1];
    const outputs = daemon.pactl('list', 'short', 'source-outputs').trim().split('\n');
    expect(outputs).toHaveLength(1);
    expect(outputs[0]!.split('\t')[1]).toBe(loopMonitor);

    const r = await within(run, HANG_GUARD_MS);
    expect(r, `record still running ${HANG_GUARD_MS} ms after the change; stderr: ${run.stderr()}`).not.toBeNull();
    expect(r!.exitCode, run.stderr()).toBe(0);
    expect(stderrLines(r!.stderr)).toEqual([`loopcheck: recorded ${seconds.toFixed(3)} s to ${wav}`]);
    const decoded = decodeWav(readFileSync(wav), 'X.wav');
    expect(decoded.info.sampleRate).toBe(48000);
    // ±10 %: the brief's bound; record stops at exactly seconds × rate frames, so any loss would show.
    expect(Math.abs(decoded.info.frames / decoded.info.sampleRate - seconds)).toBeLessThanOrEqual(0.1 * seconds);
  });
});
