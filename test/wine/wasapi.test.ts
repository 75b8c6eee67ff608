/**
 * The WASAPI backend against real endpoints: under Wine 10 (`npm run test:wine`: the Windows node.exe in the
 * chroot, PulseAudio behind winepulse, started with --resample-method=trivial so the path is bit-exact) or on
 * a real Windows runner (.github/workflows/windows.yml). Windows only: the `wasapi` vitest project exists only
 * on win32 (vitest.config.ts).
 */
import { describe, expect, it } from 'vitest';
import { getBackend } from '../../src/backends/index.js';
import { runSuites } from '../../src/harness/runner.js';
import { BUILTIN_SUITES } from '../../suites/index.js';
import { collect, findSignal, maxAbsError, noise } from '../support/loopback.js';

const backend = await getBackend('wasapi');
const latencySuite = BUILTIN_SUITES.find((s) => s.name === 'latency')!;
const underWine = process.env.LOOPCHECK_WINE_AGENT !== undefined;
// Under Wine the render stream asks IAudioClient3 for a 20 ms engine period: Wine then buffers 3 periods (60 ms)
// in its PulseAudio stream instead of 30 ms, and its timer jitter stops underflowing it (README "Windows").
// On real Windows the engine's own period is kept.
const renderPeriod = underWine ? { renderPeriodMs: 20 } : {};

describe('wasapi endpoints', () => {
  it('lists a default render endpoint with an id, a name and a mix format', async () => {
    const devices = await backend.listDevices();
    const render = devices.filter((d) => d.kind === 'render');
    expect(render.length, JSON.stringify(devices)).toBeGreaterThan(0);
    const def = render.find((d) => d.isDefault);
    expect(def, 'a default render endpoint').toBeDefined();
    // MMDevice ids: {0.0.0.00000000}.{GUID} for render endpoints (Windows and Wine alike).
    expect(def!.id).toMatch(/^\{0\.0\.0\.00000000\}\.\{[0-9A-Fa-f-]{36}\}$/);
    expect(def!.name.length).toBeGreaterThan(0);
    expect(def!.sampleRate).toBeGreaterThanOrEqual(8000);
    expect(def!.channels).toBeGreaterThanOrEqual(1);
  });

  it('names an unknown endpoint in a DEVICE_NOT_FOUND error with the endpoints it has', async () => {
    await expect(backend.openLoopback({ device: 'no such endpoint' })).rejects.toMatchObject({ code: 'DEVICE_NOT_FOUND', hint: expect.stringContaining('{0.0.0.00000000}') });
  });
});

describe('wasapi loopback of the default render endpoint', () => {
  // retry: as below, one Wine-side underflow inside a burst breaks bit-exactness (seen once in 4 CI runs with
  // Wine's default 10 ms period: max error 0.79); vitest reports every retry.
  it('loops a known signal back bit-exactly, with a continuous timeline (100 ms render queue)', { retry: 6 }, async () => {
    // 100 ms queue: under CPU load shorter queues underrun and split the burst (wine-wasapi.md pitfall 4).
    const session = await backend.openLoopback({ bufferMs: 100, ...renderPeriod });
    const cap = collect(session);
    try {
      expect(session.simulated).toBe(false);
      for (let run = 0; run < 3; run++) {
        const from = cap.chunks.length;
        const signal = noise(48000 / 4, session.render.format.sampleRate, 11 + run);
        const played = await session.render.play(signal);
        expect(played.framesWritten).toBe(12000);
        // One mark per ReleaseBuffer carrying signal frames, in frame order, starting at frame 0.
        expect(played.writeMarks?.[0]).toBe(0);
        await session.wait(400);
        const chunks = cap.chunks.slice(from);
        const found = findSignal(chunks, signal);
        expect(found, `run ${run}: signal frame 0 not found`).toBeDefined();
        // Wine mixes float32 through PulseAudio's trivial resampler at unity volume: a copy, tolerance 0.
        expect(maxAbsError(chunks, signal, found!.streamFrame)).toBe(0);
      }
      for (let i = 1; i < cap.chunks.length; i++) {
        const [a, b] = [cap.chunks[i - 1]!, cap.chunks[i]!];
        expect(b.framePosition, `chunk ${i}`).toBe(a.framePosition + a.frames);
        expect(b.overruns).toBe(0);
      }
    } finally {
      await session.capture.stop();
      await cap.done;
      await session.close();
    }
    expect(cap.error()).toBeUndefined();
  });

  // retry: Wine's own render path underflows now and then under load (docs/decisions.md), a silence loopcheck's
  // render client never caused (it counts 0 underruns); a retry is reported by vitest, never hidden.
  it('per-frame write→delivery latency at the default 50 ms queue is positive and under 100 ms', { retry: 6 }, async () => {
    const report = await runSuites({ backend: 'wasapi', ...renderPeriod, suites: [{ ...latencySuite, repeats: 3 }] });
    expect(report.simulated).toBe(false);
    for (const c of report.cases) {
      process.stderr.write(
        `[wasapi] ${c.name}: latency median ${c.metrics.latencyMs?.toFixed(2)} ms, p99 ${c.metrics.latencyMsP99?.toFixed(2)} ms, ` +
          `first frame ${c.metrics.latencyMsFirstFrame?.toFixed(2)} ms, capture buffer p99 ${c.metrics.captureBufferMsP99?.toFixed(2)} ms\n`,
      );
      // 100 ms is the product criterion (design.md); > 0 because a frame cannot come back before it was written.
      expect(c.metrics.latencyMs).toBeGreaterThan(0);
      expect(c.metrics.latencyMsP99).toBeLessThan(100);
    }
    expect(report.passed, JSON.stringify(report.cases.map((c) => c.failures))).toBe(true);
  });

  it('verify (every built-in suite) passes: not simulated, 0 dropouts, latency < 100 ms', { retry: 6 }, async () => {
    const report = await runSuites({ backend: 'wasapi', ...renderPeriod, suites: BUILTIN_SUITES });
    const summary = report.summary;
    process.stderr.write(`[wasapi] verify: ${JSON.stringify(summary)}\n`);
    expect(report.backend).toBe('wasapi');
    expect(report.simulated).toBe(false);
    expect(report.environment.library).toMatch(/^WASAPI/);
    expect(summary.latencyMsMax).toBeLessThan(100);
    expect(summary.dropouts).toBe(0);
    // Bit-exactness is asserted by the dedicated loopback test above (100 ms queue). Here it is only reported:
    // one Wine underflow in any of the seven cases (36 s of audio, latency repeats included) breaks it, which
    // made this test fail about every other run while every judged criterion passed.
    expect(report.passed).toBe(true);
  });
});
