/**
 * Ctrl-C / SIGTERM through the CLI on the virtual backend (no audio daemon needed): `record` (the virtual
 * device runs in real time under `record`) and `verify --realtime` are spawned, signalled, and must exit
 * 130 / 143 with their output finalised. The same `record` checks run on PulseAudio in
 * test/integration/pulse-record.test.ts.
 *
 * Readiness: a signal sent before the command has installed its handler would just kill node (exit by
 * signal, not 130). The child is started with a tiny `--import data:` hook that prints `[ready]` to stderr
 * once a SIGINT listener exists (node's own startup handler is not a listener), so the tests never guess
 * from a fixed sleep how long tsx takes to start.
 */
import { existsSync } from 'node:fs';
import { mkdtemp, readFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { verify } from '../../src/cli/verify.js';
import { readWav } from '../../src/wav.js';
import { sleep, spawnLoopcheck, stderrLines as lines, waitForSize } from '../support/cli.js';
import { doubleCtrlCIo } from '../support/fake-io.js';

async function tmp(): Promise<string> {
  return mkdtemp(path.join(os.tmpdir(), 'loopcheck-interrupt-'));
}

/** 48 kHz stereo float32: bytes of audio per second in the WAV data chunk. */
const BYTES_PER_SECOND = 48000 * 2 * 4;

/**
 * Records until `signal`, after the file holds ≥ 1.5 s of audio; returns the result and the decoded WAV.
 * Shared by the virtual tests here and (copied) by the pulse tests.
 */
async function recordUntilSignal(backend: string, signal: 'SIGINT' | 'SIGTERM', env: Record<string, string> = {}) {
  const dir = await tmp();
  const out = path.join(dir, 'x.wav');
  const s = spawnLoopcheck(['record', '--backend', backend, out], { env });
  await s.ready;
  // 1.5 s of audio plus the header: the signal then comes ~1.5 s into the recording.
  await waitForSize(out, 1.5 * BYTES_PER_SECOND + 44, s.child);
  s.child.kill(signal);
  const r = await s.child;
  const wav = await readWav(out);
  return { r, wav, out };
}

describe.skipIf(process.platform === 'win32')('interrupting the CLI on the virtual backend (POSIX signals)', { concurrent: true }, () => {
  for (const [signal, code] of [
    ['SIGINT', 130],
    ['SIGTERM', 143],
  ] as const) {
    it(`record: ${signal} ⇒ exit ${code}, one "stopped" line, a valid WAV with the ≥ 1 s recorded`, async () => {
      const { r, wav } = await recordUntilSignal('virtual', signal);
      expect(r.exitCode, String(r.stderr)).toBe(code);
      const stderr = lines(r.stderr);
      // The virtual device says it is simulated; apart from that, exactly one line: the stop.
      expect(stderr.filter((l) => !l.includes('SIMULATED'))).toEqual([expect.stringMatching(new RegExp(`^loopcheck: ${signal}: stopped after [0-9.]+ s, .*x\\.wav finalised$`))]);
      expect(wav.info.truncated).toBe(false);
      expect(wav.warnings).toEqual([]);
      expect(wav.audio.sampleRate).toBe(48000);
      expect(wav.audio.channels.length).toBe(2);
      const frames = wav.audio.channels[0]!.length;
      expect(frames).toBeGreaterThanOrEqual(48000);
      // The line's seconds are the frames written, printed to 1 ms: they must agree to ±0.5 ms (rounding).
      const said = Number(/stopped after ([0-9.]+) s/.exec(String(r.stderr))![1]);
      expect(Math.abs(said - frames / 48000)).toBeLessThanOrEqual(0.0005);
    });
  }

  it('verify --realtime: SIGINT after ~1 s ⇒ exit 130 and report.json with "interrupted": true', async () => {
    const out = await tmp();
    const s = spawnLoopcheck(['verify', '--backend', 'virtual', '--realtime', '--out', out]);
    await s.ready;
    await sleep(1000);
    s.child.kill('SIGINT');
    const r = await s.child;
    expect(r.exitCode, String(r.stderr)).toBe(130);
    const stderr = lines(r.stderr);
    expect(stderr[0]).toMatch(/^loopcheck: SIGINT: stopping after the current step/);
    expect(stderr.at(-1)).toMatch(/^loopcheck: SIGINT: interrupted; partial report with \d+ case\(s\)/);
    const report = JSON.parse(await readFile(path.join(out, 'report.json'), 'utf8')) as { interrupted: boolean; passed: boolean; error?: string; simulated: boolean };
    expect(report.interrupted).toBe(true);
    expect(report.passed).toBe(false);
    expect(report.simulated).toBe(true);
    expect(report.error).toMatch(/INTERRUPTED/);
    expect(existsSync(path.join(out, 'junit.xml'))).toBe(true);
    expect(existsSync(path.join(out, 'report.html'))).toBe(true);
  });

  it('verify --realtime: SIGTERM ⇒ exit 143 and a partial report', async () => {
    const out = await tmp();
    const s = spawnLoopcheck(['verify', '--backend', 'virtual', '--realtime', '--out', out]);
    await s.ready;
    await sleep(1000);
    s.child.kill('SIGTERM');
    const r = await s.child;
    expect(r.exitCode, String(r.stderr)).toBe(143);
    const report = JSON.parse(await readFile(path.join(out, 'report.json'), 'utf8')) as { interrupted: boolean };
    expect(report.interrupted).toBe(true);
  });

  it('verify: a second SIGINT exits at once with 130 (in-process, the exit observed through CommandIo)', async () => {
    const out = await tmp();
    // Two Ctrl-C in a row, as soon as verify listens.
    const { io, stderr, exits } = doubleCtrlCIo();
    const code = await verify(['--backend', 'virtual', '--suite', 'latency', '--out', out], io);
    expect(exits).toEqual([130]);
    expect(stderr.join('')).toContain('interrupted again, exiting without finishing the report');
    // The first SIGINT alone (as the fake exit returned control) still ends the run as interrupted.
    expect(code).toBe(130);
  });
});
