/**
 * The pulse backend against a real PulseAudio server (scripts/ci/pulse.sh start: null sink `loop`,
 * float32le 48 kHz stereo, norewinds=1). Without a server these skip with a reason; with
 * LOOPCHECK_REQUIRE_REAL_AUDIO=1 they fail instead.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { createPulseBackend } from '../../src/backends/pulse.js';
import { LoopcheckError } from '../../src/errors.js';
import { nativeCandidates } from '../../src/native.js';
import { probePulse, requirePulseServer } from '../native/pulse-support.js';
import { collect, findSignal, maxAbsError, noise } from '../support/loopback.js';

const probe = probePulse();
const haveServer = requirePulseServer(probe);
const backend = createPulseBackend();

async function loopbackRun(bufferMs: number, seed: number) {
  const session = await backend.openLoopback({ device: 'loop', sampleRate: 48000, channels: 2, bufferMs });
  const cap = collect(session);
  try {
    await session.wait(100);
    const signal = noise(48000 / 4, 48000, seed); // 250 ms
    const played = await session.render.play(signal);
    await session.wait(bufferMs * 3 + 150); // let the tail reach the monitor
    await session.capture.stop();
    await cap.done;
    return { session, chunks: cap.chunks, signal, played, error: cap.error() };
  } finally {
    await session.close();
  }
}

describe.skipIf(!haveServer)('pulse backend on a real server', () => {
  it('lists the null sink `loop` and its monitor `loop.monitor`', async () => {
    const devices = await backend.listDevices();
    const loop = devices.find((d) => d.id === 'loop');
    const monitor = devices.find((d) => d.id === 'loop.monitor');
    expect(loop?.kind).toBe('render');
    expect(loop?.sampleRate).toBe(48000);
    expect(loop?.channels).toBe(2);
    expect(monitor?.kind).toBe('monitor');
  });

  it('loops a known signal back bit-exactly (max abs error 0) at a 20 ms buffer', async () => {
    const r = await loopbackRun(20, 7);
    expect(r.error).toBeUndefined();
    expect(r.played.framesWritten).toBe(12000);
    const found = findSignal(r.chunks, r.signal);
    expect(found, 'signal frame 0 not found in the capture').toBeDefined();
    // float32le end to end through a null sink at 100 % volume is a copy: exact equality is the contract
    // (pulseaudio.md: max abs error 0 in every run), so the tolerance is 0.
    expect(maxAbsError(r.chunks, r.signal, found!.streamFrame)).toBe(0);
    // The stream timeline has no gaps or drops on an idle machine.
    for (let i = 1; i < r.chunks.length; i++) {
      expect(r.chunks[i]!.framePosition).toBe(r.chunks[i - 1]!.framePosition + r.chunks[i - 1]!.frames);
      expect(r.chunks[i]!.overruns).toBe(0);
    }
  });

  for (const bufferMs of [10, 20, 50]) {
    it(`write → delivery latency at ${bufferMs} ms buffers is under 100 ms`, async () => {
      const r = await loopbackRun(bufferMs, 100 + bufferMs);
      const found = findSignal(r.chunks, r.signal);
      expect(found).toBeDefined();
      // Design "Timing model": latencyMs = delivery of the stimulus frame to JS − the time it was handed to
      // the render API, both on the addon's monotonic clock. 100 ms is the product's "< 100 ms buffer"
      // criterion (design.md), not a speed benchmark: the recipe measured 15 ms / 37.5 ms device latency
      // plus ≤ 20 ms of pump batching.
      const latencyMs = found!.chunk.receivedAt - r.played.writeTime;
      // Informational: the monitor's device time of the stimulus frame. A null sink renders ahead of its clock,
      // so this can precede the write; only delivery (receivedAt) is asserted.
      const deviceTimeOfFrame = found!.chunk.deviceTime + (found!.offset / 48000) * 1000;
      process.stderr.write(
        `[pulse] buffer ${bufferMs} ms: granted render ${r.session.render.bufferMs} ms, capture ${r.session.capture.bufferMs} ms; ` +
          `write→delivery ${latencyMs.toFixed(2)} ms; write→device ${(deviceTimeOfFrame - r.played.writeTime).toFixed(2)} ms\n`,
      );
      expect(latencyMs).toBeGreaterThan(0);
      expect(latencyMs).toBeLessThan(100);
      for (const c of r.chunks) expect(c.receivedAt).toBeGreaterThanOrEqual(c.deviceTime);
    });
  }

  it('reports DEVICE_LOST (pa errno KILLED) when the sink is unloaded under an open session', async () => {
    const name = `lc_tmp_${process.pid}`;
    const load = spawnSync('pactl', ['load-module', 'module-null-sink', `sink_name=${name}`, 'rate=48000', 'channels=2', 'format=float32le', 'norewinds=1'], {
      encoding: 'utf8',
    });
    expect(load.status, load.stderr).toBe(0);
    const moduleId = load.stdout.trim();
    const session = await backend.openLoopback({ device: name, bufferMs: 20 });
    const cap = collect(session);
    await session.wait(50);
    spawnSync('pactl', ['unload-module', moduleId]);
    await cap.done;
    const err = cap.error();
    expect(err).toBeInstanceOf(LoopcheckError);
    expect((err as LoopcheckError).code).toBe('DEVICE_LOST');
    expect((err as LoopcheckError).osCode).toBe(12); // PA_ERR_KILLED ("Entity killed")
    await session.close();
  });

  it('process exit with open capture and playback streams does not crash', () => {
    // A child opens both streams, starts playing 2 s of audio, and calls process.exit() 200 ms later.
    const addon = probe.binding ? nativeCandidates().find((f) => existsSync(f)) : undefined;
    expect(addon).toBeDefined();
    const script = `
      const b = require(${JSON.stringify(addon)});
      const s = new b.PulseSession({});
      s.openCapture({ device: 'loop', sampleRate: 48000, channels: 2, bufferMs: 20 }, () => {});
      s.openPlayback({ device: 'loop', sampleRate: 48000, channels: 2, bufferMs: 20 });
      s.play(new Float32Array(48000 * 2 * 2)).catch(() => {});
      setTimeout(() => process.exit(0), 200);`;
    const r = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8', timeout: 20_000, env: process.env });
    expect(r.signal, r.stderr).toBeNull();
    expect(r.status, r.stderr).toBe(0);
  });

  it('rejects an unknown sink with DEVICE_NOT_FOUND', async () => {
    await expect(backend.openLoopback({ device: 'no-such-sink' })).rejects.toMatchObject({ code: 'DEVICE_NOT_FOUND' });
  });
});

describe.skipIf(!probe.libpulse)('pulse backend without a server', () => {
  const saved = process.env.PULSE_SERVER;
  afterAll(() => {
    if (saved === undefined) delete process.env.PULSE_SERVER;
    else process.env.PULSE_SERVER = saved;
  });

  it('reports SERVICE_UNAVAILABLE with a pa errno when PULSE_SERVER points to a dead socket', async () => {
    process.env.PULSE_SERVER = `unix:/tmp/loopcheck-no-such-dir-${process.pid}/native`;
    const err = await backend.listDevices().then(
      () => undefined,
      (e: unknown) => e,
    );
    process.env.PULSE_SERVER = saved;
    expect(err).toBeInstanceOf(LoopcheckError);
    expect((err as LoopcheckError).code).toBe('SERVICE_UNAVAILABLE');
    expect((err as LoopcheckError).osCode).toBeGreaterThan(0);
    expect((err as LoopcheckError).hint).toMatch(/pulse\.sh start/);
  });
});
