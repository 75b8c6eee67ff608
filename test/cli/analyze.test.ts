import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { addNoise, removeSpan, throughDevice } from '../../src/dsp/impair.js';
import { createRng } from '../../src/dsp/random.js';
import { encodeWav, writeWav } from '../../src/wav.js';
import { isOneLineError, loopcheck } from '../support/cli.js';

const rate = 48000;
let dir = '';
let refPath = '';

function pinkish(n: number, seed: number): Float32Array {
  // Gaussian noise through a one-pole low-pass: broadband, well inside the interpolator's passband.
  const rng = createRng(seed);
  const x = new Float32Array(n);
  let y = 0;
  for (let i = 0; i < n; i++) {
    y = 0.6 * y + 0.4 * rng.gaussian();
    x[i] = 0.25 * y;
  }
  return x;
}

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'loopcheck-analyze-'));
  refPath = path.join(dir, 'ref.wav');
  await writeWav(refPath, { sampleRate: rate, channels: [pinkish(3 * rate, 1)] });
});

describe('loopcheck analyze (CLI contract)', () => {
  it('prints the design.md JSON for a delayed, attenuated, noisy capture with one gap', async () => {
    const ref = pinkish(3 * rate, 1);
    const latency = 1234.37;
    let cap = throughDevice(ref, { latencySamples: latency, gainDb: -6.02, length: 4 * rate });
    cap = addNoise(cap, -80, 5);
    cap = removeSpan(cap, Math.round(latency) + rate, Math.round(0.01 * rate)); // 10 ms gap, 1 s into the signal
    const capPath = path.join(dir, 'cap.wav');
    // EXTENSIBLE float stereo: WASAPI's mix format; channel 1 carries the signal, channel 0 silence.
    await writeWav(capPath, { sampleRate: rate, channels: [new Float32Array(cap.length), cap] }, { format: 'float32', extensible: true });
    const r = await loopcheck(['analyze', '--reference', refPath, '--capture', capPath, '--channel', '1', '--json']);
    expect(r.stderr).toBe('');
    expect(r.exitCode).toBe(0);
    const j = JSON.parse(String(r.stdout));
    expect(Object.keys(j).slice(0, 8)).toEqual(['signalFound', 'sampleRate', 'channel', 'latency', 'gainDb', 'driftPpm', 'snrDb', 'dropouts']);
    expect(j.signalFound).toBe(true);
    expect(j.sampleRate).toBe(rate);
    expect(j.channel).toBe(1);
    // ±0.1 sample: the accuracy for broadband references at SNR ≥ 40 dB (this one is ~60 dB).
    expect(Math.abs(j.latency.samples - latency)).toBeLessThan(0.1);
    expect(Math.abs(j.latency.ms - (latency / rate) * 1000)).toBeLessThan(0.1 / rate * 1000 + 1e-6);
    expect(j.latency.confidence).toBeGreaterThan(0.8);
    expect(Math.abs(j.gainDb - -6.02)).toBeLessThan(0.2);
    expect(Math.abs(j.driftPpm)).toBeLessThan(5);
    expect(j.dropouts).toHaveLength(1);
    expect(j.dropouts[0].kind).toBe('gap');
    expect(Math.abs(j.dropouts[0].atSeconds - (latency + rate) / rate)).toBeLessThan(0.01);
    expect(Math.abs(j.dropouts[0].durationMs - 10)).toBeLessThan(2.5);
  });

  it('exits 1 with signalFound false and latency null when the capture holds no trace of the reference', async () => {
    const capPath = path.join(dir, 'other.wav');
    await writeWav(capPath, { sampleRate: rate, channels: [pinkish(3 * rate, 99)] });
    const r = await loopcheck(['analyze', '--reference', refPath, '--capture', capPath, '--json']);
    expect(r.exitCode).toBe(1);
    const j = JSON.parse(String(r.stdout));
    expect(j.signalFound).toBe(false);
    expect(j.latency).toBeNull();
  });

  it('reads a truncated capture up to its last whole frame, with a warning', async () => {
    const ref = pinkish(3 * rate, 1);
    const cap = throughDevice(ref, { latencySamples: 480, length: 3.5 * rate });
    const bytes = encodeWav({ sampleRate: rate, channels: [cap] }).bytes;
    const capPath = path.join(dir, 'truncated.wav');
    await writeFile(capPath, bytes.subarray(0, bytes.length - 1001)); // cut mid-frame, data size now too large
    const r = await loopcheck(['analyze', '--reference', refPath, '--capture', capPath, '--json']);
    expect(r.exitCode).toBe(0);
    expect(r.stderr).toMatch(/warning: .*truncat/i);
    expect(Math.abs(JSON.parse(String(r.stdout)).latency.samples - 480)).toBeLessThan(0.1);
  });

  it.each([
    ['a text file', async (p: string) => writeFile(p, 'this is not audio\n'), /INVALID_FILE/],
    ['an empty file', async (p: string) => writeFile(p, ''), /INVALID_FILE/],
    ['a RIFF header only', async (p: string) => writeFile(p, Buffer.from('RIFF\x04\x00\x00\x00WAVE', 'latin1')), /INVALID_FILE/],
  ])('exits 2 with one clear line for %s', async (_what, make, pattern) => {
    const p = path.join(dir, `bad-${Math.random().toString(36).slice(2)}.wav`);
    await make(p);
    const r = await loopcheck(['analyze', '--reference', refPath, '--capture', p]);
    expect(r.exitCode).toBe(2);
    expect(isOneLineError(r.stderr)).toBe(true);
    expect(r.stderr).toMatch(pattern);
  });

  it('exits 2 for a missing file and for missing arguments', async () => {
    const a = await loopcheck(['analyze', '--reference', refPath, '--capture', path.join(dir, 'nope.wav')]);
    expect(a.exitCode).toBe(2);
    expect(isOneLineError(a.stderr)).toBe(true);
    const b = await loopcheck(['analyze', '--reference', refPath]);
    expect(b.exitCode).toBe(2);
    expect(b.stderr).toMatch(/--capture/);
  });

  it('keeps the report file contract readable by other programs (round trip through JSON.parse)', async () => {
    const r = await loopcheck(['analyze', '--reference', refPath, '--capture', refPath, '--json']);
    expect(r.exitCode).toBe(0);
    const j = JSON.parse(String(r.stdout));
    expect(Math.abs(j.latency.samples)).toBeLessThan(0.01);
    expect(j.dropouts).toEqual([]);
    expect(j.bitExact).toBe(true);
    await readFile(refPath);
  });
});
