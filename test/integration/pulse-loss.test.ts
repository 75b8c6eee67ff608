/**
 * Device loss on the pulse backend, on real PulseAudio daemons:
 *  (a) a sink this test loads on the shared daemon (scripts/ci/pulse.sh) is unloaded mid-capture ⇒ DEVICE_LOST
 *      (pa errno 12 KILLED), after the chunks captured before the loss were delivered;
 *  (b) a PRIVATE daemon this test starts is SIGKILLed mid-capture ⇒ DEVICE_LOST (pa errno 11, connection lost),
 *      in a child process that must then exit by itself (no thread or handle left behind), and a second open
 *      gets SERVICE_UNAVAILABLE;
 *  (c) `loopcheck record` against a private daemon killed ~2 s in ⇒ non-zero exit, one DEVICE_LOST line, a WAV
 *      holding what was captured.
 * Plus: chunks carry the server's record latency (serverLatencyMs) next to captureBufferMs.
 * Without a server / pulseaudio binary these skip with a reason; LOOPCHECK_REQUIRE_REAL_AUDIO=1 fails instead.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { afterAll, describe, expect, it } from 'vitest';
import { createPulseBackend } from '../../src/backends/pulse.js';
import type { DeviceEvent } from '../../src/backends/types.js';
import { LoopcheckError } from '../../src/errors.js';
import { decodeWav } from '../../src/wav.js';
import { ROOT, sleep } from '../support/cli.js';
import { collect } from '../support/loopback.js';
import { startPrivateDaemon } from '../support/private-pulse.js';
import { requireCommand } from '../support/require.js';
import { probePulse, requirePulseServer } from '../native/pulse-support.js';

const probe = probePulse();
const haveServer = requirePulseServer(probe);
const haveDaemon = probe.libpulse && requireCommand('pulseaudio', 'apt-get install -y --no-install-recommends pulseaudio pulseaudio-utils');
const backend = createPulseBackend();
const ENTRY = path.join(ROOT, 'test', 'support', 'cli-entry.ts');

// ---- helpers ----

/** Polls `pred` every 10 ms; false after `ms` (a hang guard, not a speed assertion). */
async function waitFor(pred: () => boolean, ms: number): Promise<boolean> {
  for (let t = 0; t < ms; t += 10) {
    if (pred()) return true;
    await sleep(10);
  }
  return pred();
}

function loadSink(name: string): string {
  const r = spawnSync('pactl', ['load-module', 'module-null-sink', `sink_name=${name}`, 'rate=48000', 'channels=2', 'format=float32le', 'norewinds=1'], {
    encoding: 'utf8',
  });
  if (r.status !== 0) throw new Error(`pactl load-module failed: ${r.stderr}`);
  return r.stdout.trim();
}

const disposers: (() => void)[] = [];
afterAll(() => {
  for (const d of disposers.splice(0)) d();
});

// ---- (a) sink removed mid-capture ----

describe.skipIf(!haveServer)('pulse: sink removed mid-capture', () => {
  it('delivers the chunks captured before the loss, then rejects the iteration with DEVICE_LOST (osCode 12)', async () => {
    const name = `lc_loss_${process.pid}_${Math.floor(Math.random() * 1e6)}`;
    const moduleId = loadSink(name);
    disposers.push(() => spawnSync('pactl', ['unload-module', moduleId]));
    const session = await backend.openLoopback({ device: name, sampleRate: 48000, channels: 2, bufferMs: 20 });
    try {
      expect(session.device.id).toBe(name);
      const cap = collect(session);
      // At least 100 ms of audio before the loss (hang guard 5 s).
      expect(await waitFor(() => cap.chunks.reduce((n, c) => n + c.frames, 0) >= 4800, 5000)).toBe(true);
      spawnSync('pactl', ['unload-module', moduleId]);
      await cap.done;
      const err = cap.error();
      expect(err).toBeInstanceOf(LoopcheckError);
      expect((err as LoopcheckError).code).toBe('DEVICE_LOST');
      expect((err as LoopcheckError).osCode).toBe(12); // PA_ERR_KILLED ("Entity killed")
      expect((err as LoopcheckError).message).toMatch(/Entity killed/);
      expect(cap.chunks.reduce((n, c) => n + c.frames, 0)).toBeGreaterThanOrEqual(4800);
      // What arrived is a gap-free timeline: nothing before the loss was dropped.
      for (let i = 1; i < cap.chunks.length; i++) {
        expect(cap.chunks[i]!.framePosition).toBe(cap.chunks[i - 1]!.framePosition + cap.chunks[i - 1]!.frames);
      }
    } finally {
      await session.close();
    }
  });
});

// ---- serverLatencyMs next to captureBufferMs ----

describe.skipIf(!haveServer)('pulse: server latency per chunk', () => {
  it('chunks on the null sink carry a finite serverLatencyMs ≥ 0 most of the time', async () => {
    const session = await backend.openLoopback({ device: 'loop', sampleRate: 48000, channels: 2, bufferMs: 20 });
    const cap = collect(session);
    try {
      expect(await waitFor(() => cap.chunks.length >= 40, 5000)).toBe(true);
    } finally {
      await session.close();
      await cap.done;
    }
    const withLatency = cap.chunks.filter((c) => c.serverLatencyMs !== undefined && Number.isFinite(c.serverLatencyMs));
    const nonNegative = withLatency.filter((c) => c.serverLatencyMs! >= 0);
    const overhead = withLatency.map((c) => c.receivedAt - c.deviceTime - c.serverLatencyMs!).sort((a, b) => a - b);
    process.stderr.write(
      `[pulse] serverLatencyMs on ${cap.chunks.length} chunks: ${withLatency.length} reported, ${nonNegative.length} ≥ 0; ` +
        `median ${withLatency.map((c) => c.serverLatencyMs!).sort((a, b) => a - b)[withLatency.length >> 1]?.toFixed(2)} ms; ` +
        `delivery overhead (captureBufferMs − serverLatencyMs) median ${overhead[overhead.length >> 1]?.toFixed(2)} ms\n`,
    );
    // Every chunk comes from a block read with AUTO_TIMING_UPDATE on, so libpulse has timing data: all report.
    expect(withLatency.length).toBe(cap.chunks.length);
    // "Most of the time": the record latency may legitimately be negative (flag set) right after start-up
    // (pulseaudio.md), so allow up to 20 % negatives.
    expect(nonNegative.length / withLatency.length).toBeGreaterThanOrEqual(0.8);
  });
});

// ---- (b) daemon killed mid-capture, in a child process ----

/** The child: open on the private daemon, capture ~1 s, SIGKILL the daemon, observe, close, open again. */
const SCENARIO = `
import { createPulseBackend } from ${JSON.stringify(path.join(ROOT, 'src', 'backends', 'pulse.ts'))};
const backend = createPulseBackend();
const out = {};
const session = await backend.openLoopback({ device: 'loop', sampleRate: 48000, channels: 2, bufferMs: 20 });
let frames = 0;
let error;
const done = (async () => {
  try { for await (const c of session.capture) frames += c.frames; } catch (e) { error = e; }
})();
await new Promise((r) => setTimeout(r, 1000));
out.framesBefore = frames;
process.kill(Number(process.env.LC_DAEMON_PID), 'SIGKILL');
let guard;
const hung = await Promise.race([
  done.then(() => false),
  new Promise((r) => { guard = setTimeout(() => r(true), 10000); }),
]);
clearTimeout(guard);
out.hung = hung;
out.code = error?.code;
out.osCode = error?.osCode;
out.message = error?.message;
out.framesAfter = frames;
await session.close();
try {
  await backend.openLoopback({ device: 'loop' });
  out.second = 'opened';
} catch (e) {
  out.second = e.code;
}
process.stdout.write(JSON.stringify(out) + '\\n');
process.exitCode = out.code === 'DEVICE_LOST' && !hung ? 3 : 4;
`;

describe.skipIf(!haveDaemon)('pulse: daemon killed mid-capture (private daemon)', () => {
  it('reports DEVICE_LOST (errno 11, connection lost), leaves nothing running, and a second open is SERVICE_UNAVAILABLE', async () => {
    const daemon = await startPrivateDaemon();
    disposers.push(() => daemon.dispose());
    const dir = mkdtempSync(path.join(tmpdir(), 'lc-loss-'));
    disposers.push(() => rmSync(dir, { recursive: true, force: true }));
    const script = path.join(dir, 'scenario.mts');
    writeFileSync(script, SCENARIO);
    // PULSE_SERVER for the child only; the child exits by itself or the hang guard kills it.
    const r = await execa(process.execPath, ['--import', 'tsx', script], {
      cwd: ROOT,
      env: { ...daemon.clientEnv, LC_DAEMON_PID: String(daemon.pid) },
      reject: false,
      timeout: 40_000, // hang guard, not a speed assertion
    });
    expect(r.timedOut, `child did not exit by itself; stderr: ${r.stderr}`).toBe(false);
    expect(r.signal ?? null, r.stderr).toBeNull();
    const out = JSON.parse(String(r.stdout).trim().split('\n').pop() ?? '{}') as Record<string, unknown>;
    expect(r.exitCode, `${r.stdout}\n${r.stderr}`).toBe(3);
    expect(out.hung).toBe(false);
    expect(out.framesBefore as number).toBeGreaterThan(0);
    expect(out.code).toBe('DEVICE_LOST');
    expect(out.osCode).toBe(11); // PA_ERR_CONNECTIONTERMINATED
    expect(out.message).toMatch(/connection to the PulseAudio server was lost/);
    expect(out.message).toMatch(/Connection terminated/);
    expect(out.second).toBe('SERVICE_UNAVAILABLE');
  });
});

// ---- (c) `loopcheck record` while the daemon dies ----

describe.skipIf(!haveDaemon)('pulse: `loopcheck record` when the daemon dies', () => {
  it('exits non-zero with one DEVICE_LOST line and keeps ≥ 1.5 s of audio in the WAV', async () => {
    const daemon = await startPrivateDaemon();
    disposers.push(() => daemon.dispose());
    const dir = mkdtempSync(path.join(tmpdir(), 'lc-rec-'));
    disposers.push(() => rmSync(dir, { recursive: true, force: true }));
    const wav = path.join(dir, 'X.wav');
    const child = execa(process.execPath, ['--import', 'tsx', ENTRY, 'record', '--backend', 'pulse', '--device', 'loop', '--seconds', '10', wav], {
      cwd: ROOT,
      env: { NO_COLOR: '1', ...daemon.clientEnv },
      reject: false,
      timeout: 60_000, // hang guard
      stdin: 'ignore',
    });
    // Kill the daemon once the WAV holds ~2 s (48 kHz × 2 ch × 4 B; the header is rewritten every 0.25 s).
    const twoSecondsBytes = 48000 * 2 * 4 * 1.9;
    const size = (): number => {
      try {
        return statSync(wav).size;
      } catch {
        return 0;
      }
    };
    const reached = await waitFor(() => size() >= twoSecondsBytes || child.exitCode !== undefined && child.exitCode !== null, 30_000);
    daemon.kill();
    const r = await child;
    expect(reached).toBe(true);
    expect(r.exitCode, String(r.stderr)).not.toBe(0);
    expect(r.timedOut).toBe(false);
    const lines = String(r.stderr).trim().split('\n').filter((l) => l.length > 0);
    expect(lines, String(r.stderr)).toHaveLength(1);
    expect(lines[0]).toMatch(/^loopcheck: DEVICE_LOST: /);
    expect(lines[0]).not.toMatch(/SIMULATED/);
    const decoded = decodeWav(readFileSync(wav), 'X.wav');
    expect(decoded.info.sampleRate).toBe(48000);
    expect(decoded.info.frames / decoded.info.sampleRate).toBeGreaterThanOrEqual(1.5);
  });
});

// ---- a device watch whose daemon dies ----

describe.skipIf(!haveDaemon)('pulse: device watch when the daemon dies (private daemon)', () => {
  it('calls onError once with SERVICE_UNAVAILABLE (errno 11) and closes the watch', async () => {
    const daemon = await startPrivateDaemon();
    disposers.push(() => daemon.dispose());
    const saved = process.env.PULSE_SERVER;
    const events: DeviceEvent[] = [];
    const errors: unknown[] = [];
    let watch: ReturnType<NonNullable<typeof backend.watchDevices>> | undefined;
    // libpulse reads PULSE_SERVER at connect: set it for this connection only.
    process.env.PULSE_SERVER = daemon.server;
    try {
      watch = backend.watchDevices!((e) => events.push(e), (e) => errors.push(e));
    } finally {
      if (saved === undefined) delete process.env.PULSE_SERVER;
      else process.env.PULSE_SERVER = saved;
    }
    try {
      daemon.kill();
      expect(await waitFor(() => errors.length > 0, 10_000)).toBe(true); // hang guard
      await sleep(100);
      expect(errors).toHaveLength(1);
      expect(errors[0]).toBeInstanceOf(LoopcheckError);
      expect((errors[0] as LoopcheckError).code).toBe('SERVICE_UNAVAILABLE');
      expect((errors[0] as LoopcheckError).osCode).toBe(11);
      expect((errors[0] as LoopcheckError).message).toMatch(/connection to the PulseAudio server was lost/);
    } finally {
      await watch?.close(); // already closed by the error: must be a harmless no-op
    }
  });
});
