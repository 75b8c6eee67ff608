/**
 * `loopcheck record` end to end on a real PulseAudio server (scripts/ci/pulse.sh start), with another program
 * (paplay) producing the audio:
 *   (a) float32 48 kHz stereo to a WAV: the capture holds the played signal near bit-exactly;
 *   (b) s16 16 kHz mono to stdout: matches the same signal converted by sox (an independent resampler);
 *   (c) SIGINT / SIGTERM: exit 130 / 143, one "stopped" line, a valid WAV with what was recorded.
 *
 * Isolation: vitest runs test files in parallel and other pulse tests play into the default sink `loop`, so
 * this file loads its own null sink (same spec as pulse.sh's: float32le 48 kHz stereo, norewinds) and points
 * both the recorder (`--device`) and paplay (`--device`) at it; it is unloaded afterwards.
 *
 * No server: skipped with a reason; with LOOPCHECK_REQUIRE_REAL_AUDIO=1 a missing server, paplay, pactl or
 * sox FAILS instead (CI never passes by skipping).
 */
import { spawnSync } from 'node:child_process';
import { mkdtemp } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { alignedReference, analyze } from '../../src/analysis/index.js';
import type { Audio } from '../../src/audio.js';
import { exponentialSweep, pinkNoise } from '../../src/signals/index.js';
import { readWav, writeWav } from '../../src/wav.js';
import { sleep, spawnLoopcheck, stderrLines, waitForSize } from '../support/cli.js';
import { requireCommand } from '../support/require.js';
import { probePulse, requirePulseServer } from '../native/pulse-support.js';

const probe = probePulse();
const haveServer = requirePulseServer(probe);
const haveTools =
  haveServer &&
  requireCommand('paplay', 'apt-get install -y pulseaudio-utils') &&
  requireCommand('pactl', 'apt-get install -y pulseaudio-utils');
const haveSox = haveTools && requireCommand('sox', 'apt-get install -y sox');

const RATE = 48000;
const PULSE_ENV = { PULSE_SERVER: process.env.PULSE_SERVER ?? '' };
/** This file's own null sink (see the header: isolation from other pulse tests running in parallel). */
const SINK = `lc_record_${process.pid}`;

/** 48 kHz stereo float32: bytes per second in the WAV data chunk. */
const BYTES_PER_SECOND = RATE * 2 * 4;

function paplay(file: string) {
  return execa('paplay', [`--device=${SINK}`, file], { env: { PULSE_SERVER: process.env.PULSE_SERVER ?? '' }, reject: false, timeout: 30_000 });
}

// ---- the known signal -------------------------------------------------------------------------------------

/**
 * 2 s, 48 kHz stereo: pink noise (−20 dBFS RMS, a different seed per channel) + a 20 Hz → 20 kHz log sweep
 * (−12 dBFS peak) on both. Broadband and non-periodic, so the latency is unambiguous; peaks stay below
 * −3 dBFS (noise peak ≤ RMS + 12 dB = −8 dBFS, plus 0.25), so s16 conversion never clips.
 */
function knownSignal(): Audio {
  const sweep = exponentialSweep(RATE, { durationSeconds: 2, startHz: 20, endHz: 20000, levelDbfs: -12 }).channels[0]!;
  const channels = [1, 2].map((seed) => {
    const noise = pinkNoise(RATE, { durationSeconds: 2, rmsDbfs: -20, seed }).channels[0]!;
    const x = new Float32Array(noise.length);
    for (let i = 0; i < x.length; i++) x[i] = noise[i]! + sweep[i]!;
    return x;
  });
  return { sampleRate: RATE, channels };
}

/** Normalised correlation Σxy / √(Σx²·Σy²) over [from, to), float64 sums. */
function normalizedCorrelation(x: Float32Array, y: Float32Array, from: number, to: number): number {
  let xy = 0;
  let xx = 0;
  let yy = 0;
  for (let i = from; i < to; i++) {
    xy += x[i]! * y[i]!;
    xx += x[i]! * x[i]!;
    yy += y[i]! * y[i]!;
  }
  return xy / Math.sqrt(xx * yy);
}

let dir = '';
let refPath = '';
const reference = knownSignal();
let moduleId = '';

describe.skipIf(!haveTools)('loopcheck record on a real PulseAudio server', () => {
  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'loopcheck-pulse-record-'));
    refPath = path.join(dir, 'ref.wav');
    await writeWav(refPath, reference, { format: 'float32' });
    const load = spawnSync('pactl', ['load-module', 'module-null-sink', `sink_name=${SINK}`, 'rate=48000', 'channels=2', 'format=float32le', 'norewinds=1'], {
      encoding: 'utf8',
    });
    if (load.status !== 0) throw new Error(`pactl load-module module-null-sink failed: ${load.stderr}`);
    moduleId = load.stdout.trim();
  });
  afterAll(() => {
    if (moduleId) spawnSync('pactl', ['unload-module', moduleId]);
  });

  it('(a) records paplay\'s 2 s float32 signal near bit-exactly: signal found, SNR ≥ 60 dB, 0 dropouts', async () => {
    const out = path.join(dir, 'a.wav');
    const rec = spawnLoopcheck(['record', '--backend', 'pulse', '--device', SINK, '--seconds', '4', out], { env: PULSE_ENV });
    // Start the player once audio flows into the file (0.1 s of frames past the header), then ~0.4 s later:
    // the record stream is up before the playback starts (design.md: start record before playback).
    await waitForSize(out, 44 + 0.1 * BYTES_PER_SECOND, rec.child);
    await sleep(400);
    const played = await paplay(refPath);
    const r = await rec.child;
    expect(played.exitCode, String(played.stderr)).toBe(0);
    expect(r.exitCode, String(r.stderr)).toBe(0);
    expect(stderrLines(r.stderr)).toEqual([expect.stringMatching(/^loopcheck: recorded 4\.000 s to /)]);
    const wav = await readWav(out);
    expect(wav.info.format).toBe('float32');
    expect(wav.info.truncated).toBe(false);
    expect(wav.audio.channels[0]!.length).toBe(4 * RATE); // --seconds counts device frames exactly
    for (const channel of [0, 1]) {
      const a = analyze(reference, wav.audio, { channel });
      process.stderr.write(
        `[pulse-record] (a) channel ${channel}: latency ${a.latency?.ms.toFixed(1)} ms into the file, confidence ${a.latency?.confidence.toFixed(3)}, ` +
          `gain ${a.gainDb?.toFixed(4)} dB, SNR ${a.snrDb?.toFixed(1)} dB, bitExact ${a.bitExact}, dropouts ${a.dropouts.length}\n`,
      );
      expect(a.signalFound).toBe(true);
      // 60 dB: the brief's floor for a float32 path through a null sink at 100 % volume, which is a copy
      // (test/integration/pulse-loopback.test.ts measures max abs error 0); anything lossy (s16 would be
      // ~-98 dB, a resampler ~-100 dB, a gain change) or a glitch falls far below it only if broken.
      expect(a.snrDb).toBeGreaterThanOrEqual(60);
      expect(a.dropouts).toEqual([]);
    }
  });

  it.runIf(haveSox)('(b) `record - --format s16 --rate 16000 --channels 1` matches sox\'s conversion of the signal (correlation ≥ 0.99)', async () => {
    const rec = spawnLoopcheck(['record', '-', '--format', 's16', '--rate', '16000', '--channels', '1', '--seconds', '3', '--backend', 'pulse', '--device', SINK], {
      env: PULSE_ENV,
      binaryStdout: true,
    });
    await rec.ready;
    // stdout gives no header to poll: wait until the recorder has a second of headroom, then play.
    await sleep(500);
    const played = await paplay(refPath);
    const r = await rec.child;
    expect(played.exitCode, String(played.stderr)).toBe(0);
    expect(r.exitCode, stderrLines(r.stderr).join('\n')).toBe(0);
    const bytes = r.stdout as unknown as Uint8Array;
    expect(bytes.length % 2).toBe(0);
    // 3 s at 48 kHz = 144000 device frames → exactly 48000 at 16 kHz (ratio 1/3, group delay compensated).
    expect(bytes.length / 2).toBe(48000);
    const pcm = new Int16Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.length));
    const capture = Float32Array.from(pcm, (v) => v / 32768);

    const ref16kPath = path.join(dir, 'ref16k.wav');
    const sox = await execa('sox', [refPath, '-r', '16000', '-c', '1', '-b', '16', ref16kPath], { reject: false });
    expect(sox.exitCode, String(sox.stderr)).toBe(0);
    const ref16k = (await readWav(ref16kPath)).audio;
    expect(ref16k.sampleRate).toBe(16000);

    // Alignment by cross-correlation (analyze: coarse xcorr peak, then sub-sample refinement). The offset is
    // generally fractional at 16 kHz (the signal starts on a 48 kHz frame), so the reference is shifted by
    // the sub-sample delay found (windowed sinc) before correlating.
    const a = analyze(ref16k, { sampleRate: 16000, channels: [capture] });
    expect(a.signalFound).toBe(true);
    const alignment = a.alignment!;
    const shifted = alignedReference(ref16k.channels[0]!, alignment.segments, alignment.ratio, capture.length);
    const from = Math.max(0, Math.ceil(alignment.segments[0]!.offsetSamples));
    const to = Math.min(capture.length, Math.floor(alignment.segments.at(-1)!.captureEnd));
    expect(to - from).toBeGreaterThan(1.9 * 16000); // the whole 2 s signal overlaps the 3 s capture
    const corr = normalizedCorrelation(shifted, capture, from, to);
    // Integer-lag correlation, informational: how much the sub-sample shift matters.
    const lag = Math.round(a.latency!.samples);
    const integerShifted = new Float32Array(capture.length);
    integerShifted.set(ref16k.channels[0]!.subarray(0, Math.max(0, capture.length - lag)), lag);
    const corrInteger = normalizedCorrelation(integerShifted, capture, from, to);
    process.stderr.write(
      `[pulse-record] (b) latency ${a.latency!.samples.toFixed(3)} samples @16 kHz, correlation ${corr.toFixed(6)} (integer lag: ${corrInteger.toFixed(6)}), ` +
        `SNR vs sox ${a.snrDb?.toFixed(1)} dB, gain ${a.gainDb?.toFixed(3)} dB\n`,
    );
    // 0.99 (the brief's floor): two independent band-limited resamplers differ only in their 7–8 kHz
    // transition bands (ours flat to 7 kHz, sox's "high" quality to ~7.6 kHz) and by s16 rounding/dither
    // (~−98 dBFS); a timing slip, a wrong channel mix or a wrong rate would drop it far below.
    expect(corr).toBeGreaterThanOrEqual(0.99);
    expect(a.dropouts).toEqual([]);
  });

  for (const [signal, code] of [
    ['SIGINT', 130],
    ['SIGTERM', 143],
  ] as const) {
    // The two run concurrently: they only record (the sink is unchanged by a second reader).
    it.skipIf(process.platform === 'win32')(`(c) ${signal} ⇒ exit ${code}, one "stopped" line, a valid WAV with ≥ 1 s`, { concurrent: true }, async () => {
      const out = path.join(dir, `${signal}.wav`);
      const rec = spawnLoopcheck(['record', '--backend', 'pulse', '--device', SINK, out], { env: PULSE_ENV });
      await rec.ready;
      // ~1.5 s of audio in the file (plus the header), then the signal.
      await waitForSize(out, 44 + 1.5 * BYTES_PER_SECOND, rec.child);
      rec.child.kill(signal);
      const r = await rec.child;
      expect(r.exitCode, String(r.stderr)).toBe(code);
      const lines = stderrLines(r.stderr);
      expect(lines).toEqual([expect.stringMatching(new RegExp(`^loopcheck: ${signal}: stopped after [0-9.]+ s, .*${signal}\\.wav finalised$`))]);
      const wav = await readWav(out);
      expect(wav.info.truncated).toBe(false);
      expect(wav.warnings).toEqual([]);
      const frames = wav.audio.channels[0]!.length;
      expect(frames).toBeGreaterThanOrEqual(RATE);
      // The line's seconds are the frames written, printed to 1 ms: they agree to ±0.5 ms (rounding).
      const said = Number(/stopped after ([0-9.]+) s/.exec(lines[0]!)![1]);
      expect(Math.abs(said - frames / RATE)).toBeLessThanOrEqual(0.0005);
    });
  }
});
