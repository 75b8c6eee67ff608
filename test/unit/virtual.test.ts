import { describe, expect, it } from 'vitest';
import type { Audio } from '../../src/audio.js';
import type { CaptureChunk, OpenOptions } from '../../src/backends/types.js';
import { createVirtualBackend, VIRTUAL_DEFAULT_DEVICE_NAME, type VirtualSession } from '../../src/backends/virtual.js';
import { LoopcheckError } from '../../src/errors.js';
import { frameDeliveryTime, RecordingBuilder } from '../../src/recording.js';

const RATE = 48000;

interface Run {
  session: VirtualSession;
  chunks: CaptureChunk[];
  recording: ReturnType<RecordingBuilder['build']>;
}

/** Opens a session, collects its capture concurrently while `script` drives it, then stops and assembles. */
async function run(options: OpenOptions, script: (s: VirtualSession) => Promise<void>): Promise<Run> {
  const session = await createVirtualBackend().openVirtual(options);
  const builder = new RecordingBuilder(session.capture.format.channels, session.capture.format.sampleRate);
  const chunks: CaptureChunk[] = [];
  const collecting = (async () => {
    for await (const c of session.capture) {
      chunks.push(c);
      builder.push(c);
    }
  })();
  await script(session);
  await session.capture.stop();
  await collecting;
  await session.close();
  return { session, chunks, recording: builder.build() };
}

function mono(x: Float32Array): Audio {
  return { sampleRate: RATE, channels: [x] };
}

/** A Gaussian pulse (σ = 4 samples, band-limited to far below Nyquist) centred on `at`. */
function addPulse(x: Float32Array, at: number, amplitude = 0.8): void {
  for (let i = Math.max(0, Math.floor(at) - 40); i < Math.min(x.length, at + 40); i++) x[i]! += amplitude * Math.exp(-((i - at) ** 2) / (2 * 16));
}

/** Centroid of |y| within ±radius of `near` (sub-sample position of a symmetric pulse). */
function centroid(y: Float32Array, near: number, radius = 40): number {
  let s = 0;
  let sw = 0;
  for (let i = Math.round(near) - radius; i <= Math.round(near) + radius; i++) {
    s += i * y[i]!;
    sw += y[i]!;
  }
  return s / sw;
}

function argmaxAbs(y: Float32Array, from = 0, to = y.length): number {
  let best = from;
  for (let i = from; i < to; i++) if (Math.abs(y[i]!) > Math.abs(y[best]!)) best = i;
  return best;
}

/** 1 kHz sine at 0.5 with single-sample markers of +1 at frames 100 and n − 100. */
function markedTone(n: number): Float32Array {
  const x = new Float32Array(n);
  for (let i = 0; i < n; i++) x[i] = 0.5 * Math.sin((2 * Math.PI * 1000 * i) / RATE);
  x[100] = 1;
  x[n - 100] = 1;
  return x;
}

describe('virtual backend: timing', () => {
  it('puts an impulse played at an integer-frame time exactly latencyMs later; delivery-clock latency 40 ms', async () => {
    const x = new Float32Array(4800);
    x[0] = 1;
    const { session, recording } = await run({ impair: { latencyMs: 40 }, channels: 1 }, async (s) => {
      await s.wait(100);
      const r = await s.render.play(mono(x));
      expect(r).toEqual({ writeTime: 100, framesWritten: 4800, underruns: 0 });
      expect(s.now()).toBe(200); // play resolves when its last frame was handed over: 100 ms + 4800/48 ms
      await s.wait(100);
    });
    const y = recording.audio.channels[0]!;
    const expected = ((100 + 40) * RATE) / 1000; // 6720
    // Integer position, no drift, gain 1, no noise: the image is an exact copy.
    for (let i = 0; i < y.length; i++) expect(y[i]).toBe(i === expected ? 1 : 0);
    expect(session.plays()[0]!.startFrame).toBe(expected);
    const latencyMs = frameDeliveryTime(recording.deliveries, expected, 48000)! - 100;
    // ±0.01 ms (the contract); jitter is 0 so the fit is exact to float rounding.
    expect(Math.abs(latencyMs - 40)).toBeLessThan(0.01);
  });

  it('places a fractional-frame start with sub-sample precision', async () => {
    const x = new Float32Array(2400);
    addPulse(x, 200);
    let writeTime = NaN;
    const { recording } = await run({ impair: { latencyMs: 40 }, channels: 1 }, async (s) => {
      await s.wait(100.01);
      writeTime = (await s.render.play(mono(x))).writeTime;
      await s.wait(100);
    });
    expect(writeTime).toBeCloseTo(100.01, 9);
    const start = ((writeTime + 40) * RATE) / 1000; // 6720.48
    const y = recording.audio.channels[0]!;
    const measured = centroid(y, start + 200);
    // 1e-3 samples: the Kaiser sinc is flat to ~1e-5 where a σ=4 Gaussian has energy; float32 storage adds ~1e-6.
    expect(Math.abs(measured - (start + 200))).toBeLessThan(1e-3);
    const latencyMs = frameDeliveryTime(recording.deliveries, measured - 200, 48000)! - writeTime;
    expect(Math.abs(latencyMs - 40)).toBeLessThan(0.01);
  });

  it('applies gainDb = −6 as amplitude 10^(−6/20) = 0.501187', async () => {
    const x = new Float32Array(480);
    x[10] = 1;
    const { recording } = await run({ impair: { gainDb: -6 }, channels: 1 }, async (s) => {
      await s.render.play(mono(x));
      await s.wait(50);
    });
    const y = recording.audio.channels[0]!;
    const peak = y[argmaxAbs(y)]!;
    // 1e-6 relative: float32 rounding of the product is ≤ 6e-8 relative.
    expect(Math.abs(peak / 10 ** (-6 / 20) - 1)).toBeLessThan(1e-6);
  });

  it('driftPpm = 100 stretches content by 1.0001 and the chunk clock by 1/1.0001', async () => {
    const x = new Float32Array(RATE + 2000);
    addPulse(x, 1000);
    addPulse(x, 1000 + RATE);
    let start = NaN;
    const { chunks, recording } = await run({ impair: { driftPpm: 100, latencyMs: 20 }, channels: 1 }, async (s) => {
      await s.wait(30);
      await s.render.play(mono(x));
      start = s.plays()[0]!.startFrame;
      await s.wait(50);
    });
    const y = recording.audio.channels[0]!;
    const a = centroid(y, start + 1000 * 1.0001);
    const b = centroid(y, start + (1000 + RATE) * 1.0001);
    // ±1 ppm of 48000 samples = 0.048 samples; the centroids are good to ~1e-3 samples.
    expect(Math.abs((b - a) / RATE - 1.0001)).toBeLessThan(1e-6);
    expect(Math.abs(start - ((30 + 20) * RATE * 1.0001) / 1000)).toBeLessThan(1e-9);
    // Capture clock 100 ppm fast: one 480-frame chunk spans 10 / 1.0001 ms of simulated time.
    const periodMs = 10 / 1.0001;
    chunks.forEach((c, k) => {
      // 1e-9 ms: float rounding of k·period.
      expect(Math.abs(c.deviceTime - k * periodMs)).toBeLessThan(1e-9);
      expect(Math.abs(c.receivedAt - (k + 1) * periodMs)).toBeLessThan(1e-9);
    });
  });

  it('keeps chunks contiguous with monotone, bounded jitter', async () => {
    const { chunks } = await run({ impair: { jitterMs: 2, seed: 3 } }, async (s) => {
      await s.wait(2000);
    });
    expect(chunks.length).toBeGreaterThan(190);
    let maxJitter = 0;
    chunks.forEach((c, k) => {
      expect(c.framePosition).toBe(k * 480);
      expect(c.frames).toBe(480);
      expect(c.samples.length).toBe(960);
      const end = ((k + 1) * 480 * 1000) / RATE;
      const jitter = c.receivedAt - end;
      // Never early; at most 6σ = 12 ms late (the documented clamp).
      expect(jitter).toBeGreaterThanOrEqual(0);
      expect(jitter).toBeLessThanOrEqual(12 + 1e-9);
      maxJitter = Math.max(maxJitter, jitter);
      if (k > 0) expect(c.receivedAt).toBeGreaterThanOrEqual(chunks[k - 1]!.receivedAt);
    });
    // |N(0, 2 ms)| over 200 draws exceeds 2 ms with near certainty (P(all < 2) = 0.68^200).
    expect(maxJitter).toBeGreaterThan(2);
  });
});

describe('virtual backend: dropouts', () => {
  it('dropouts=2 removes exactly 2·dropoutMs of audio inside the signal image', async () => {
    const n = RATE; // 1 s
    const x = markedTone(n);
    const { session, recording } = await run({ impair: { dropouts: 2, dropoutMs: 10, latencyMs: 20 }, channels: 1 }, async (s) => {
      await s.render.play(mono(x));
      await s.wait(100);
    });
    const y = recording.audio.channels[0]!;
    const start = 960; // 20 ms at 48 kHz, written at t = 0
    const gaps = session.placements();
    expect(gaps.map((g) => g.kind)).toEqual(['gap', 'gap']);
    const d = (10 * RATE) / 1000;
    // The markers (the only samples > 0.9) are exactly 2·480 frames closer in the capture.
    const markers: number[] = [];
    y.forEach((v, i) => v > 0.9 && markers.push(i));
    expect(markers).toEqual([start + 100, start + n - 100 - 2 * d]);
    // Positions inside the image, away from its first and last 10 %, ≥ 100 ms apart.
    for (const g of gaps) {
      expect(g.frames).toBe(d);
      expect(g.signalFrame).toBeGreaterThanOrEqual(0.1 * n);
      expect(g.signalFrame + d).toBeLessThanOrEqual(0.9 * n);
    }
    expect(gaps[1]!.signalFrame - gaps[0]!.signalFrame - d).toBeGreaterThanOrEqual(0.1 * RATE);
    // Known answer: the capture equals the signal with those two spans cut out (exact: integer lag, gain 1).
    const [g0, g1] = gaps as [(typeof gaps)[0], (typeof gaps)[0]];
    expect(g0.atFrame).toBe(start + g0.signalFrame);
    expect(g1.atFrame).toBe(start + g1.signalFrame - d);
    const expected = new Float32Array(y.length);
    const kept = [...x.subarray(0, g0.signalFrame), ...x.subarray(g0.signalFrame + d, g1.signalFrame), ...x.subarray(g1.signalFrame + d)];
    expected.set(kept, start);
    expect(y).toEqual(expected);
  });

  it('zero-fills and clicks keep the timeline and are where the placements say', async () => {
    const n = RATE;
    const x = markedTone(n);
    const { session, recording } = await run({ impair: { zeroFills: 1, clicks: 1, dropoutMs: 5, seed: 11 }, channels: 1 }, async (s) => {
      await s.render.play(mono(x));
      await s.wait(100);
    });
    const y = recording.audio.channels[0]!;
    const start = 960;
    const placed = session.placements();
    expect(placed.map((p) => p.kind).sort()).toEqual(['click', 'silence']);
    const silence = placed.find((p) => p.kind === 'silence')!;
    const click = placed.find((p) => p.kind === 'click')!;
    expect(Math.abs(click.amplitude)).toBe(0.5);
    expect(silence.frames).toBe(240);
    const want = new Float32Array(y.length);
    want.set(x, start);
    want.fill(0, silence.atFrame, silence.atFrame + 240);
    want[click.atFrame] = want[click.atFrame]! + click.amplitude;
    // Exact: integer lag and gain 1 copy x; zeros and the click are the only changes.
    expect(y).toEqual(want);
    expect(y.subarray(silence.atFrame, silence.atFrame + 240).every((v) => v === 0)).toBe(true);
    // Timeline kept: the end marker did not move.
    expect(y[start + n - 100]).toBe(1);
  });

  it('places impairments only on loud stretches of the reference', async () => {
    // 0.2 s loud, 0.6 s silence, 0.2 s loud: the silent middle and the outer 10 % are excluded.
    const x = new Float32Array(RATE);
    for (let i = 0; i < RATE; i++) if (i < 0.2 * RATE || i >= 0.8 * RATE) x[i] = 0.5 * Math.sin((2 * Math.PI * 440 * i) / RATE);
    const { session } = await run({ impair: { clicks: 2, seed: 5 }, channels: 1 }, async (s) => {
      await s.render.play(mono(x));
    });
    const placed = session.placements();
    expect(placed).toHaveLength(2);
    for (const p of placed) {
      const inFirst = p.signalFrame >= 0.1 * RATE && p.signalFrame < 0.2 * RATE - 240;
      const inLast = p.signalFrame >= 0.8 * RATE + 240 && p.signalFrame < 0.9 * RATE;
      expect(inFirst || inLast).toBe(true);
    }
  });
});

describe('virtual backend: reproducibility, noise, mixing', () => {
  const impair = { noiseDb: -50, jitterMs: 1, dropouts: 2, clicks: 1, zeroFills: 1, latencyMs: 33.3, driftPpm: 37 };
  const script = async (s: VirtualSession): Promise<void> => {
    await s.wait(50);
    await s.render.play(mono(markedTone(RATE)));
    await s.wait(100);
  };

  it('same seed ⇒ bit-identical capture and timing; different seed ⇒ different', async () => {
    const a = await run({ impair: { ...impair, seed: 7 } }, script);
    const b = await run({ impair: { ...impair, seed: 7 } }, script);
    const c = await run({ impair: { ...impair, seed: 8 } }, script);
    expect(a.recording.audio.channels[0]!.length).toBeGreaterThan(RATE);
    expect(b.recording.audio).toEqual(a.recording.audio);
    expect(b.recording.deliveries).toEqual(a.recording.deliveries);
    expect(b.session.placements()).toEqual(a.session.placements());
    expect(c.recording.audio).not.toEqual(a.recording.audio);
    expect(c.session.placements()).not.toEqual(a.session.placements());
  });

  it('an idle capture is the noise floor: RMS = noiseDb, zeros without noise', async () => {
    const noisy = await run({ impair: { noiseDb: -60 } }, (s) => s.wait(1000));
    const y = noisy.recording.audio.channels[1]!;
    const rms = Math.sqrt(y.reduce((acc, v) => acc + v * v, 0) / y.length);
    // 48000 Gaussian samples: relative standard error of the RMS ≈ 1/√(2·48000) = 0.3 %; allow 2 %.
    expect(Math.abs(rms / 1e-3 - 1)).toBeLessThan(0.02);
    const quiet = await run({}, (s) => s.wait(200));
    expect(quiet.recording.audio.channels[0]!.every((v) => v === 0)).toBe(true);
  });

  it('overlapping plays add, and a mono signal goes to every channel', async () => {
    const x = new Float32Array(4800);
    x[0] = 0.25;
    const { recording } = await run({ impair: { latencyMs: 10 } }, async (s) => {
      await s.wait(10);
      await Promise.all([s.render.play(mono(x)), s.render.play(mono(x))]);
      await s.wait(50);
    });
    for (const ch of recording.audio.channels) {
      expect(ch[((10 + 10) * RATE) / 1000]).toBe(0.5); // 0.25 + 0.25, exact in float32
      expect(ch.filter((v) => v !== 0)).toHaveLength(1);
    }
  });
});

describe('virtual backend: clock and lifecycle', () => {
  it('play() and wait() advance time with no consumer and never deadlock', async () => {
    const s = await createVirtualBackend().openVirtual({});
    expect(s.now()).toBe(0);
    await s.wait(25);
    expect(s.now()).toBe(25);
    const r = await s.render.play(mono(new Float32Array(RATE * 2)));
    expect(r.writeTime).toBe(25);
    expect(s.now()).toBe(2025);
    await s.wait(0);
    // Chunks captured meanwhile are still there after stop (receivedAt ≤ 2025 ms ⇒ 202 chunks).
    await s.capture.stop();
    let count = 0;
    for await (const c of s.capture) expect(c.framePosition).toBe(480 * count++);
    expect(count).toBe(202);
    await s.close();
    await expect(s.render.play(mono(new Float32Array(10)))).rejects.toBeInstanceOf(LoopcheckError);
  });

  it('a consumer that falls behind the backlog limit loses the oldest chunks as counted overruns', async () => {
    const s = await createVirtualBackend({ maxBacklogMs: 100 }).openVirtual({});
    await s.wait(1000);
    await s.capture.stop();
    const chunks: CaptureChunk[] = [];
    for await (const c of s.capture) chunks.push(c);
    // Chunks older than 1000 − 100 ms are dropped: the first kept starts at 900 ms = frame 43200.
    expect(chunks[0]!.framePosition).toBe(43200);
    expect(chunks[0]!.overruns).toBe(90);
    expect(chunks[0]!.flags.discontinuity).toBe(true);
    expect(chunks.slice(1).every((c) => c.overruns === 0)).toBe(true);
    expect(chunks).toHaveLength(10);
  });

  it('realtime mode paces by the monotonic clock and still delivers the played signal', async () => {
    const x = new Float32Array(2400);
    addPulse(x, 300);
    const { session, recording } = await run({ impair: { latencyMs: 5 }, channels: 1, realtime: true }, async (s) => {
      await s.render.play(mono(x));
      await s.wait(40);
    });
    const start = session.plays()[0]!.startFrame;
    // Same sub-sample budget as the simulated case; only the start time comes from the wall clock.
    expect(Math.abs(centroid(recording.audio.channels[0]!, start + 300) - (start + 300))).toBeLessThan(1e-3);
  });

  it('names the device, lists it with its monitor, and validates options', async () => {
    const backend = createVirtualBackend();
    const devices = await backend.listDevices();
    expect(devices.map((d) => d.kind)).toEqual(['render', 'monitor']);
    expect(devices[0]).toMatchObject({ id: `virtual:${VIRTUAL_DEFAULT_DEVICE_NAME}`, isDefault: true, sampleRate: 48000, channels: 2 });
    const s = await backend.openVirtual({ device: 'Speakers (Test)', sampleRate: 44100, bufferMs: 20, channels: 1 });
    expect(s.device).toEqual({ id: 'virtual:Speakers (Test)', name: 'Speakers (Test)' });
    expect(s.capture.format).toEqual({ sampleRate: 44100, channels: 1, sampleFormat: 'f32' });
    expect(s.capture.bufferMs).toBe(20);
    await expect(s.render.play({ sampleRate: 48000, channels: [new Float32Array(1)] })).rejects.toMatchObject({ code: 'FORMAT_UNSUPPORTED' });
    for (const bad of [{ sampleRate: 1000 }, { channels: 0 }, { bufferMs: -1 }, { impair: { latencyMs: -5 } }]) {
      await expect(backend.openLoopback(bad)).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    }
    await expect(s.wait(Number.NaN)).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
  });
});
