import { describe, expect, it } from 'vitest';
import type { CaptureChunk } from '../../src/backends/types.js';
import { BACKEND_NAMES, getBackend } from '../../src/backends/index.js';
import { listDevices, openCapture, openRender } from '../../src/capture.js';
import { LoopcheckError } from '../../src/errors.js';

const macrotask = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

describe('openCapture (virtual)', () => {
  it('yields the idle noise floor: zeros without noise, format and device as opened', async () => {
    const cap = await openCapture({ backend: 'virtual', channels: 2, bufferMs: 10 });
    expect(cap.simulated).toBe(true);
    expect(cap.backend).toBe('virtual');
    expect(cap.device).toEqual({ id: 'virtual:loopcheck virtual device', name: 'loopcheck virtual device' });
    expect(cap.format).toEqual({ sampleRate: 48000, channels: 2, sampleFormat: 'f32' });
    const chunks: CaptureChunk[] = [];
    for await (const c of cap) {
      chunks.push(c);
      if (chunks.length === 20) break; // break stops the capture
    }
    expect(chunks.map((c) => c.framePosition)).toEqual(Array.from({ length: 20 }, (_, k) => k * 480));
    expect(chunks.every((c) => c.samples.every((v) => v === 0))).toBe(true);
    // Standalone capture runs as fast as it is read: the clock stands at the last chunk's receivedAt.
    expect(cap.now()).toBe(chunks[19]!.receivedAt);
  });

  it('passes --device and --impair through (string form), noise present when asked', async () => {
    const cap = await openCapture({ backend: 'virtual', device: 'Lautsprecher 🎧', impair: 'noiseDb=-40,seed=3', channels: 1 });
    expect(cap.device.id).toBe('virtual:Lautsprecher 🎧');
    let sumSq = 0;
    let n = 0;
    for await (const c of cap) {
      for (const v of c.samples) sumSq += v * v;
      n += c.samples.length;
      if (n >= 48000) break;
    }
    // −40 dBFS RMS = 0.01; 48000 samples ⇒ ~0.3 % standard error, allow 3 %.
    expect(Math.abs(Math.sqrt(sumSq / n) / 0.01 - 1)).toBeLessThan(0.03);
    await expect(openCapture({ backend: 'virtual', impair: 'latencyMs=-3' })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
  });

  it('readable(): respects backpressure, delivers every chunk, ends after stop()', async () => {
    const cap = await openCapture({ backend: 'virtual' });
    const readable = cap.readable({ highWaterMark: 4 });
    // Nobody reads yet: the stream buffers at most highWaterMark chunks and the clock does not run away.
    readable.pause();
    readable.read(0);
    for (let i = 0; i < 50; i++) await macrotask();
    expect(readable.readableLength).toBeLessThanOrEqual(4);
    expect(cap.now()).toBeLessThanOrEqual(60); // ≤ 4 buffered + 1 in flight + 1 being read, 10 ms each
    const got: CaptureChunk[] = [];
    const ended = new Promise<void>((resolve) => readable.on('end', resolve));
    readable.on('data', (c: CaptureChunk) => {
      got.push(c);
      if (got.length === 30) void cap.stop();
    });
    readable.resume();
    await ended;
    expect(got.length).toBeGreaterThanOrEqual(30);
    got.forEach((c, k) => expect(c.framePosition).toBe(k * 480));
  });

  it('stop() with a live consumer ends iteration', async () => {
    const cap = await openCapture({ backend: 'virtual', channels: 1 });
    let count = 0;
    const done = (async () => {
      for await (const c of cap) {
        expect(c.framePosition).toBe(count * 480);
        count++;
      }
    })();
    while (count < 5) await macrotask();
    await cap.stop();
    await done;
    expect(count).toBeGreaterThanOrEqual(5);
  });
});

describe('openRender (virtual)', () => {
  it('plays a signal and reports write time and frames', async () => {
    const out = await openRender({ backend: 'virtual', sampleRate: 44100, channels: 1 });
    expect(out.format.sampleRate).toBe(44100);
    expect(out.simulated).toBe(true);
    const r = await out.play({ sampleRate: 44100, channels: [new Float32Array(4410)] });
    expect(r).toEqual({ writeTime: 0, framesWritten: 4410, underruns: 0 });
    const r2 = await out.play({ sampleRate: 44100, channels: [new Float32Array(441)] });
    expect(r2.writeTime).toBeCloseTo(100, 9); // the first signal took 100 ms of simulated time
    await out.close();
  });
});

describe('listDevices', () => {
  it('lists the virtual render device and its monitor', async () => {
    const devices = await listDevices({ backend: 'virtual' });
    expect(devices.map((d) => [d.kind, d.isDefault])).toEqual([['render', true], ['monitor', true]]);
    await expect(listDevices({ backend: 'nope' })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
  });
});

describe('getBackend', () => {
  it('rejects an unknown name listing the valid ones', async () => {
    const e = await getBackend('no-such').catch((err: unknown) => err);
    expect(e).toBeInstanceOf(LoopcheckError);
    expect((e as LoopcheckError).code).toBe('INVALID_ARGUMENT');
    expect((e as LoopcheckError).message).toBe('unknown backend "no-such"; valid: auto, virtual, pulse, wasapi');
    await expect(openCapture({ backend: 'Virtual' })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    expect(BACKEND_NAMES).toEqual(['auto', 'virtual', 'pulse', 'wasapi']);
  });

  /** Runs `fn` with PULSE_SERVER pointing at a socket nobody listens on (libpulse reads it at connect). */
  async function withoutPulseServer<T>(fn: () => Promise<T>): Promise<T> {
    const saved = process.env.PULSE_SERVER;
    process.env.PULSE_SERVER = 'unix:/nonexistent/loopcheck-test/native';
    try {
      return await fn();
    } finally {
      if (saved === undefined) delete process.env.PULSE_SERVER;
      else process.env.PULSE_SERVER = saved;
    }
  }

  it('auto falls back to the simulated virtual device when no audio server answers, and says so', async () => {
    const lines: string[] = [];
    const b = await withoutPulseServer(() => getBackend('auto', { log: (l) => lines.push(l) }));
    expect(b.name).toBe('virtual');
    expect(b.simulated).toBe(true);
    expect(lines.join('\n')).toContain('SIMULATED');
    expect(lines.join('\n')).toMatch(/SERVICE_UNAVAILABLE|BACKEND_UNAVAILABLE/);
  });

  it('pulse named explicitly never falls back: no server ⇒ SERVICE_UNAVAILABLE with a hint', async () => {
    const e = await withoutPulseServer(async () => {
      const b = await getBackend('pulse');
      expect(b.name).toBe('pulse');
      return b.openLoopback({}).then(
        () => null,
        (err: unknown) => err,
      );
    });
    expect(e).toBeInstanceOf(LoopcheckError);
    expect((e as LoopcheckError).code).toBe('SERVICE_UNAVAILABLE');
    expect((e as LoopcheckError).hint).toBeTruthy();
  });

  it('wasapi named explicitly on Linux fails with BACKEND_UNAVAILABLE and a hint', async () => {
    const e = await getBackend('wasapi').catch((err: unknown) => err);
    expect(e).toBeInstanceOf(LoopcheckError);
    expect((e as LoopcheckError).code).toBe('BACKEND_UNAVAILABLE');
    expect((e as LoopcheckError).hint).toBeTruthy();
  });
});
