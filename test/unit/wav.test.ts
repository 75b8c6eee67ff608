import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { interleave, type Audio } from '../../src/audio.js';
import { createRng } from '../../src/dsp/random.js';
import { LoopcheckError } from '../../src/errors.js';
import {
  decodeWav,
  encodePcm,
  encodeWav,
  readWav,
  WAV_FORMATS,
  WavStreamWriter,
  writeWav,
  type WavFormat,
} from '../../src/wav.js';
import { requireCommand, strict } from '../support/require.js';
import { childSample } from '../fixtures/wav/child-signal.js';

const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const tmp = mkdtempSync(join(tmpdir(), 'loopcheck-wav-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const hasSox = requireCommand('sox', 'apt-get install sox');
const hasScipy = ((): boolean => {
  const how = 'apt-get install python3-scipy';
  if (!requireCommand('/usr/bin/python3', how)) return false;
  if (spawnSync('/usr/bin/python3', ['-c', 'import scipy.io.wavfile']).status === 0) return true;
  if (strict) throw new Error(`python3 scipy is required (LOOPCHECK_REQUIRE_REAL_AUDIO=1) but missing. Fix: ${how}`);
  process.stderr.write(`[skip] python3 scipy not found; tests that need it are skipped. Fix: ${how}\n`);
  return false;
})();

const BITS: Record<WavFormat, number> = { pcm8: 8, pcm16: 16, pcm24: 24, pcm32: 32, float32: 32, float64: 64 };
const INT_FORMATS: WavFormat[] = ['pcm8', 'pcm16', 'pcm24', 'pcm32'];

/** Seeded test audio. `grid` = quantisation step (values k·grid in [−1, 1 − grid]); 0 = arbitrary floats. */
function testAudio(channels: number, frames: number, grid: number, seed = 1): Audio {
  const rng = createRng(seed);
  const chans: Float32Array[] = [];
  for (let c = 0; c < channels; c++) {
    const ch = new Float32Array(frames);
    for (let i = 0; i < frames; i++) {
      if (grid > 0) ch[i] = rng.int(-Math.round(1 / grid), Math.round(1 / grid)) * grid;
      else ch[i] = (rng.next() * 2 - 1) * 1.5; // floats keep out-of-range values
    }
    if (grid > 0 && frames >= 2) {
      ch[0] = -1; // the extreme codes must survive
      ch[1] = 1 - grid;
    }
    chans.push(ch);
  }
  return { sampleRate: 48000, channels: chans };
}

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

function expectInvalid(bytes: Uint8Array, pattern: RegExp): LoopcheckError {
  let caught: unknown;
  try {
    decodeWav(bytes, 'bad.wav');
  } catch (e) {
    caught = e;
  }
  expect(caught).toBeInstanceOf(LoopcheckError);
  const err = caught as LoopcheckError;
  expect(err.code).toBe('INVALID_FILE');
  expect(err.message).toMatch(/^bad\.wav: /);
  expect(err.message).toMatch(pattern);
  expect(err.hint).toBeTruthy();
  return err;
}

/** sox's own reading of a file, as interleaved float32 (`sox FILE -t f32 -`). */
function soxRaw(path: string): Float32Array {
  const r = spawnSync('sox', [path, '-t', 'f32', '-'], { maxBuffer: 64 << 20 });
  expect(r.status, r.stderr?.toString()).toBe(0);
  const buf = r.stdout as Buffer;
  return new Float32Array(buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.length));
}

function soxInfo(path: string): Record<string, string> {
  const r = spawnSync('sox', ['--i', path], { encoding: 'utf8' });
  expect(r.status, r.stderr).toBe(0);
  const out: Record<string, string> = {};
  for (const line of r.stdout.split('\n')) {
    const m = /^([A-Za-z ]+?)\s*:\s*(.*)$/.exec(line);
    if (m) out[m[1]!] = m[2]!;
  }
  return out;
}

function sox(args: string[]): void {
  const r = spawnSync('sox', args, { encoding: 'utf8' });
  expect(r.status, r.stderr).toBe(0);
}

function u32le(b: Uint8Array, at: number, v: number): void {
  new DataView(b.buffer, b.byteOffset).setUint32(at, v, true);
}
function u16le(b: Uint8Array, at: number, v: number): void {
  new DataView(b.buffer, b.byteOffset).setUint16(at, v, true);
}

/** Assemble a RIFF/WAVE file from chunks (pads odd chunks). */
function riff(chunks: Array<[string, Uint8Array]>, form = 'WAVE', magic = 'RIFF'): Uint8Array {
  const parts: number[] = [];
  const push4 = (s: string): void => {
    for (let i = 0; i < 4; i++) parts.push(s.charCodeAt(i));
  };
  push4(magic);
  parts.push(0, 0, 0, 0);
  push4(form);
  for (const [id, body] of chunks) {
    push4(id);
    parts.push(body.length & 0xff, (body.length >> 8) & 0xff, (body.length >> 16) & 0xff, (body.length >>> 24) & 0xff);
    parts.push(...body);
    if (body.length & 1) parts.push(0);
  }
  const out = Uint8Array.from(parts);
  u32le(out, 4, out.length - 8);
  return out;
}

function fmtBody(tag: number, channels: number, rate: number, bits: number, blockAlign = (channels * bits) / 8): Uint8Array {
  const b = new Uint8Array(16);
  u16le(b, 0, tag);
  u16le(b, 2, channels);
  u32le(b, 4, rate);
  u32le(b, 8, rate * blockAlign);
  u16le(b, 12, blockAlign);
  u16le(b, 14, bits);
  return b;
}

/** WASAPI's shared-mode mix format: EXTENSIBLE, 2 ch, 48 kHz, 32-bit IEEE float, mask 3. */
function wasapiMixFmt(subTag = 3): Uint8Array {
  const b = new Uint8Array(40);
  b.set(fmtBody(0xfffe, 2, 48000, 32), 0);
  u16le(b, 16, 22); // cbSize
  u16le(b, 18, 32); // valid bits
  u32le(b, 20, 3); // SPEAKER_FRONT_LEFT | SPEAKER_FRONT_RIGHT
  u16le(b, 24, subTag);
  b.set([0x00, 0x00, 0x00, 0x00, 0x10, 0x00, 0x80, 0x00, 0x00, 0xaa, 0x00, 0x38, 0x9b, 0x71], 26);
  return b;
}

describe('round trip', () => {
  for (const format of WAV_FORMATS) {
    for (const channels of [1, 2, 6]) {
      for (const extensible of [false, true]) {
        it(`${format} × ${channels} ch${extensible ? ' EXTENSIBLE' : ''} on the grid is exact`, () => {
          // Integers: values k / 2^(bits−1) are exactly representable, so decode(encode(x)) === x (tolerance 0).
          // pcm32 uses the 2^-23 grid: a float32 holds 24 significant bits, finer int32 codes are not float32 values.
          // Floats: arbitrary values (±1.5, beyond full scale) must come back bit-exact (tolerance 0).
          const grid = format === 'float32' || format === 'float64' ? 0 : 2 ** -Math.min(BITS[format] - 1, 23);
          const audio = testAudio(channels, 257, grid, channels * 31 + BITS[format]);
          const { bytes, clipped } = encodeWav(audio, { format, extensible });
          expect(clipped).toBe(0);
          const { audio: back, info, warnings } = decodeWav(bytes);
          expect(warnings).toEqual([]);
          expect(info).toMatchObject({ sampleRate: 48000, channels, format, extensible, frames: 257, truncated: false });
          if (extensible) expect(info.channelMask).toBe({ 1: 0x4, 2: 0x3, 6: 0x3f }[channels]);
          else expect(info.channelMask).toBeUndefined();
          for (let c = 0; c < channels; c++) expect(maxAbsDiff(back.channels[c]!, audio.channels[c]!)).toBe(0);
        });
      }
    }
  }

  for (const format of INT_FORMATS) {
    it(`${format}: off-grid values come back within ½ LSB`, () => {
      // Round-to-nearest moves a value by at most half a code step, 2^-bits (here 2^-(bits−1)/2). For pcm32 the
      // decoded value is then rounded to float32 (½ ulp ≤ 2^-25 below 1.0), so its bound is 2^-32 + 2^-25.
      const lsb = 2 ** -(BITS[format] - 1);
      const bound = lsb / 2 + (format === 'pcm32' ? 2 ** -25 : 0) + 1e-12;
      const audio = testAudio(2, 4000, 0, 7);
      for (const ch of audio.channels) for (let i = 0; i < ch.length; i++) ch[i] = ch[i]! / 1.5 * 0.99; // in range
      const { bytes, clipped } = encodeWav(audio, { format });
      expect(clipped).toBe(0);
      const back = decodeWav(bytes).audio;
      for (let c = 0; c < 2; c++) {
        const err = maxAbsDiff(back.channels[c]!, audio.channels[c]!);
        expect(err).toBeLessThanOrEqual(bound);
        expect(err).toBeGreaterThan(lsb / 8); // random values really were quantised (not a pass-through)
      }
    });
  }

  it('clips integer formats to range and counts clipped samples', () => {
    // +1.0 needs code 2^(bits−1), one past the largest: it clips (by 1 LSB) and counts. NaN writes 0 and counts.
    const x = new Float32Array([0, 1, -1, 1.5, -1.5, 0.5, Number.NaN, 1 - 2 ** -15]);
    const audio: Audio = { sampleRate: 8000, channels: [x] };
    const expected16 = [0, 32767, -32768, 32767, -32768, 16384, 0, 32767];
    const { bytes, clipped } = encodeWav(audio, { format: 'pcm16' });
    expect(clipped).toBe(4);
    expect(Array.from(new Int16Array(bytes.buffer.slice(44)))).toEqual(expected16);
    // In pcm8, 1 − 2^-15 is 127.996 codes: it rounds to 128, one past the largest, so it clips too.
    expect(encodeWav(audio, { format: 'pcm8' }).clipped).toBe(5);
    expect(encodeWav(audio, { format: 'pcm24' }).clipped).toBe(4);
    expect(encodeWav(audio, { format: 'pcm32' }).clipped).toBe(4);
    expect(encodeWav(audio, { format: 'float32' }).clipped).toBe(0);
    // pcm8 is unsigned with 128 = 0: −1 → 0, 0.5 → 192, +1 → 255 (clipped).
    expect(Array.from(encodeWav(audio, { format: 'pcm8' }).bytes.subarray(44))).toEqual([128, 255, 0, 255, 0, 192, 128, 255]);
  });

  it('rounds to nearest: ±0.5 LSB boundaries', () => {
    // 0.4 LSB → 0, 0.6 LSB → 1, −0.6 LSB → −1 (pcm16, LSB = 2^-15).
    const l = 2 ** -15;
    const audio: Audio = { sampleRate: 8000, channels: [new Float32Array([0.4 * l, 0.6 * l, -0.6 * l, 2.4 * l])] };
    const bytes = encodeWav(audio, { format: 'pcm16' }).bytes;
    expect(Array.from(new Int16Array(bytes.buffer.slice(44)))).toEqual([0, 1, -1, 2]);
    const b24 = encodeWav({ sampleRate: 8000, channels: [new Float32Array([-3 * 2 ** -23])] }, { format: 'pcm24' }).bytes;
    expect(Array.from(b24.subarray(44, 47))).toEqual([0xfd, 0xff, 0xff]); // −3 little-endian two's complement
  });

  it('writes the canonical 44-byte header for PCM and a valid EXTENSIBLE header', () => {
    const audio = testAudio(2, 3, 2 ** -15);
    const pcm = encodeWav(audio, { format: 'pcm16' }).bytes;
    expect(pcm.length).toBe(44 + 12);
    expect(new TextDecoder().decode(pcm.subarray(36, 40))).toBe('data');
    const x = encodeWav(audio, { format: 'float32', extensible: true }).bytes;
    const dv = new DataView(x.buffer);
    expect(dv.getUint32(16, true)).toBe(40); // fmt size
    expect(dv.getUint16(20, true)).toBe(0xfffe);
    expect(dv.getUint16(36, true)).toBe(22); // cbSize
    expect(dv.getUint32(40, true)).toBe(3); // channel mask
    expect(Array.from(x.subarray(44, 60))).toEqual(Array.from(wasapiMixFmt().subarray(24, 40)));
    expect(encodeWav(audio, { extensible: true, channelMask: 0x600 }).bytes[40]).toBe(0x00);
    expect(new DataView(encodeWav(audio, { extensible: true, channelMask: 0x600 }).bytes.buffer).getUint32(40, true)).toBe(0x600);
  });

  it('rejects audio it cannot write with INVALID_ARGUMENT', () => {
    const bad = (f: () => unknown): string => {
      try {
        f();
      } catch (e) {
        expect(e).toBeInstanceOf(LoopcheckError);
        return (e as LoopcheckError).code;
      }
      return 'no error';
    };
    expect(bad(() => encodeWav({ sampleRate: 48000, channels: [] }))).toBe('INVALID_ARGUMENT');
    expect(bad(() => encodeWav({ sampleRate: 0, channels: [new Float32Array(2)] }))).toBe('INVALID_ARGUMENT');
    expect(bad(() => encodeWav({ sampleRate: 44100.5, channels: [new Float32Array(2)] }))).toBe('INVALID_ARGUMENT');
    expect(bad(() => encodeWav({ sampleRate: 48000, channels: [new Float32Array(2), new Float32Array(3)] }))).toBe('INVALID_ARGUMENT');
    expect(bad(() => encodeWav(testAudio(1, 2, 0), { format: 'pcm12' as WavFormat }))).toBe('INVALID_ARGUMENT');
  });
});

describe('known headers', () => {
  it("decodes WASAPI's mix format (EXTENSIBLE float32, 2 ch, mask 3) with known values", () => {
    const data = new Float32Array([0.5, -0.25, 1.25, -1, 0, 2 ** -20]);
    const bytes = riff([
      ['fmt ', wasapiMixFmt()],
      ['data', new Uint8Array(data.buffer)],
    ]);
    const { audio, info } = decodeWav(bytes);
    expect(info).toEqual({ sampleRate: 48000, channels: 2, format: 'float32', extensible: true, channelMask: 3, frames: 3, truncated: false });
    // Exact (tolerance 0): float32 in, float32 out, no arithmetic.
    expect(Array.from(audio.channels[0]!)).toEqual([0.5, 1.25, 0]);
    expect(Array.from(audio.channels[1]!)).toEqual([-0.25, -1, 2 ** -20]);
  });

  it('decodes EXTENSIBLE PCM 24 in a misaligned buffer (DataView path) with known values', () => {
    const fmt = wasapiMixFmt(1);
    u16le(fmt, 2, 1); // 1 channel
    u16le(fmt, 12, 3);
    u16le(fmt, 14, 24);
    u16le(fmt, 18, 20); // 20 valid bits in a 24-bit container (left-justified: scaling unchanged)
    u32le(fmt, 8, 48000 * 3);
    const file = riff([
      ['fmt ', fmt],
      ['data', Uint8Array.from([0x00, 0x00, 0x80, 0xff, 0xff, 0x7f, 0x00, 0x00, 0x40, 0x10, 0x00, 0x00])],
    ]);
    const shifted = new Uint8Array(file.length + 1).subarray(1);
    shifted.set(file);
    const { audio, info } = decodeWav(shifted);
    expect(info.format).toBe('pcm24');
    expect(Array.from(audio.channels[0]!)).toEqual([-1, 8388607 / 8388608, 0.5, 16 / 8388608].map(Math.fround));
  });

  it('decodes float64 and pcm16 from unaligned offsets identically to aligned ones', () => {
    for (const format of ['float64', 'pcm16', 'pcm32', 'float32'] as const) {
      const audio = testAudio(3, 50, format.startsWith('pcm') ? 2 ** -15 : 0);
      const file = encodeWav(audio, { format }).bytes;
      for (const shift of [1, 2, 3, 5]) {
        const shifted = new Uint8Array(file.length + shift).subarray(shift);
        shifted.set(file);
        const back = decodeWav(shifted).audio;
        for (let c = 0; c < 3; c++) expect(maxAbsDiff(back.channels[c]!, audio.channels[c]!)).toBe(0);
      }
    }
  });

  it('skips unknown and LIST chunks, honours the pad byte of odd-sized chunks, and reads fmt after data', () => {
    const pcm = new Int16Array([1000, -2000, 3000, -4000]);
    const data = new Uint8Array(pcm.buffer);
    const expected = [1000 / 32768, -2000 / 32768, 3000 / 32768, -4000 / 32768].map(Math.fround);
    const layouts: Array<Array<[string, Uint8Array]>> = [
      [['fmt ', fmtBody(1, 1, 8000, 16)], ['odd ', Uint8Array.from([1, 2, 3])], ['data', data]],
      [['LIST', new TextEncoder().encode('INFOISFT\x05\x00\x00\x00sox!\x00')], ['fmt ', fmtBody(1, 1, 8000, 16)], ['data', data]],
      [['data', data], ['fmt ', fmtBody(1, 1, 8000, 16)]],
      [['fmt ', fmtBody(1, 1, 8000, 16)], ['JUNK', new Uint8Array(7)], ['data', data], ['LIST', new Uint8Array(5)]],
    ];
    for (const chunks of layouts) {
      const { audio, warnings } = decodeWav(riff(chunks));
      expect(warnings).toEqual([]);
      expect(Array.from(audio.channels[0]!)).toEqual(expected);
    }
    // Odd-sized chunk written WITHOUT its pad byte (a common writer bug) is still found.
    const unpadded = riff([['fmt ', fmtBody(1, 1, 8000, 16)], ['odd ', Uint8Array.from([1, 2, 3])], ['data', data]]);
    const i = 12 + 24 + 8 + 3; // the pad byte
    const noPad = new Uint8Array(unpadded.length - 1);
    noPad.set(unpadded.subarray(0, i));
    noPad.set(unpadded.subarray(i + 1), i);
    expect(Array.from(decodeWav(noPad).audio.channels[0]!)).toEqual(expected);
  });
});

describe('truncated files', () => {
  // pcm24 stereo: block align 6, so cuts can land mid-frame. 100 frames, header 44 bytes.
  const audio = testAudio(2, 100, 2 ** -23, 3);
  const full = encodeWav(audio, { format: 'pcm24' }).bytes;

  it('reads a file cut inside the data up to its last whole frame, with a warning', () => {
    for (const cut of [44, 45, 44 + 6, 44 + 6 * 10 + 3, 44 + 6 * 57 + 5, full.length - 1]) {
      const { audio: back, info, warnings } = decodeWav(full.slice(0, cut), 'cut.wav');
      const frames = Math.floor((cut - 44) / 6);
      expect(info.frames).toBe(frames);
      expect(info.truncated).toBe(true);
      expect(warnings.join('\n')).toMatch(/cut\.wav: data chunk claims 600 bytes but only \d+ are present/);
      if ((cut - 44) % 6 !== 0) expect(warnings.join('\n')).toMatch(/do not make a whole frame/);
      for (let c = 0; c < 2; c++) expect(Array.from(back.channels[c]!)).toEqual(Array.from(audio.channels[c]!.subarray(0, frames)));
    }
  });

  it('refuses a file cut inside the header', () => {
    expectInvalid(full.slice(0, 0), /too short/);
    expectInvalid(full.slice(0, 11), /too short/);
    expectInvalid(full.slice(0, 12), /no fmt chunk/);
    expectInvalid(full.slice(0, 20), /fmt chunk claims 16 bytes but the file ends/);
    expectInvalid(full.slice(0, 36), /no data chunk/);
    expectInvalid(full.slice(0, 40), /no data chunk/);
  });

  for (const placeholder of [0, 0xffffffff]) {
    it(`reads a file whose data and RIFF sizes are the placeholder 0x${placeholder.toString(16)}`, () => {
      const f = full.slice();
      u32le(f, 4, placeholder);
      u32le(f, 40, placeholder);
      const { audio: back, info, warnings } = decodeWav(f);
      expect(info.frames).toBe(100);
      expect(info.truncated).toBe(true);
      expect(warnings.join('\n')).toMatch(/placeholder/);
      for (let c = 0; c < 2; c++) expect(maxAbsDiff(back.channels[c]!, audio.channels[c]!)).toBe(0);
    });
  }

  it('reads an empty data chunk (size 0, nothing after it) as 0 frames, not truncated', () => {
    const empty = encodeWav({ sampleRate: 48000, channels: [new Float32Array(0), new Float32Array(0)] }, { format: 'pcm16' }).bytes;
    const { info, warnings } = decodeWav(empty);
    expect(info).toMatchObject({ frames: 0, truncated: false, channels: 2 });
    expect(warnings).toEqual([]);
  });

  it('does not allocate what a tiny file merely claims (4 GiB data size in a 56-byte file)', () => {
    const f = encodeWav(testAudio(1, 6, 2 ** -15), { format: 'pcm16' }).bytes;
    u32le(f, 40, 0xfffffff0);
    const { info, audio: back } = decodeWav(f);
    expect(info.frames).toBe(6);
    expect(back.channels[0]!.length).toBe(6);
  });
});

describe('malformed files → INVALID_FILE naming the problem', () => {
  const okFmt = fmtBody(1, 2, 48000, 16);
  const data = new Uint8Array(8);
  const cases: Array<[string, Uint8Array, RegExp]> = [
    ['not RIFF', new TextEncoder().encode('ID3\x04 this is an mp3, honest'), /not a RIFF file/],
    ['RIFX', riff([['fmt ', okFmt], ['data', data]], 'WAVE', 'RIFX'), /big-endian RIFX/],
    ['RF64', riff([['fmt ', okFmt], ['data', data]], 'WAVE', 'RF64'), /RF64.*not supported/],
    ['not WAVE', riff([['fmt ', okFmt], ['data', data]], 'AVI '), /form type is 'AVI ', not 'WAVE'/],
    ['no fmt', riff([['data', data]]), /no fmt chunk/],
    ['no data', riff([['fmt ', okFmt], ['LIST', new Uint8Array(4)]]), /no data chunk/],
    ['zero channels', riff([['fmt ', fmtBody(1, 0, 48000, 16, 4)], ['data', data]]), /0 channels/],
    ['zero rate', riff([['fmt ', fmtBody(1, 2, 0, 16)], ['data', data]]), /sample rate 0/],
    ['block align', riff([['fmt ', fmtBody(1, 2, 48000, 16, 2)], ['data', data]]), /block align 2 does not match 2 channels × 16 bits \(expected 4\)/],
    ['ADPCM', riff([['fmt ', fmtBody(2, 2, 48000, 4, 2048)], ['data', data]]), /unsupported format tag 0x0002 \(Microsoft ADPCM\)/],
    ['µ-law', riff([['fmt ', fmtBody(7, 1, 8000, 8)], ['data', data]]), /unsupported format tag 0x0007/],
    ['float16', riff([['fmt ', fmtBody(3, 2, 48000, 16)], ['data', data]]), /IEEE float with 16 bits/],
    ['pcm12', riff([['fmt ', fmtBody(1, 1, 48000, 12, 2)], ['data', data]]), /PCM with 12 bits per sample is not supported/],
    ['short fmt', riff([['fmt ', new Uint8Array(14)], ['data', data]]), /fmt chunk is 14 bytes/],
    ['short EXTENSIBLE', riff([['fmt ', wasapiMixFmt().subarray(0, 18)], ['data', data]]), /EXTENSIBLE fmt chunk is 18 bytes, it needs 40/],
    ['EXTENSIBLE unknown GUID', riff([['fmt ', wasapiMixFmt(0x55)], ['data', data]]), /subformat 5500000000001000800000aa00389b71 is not PCM or IEEE_FLOAT/],
    ['valid bits > container', riff([['fmt ', (() => { const f = wasapiMixFmt(); u16le(f, 18, 40); return f; })()], ['data', data]]), /40 valid bits in a 32-bit container/],
    ['huge chunk before data', (() => { const f = riff([['fmt ', okFmt], ['LIST', new Uint8Array(4)], ['data', data]]); u32le(f, 40, 0xffffff00); return f; })(), /no data chunk \(chunk 'LIST' at offset 36 claims 4294967040 bytes/],
  ];
  for (const [what, bytes, pattern] of cases) {
    it(what, () => {
      expectInvalid(bytes, pattern);
    });
  }

  it('never throws anything but INVALID_FILE on 3000 randomly damaged files (seeded)', () => {
    const rng = createRng(42);
    const bases = [
      encodeWav(testAudio(2, 40, 0), { format: 'float32', extensible: true }).bytes,
      encodeWav(testAudio(3, 40, 2 ** -23), { format: 'pcm24' }).bytes,
      riff([['fmt ', fmtBody(1, 1, 8000, 16)], ['odd ', Uint8Array.from([1, 2, 3])], ['data', new Uint8Array(20)]]),
    ];
    let decoded = 0;
    let refused = 0;
    for (let t = 0; t < 3000; t++) {
      const base = bases[t % bases.length]!;
      const f = base.slice(0, rng.int(0, base.length + 1));
      const hits = rng.int(1, 5);
      for (let h = 0; h < hits && f.length > 0; h++) f[rng.int(0, Math.min(f.length, 90))] = rng.int(0, 256);
      try {
        const r = decodeWav(f);
        // Whatever decodes is bounded by the bytes present.
        expect(r.info.frames * r.info.channels).toBeLessThanOrEqual(f.length);
        decoded++;
      } catch (e) {
        expect(e).toBeInstanceOf(LoopcheckError);
        expect((e as LoopcheckError).code).toBe('INVALID_FILE');
        refused++;
      }
    }
    expect(decoded).toBeGreaterThan(100);
    expect(refused).toBeGreaterThan(100);
  });

  it('readWav: a missing path and a directory are INVALID_FILE with the OS reason', async () => {
    const missing = join(tmp, 'nope.wav');
    await expect(readWav(missing)).rejects.toMatchObject({ code: 'INVALID_FILE', message: `${missing}: cannot read: no such file (ENOENT)` });
    await expect(readWav(tmp)).rejects.toMatchObject({ code: 'INVALID_FILE', message: expect.stringMatching(/is a directory/) });
    const junk = join(tmp, 'junk.wav');
    writeFileSync(junk, 'hello');
    await expect(readWav(junk)).rejects.toMatchObject({ code: 'INVALID_FILE', message: `${junk}: only 5 bytes, too short for a RIFF/WAVE header (12)` });
  });
});

describe('raw PCM for stdout', () => {
  it('s16: round to nearest, clip to [−32768, 32767], count clips, little-endian', () => {
    const x = new Float32Array([0, 0.5, -0.5, 1, -1, 2, -2, 0.6 / 32768, -0.6 / 32768]);
    const { bytes, clipped } = encodePcm(x, 's16');
    expect(bytes.length).toBe(18);
    const dv = new DataView(bytes.buffer, bytes.byteOffset);
    const got = Array.from({ length: 9 }, (_, i) => dv.getInt16(2 * i, true));
    expect(got).toEqual([0, 16384, -16384, 32767, -32768, 32767, -32768, 1, -1]);
    expect(clipped).toBe(3);
  });

  it('f32: the float bytes unchanged, nothing clipped', () => {
    const x = new Float32Array([0.1, -3, 1e-30]);
    const { bytes, clipped } = encodePcm(x, 'f32');
    expect(clipped).toBe(0);
    expect(Array.from(bytes)).toEqual(Array.from(new Uint8Array(x.buffer)));
  });
});

describe.skipIf(!hasSox)('interoperability with sox', () => {
  // sox makes these at test time; its reading of each file (`-t f32 -`) is the known answer.
  const made: Array<{ name: string; args: string[]; format: WavFormat; channels: number; extensible: boolean; tol: number }> = [
    // sox holds samples as int32 and writes f32 as round(x / 128) · 128 · 2^-31 (a 25-bit grid).
    // ≤ 24-bit integer files: the codes are on that grid, sox's scaling equals our 2^-(bits−1): tolerance 0.
    // pcm32: we round the int32 code to float32 once, sox first to a multiple of 128: the two can differ by one
    // float32 ulp, ≤ 2^-24 below 1.0.
    { name: 's16-wavpcm', args: ['-t', 'wavpcm', '-e', 'signed', '-b', '16', '-c', '2'], format: 'pcm16', channels: 2, extensible: false, tol: 0 },
    { name: 's24-wavpcm', args: ['-t', 'wavpcm', '-e', 'signed', '-b', '24', '-c', '2'], format: 'pcm24', channels: 2, extensible: false, tol: 0 },
    { name: 's24-ext', args: ['-e', 'signed', '-b', '24', '-c', '2'], format: 'pcm24', channels: 2, extensible: true, tol: 0 },
    { name: 's32-ext', args: ['-e', 'signed', '-b', '32', '-c', '1'], format: 'pcm32', channels: 1, extensible: true, tol: 2 ** -24 },
    { name: 's16-6ch-ext', args: ['-e', 'signed', '-b', '16', '-c', '6'], format: 'pcm16', channels: 6, extensible: true, tol: 0 },
    { name: 'u8', args: ['-e', 'unsigned', '-b', '8', '-c', '1'], format: 'pcm8', channels: 1, extensible: false, tol: 0 },
    // float32: sox synthesised these samples on its own 25-bit grid, so its re-reading is exact: tolerance 0.
    { name: 'f32', args: ['-e', 'floating-point', '-b', '32', '-c', '2'], format: 'float32', channels: 2, extensible: false, tol: 0 },
    { name: 'f32-6ch', args: ['-e', 'floating-point', '-b', '32', '-c', '6'], format: 'float32', channels: 6, extensible: false, tol: 0 },
    // float64: sox rounds to int32 then to float32, we round once to float32: the double rounding can differ
    // by one float32 ulp, ≤ 2^-24 below 1.0.
    { name: 'f64', args: ['-e', 'floating-point', '-b', '64', '-c', '1'], format: 'float64', channels: 1, extensible: false, tol: 2 ** -24 },
  ];
  for (const m of made) {
    it(`decodes sox's ${m.name} file as sox does`, () => {
      const path = join(tmp, `sox-${m.name}.wav`);
      sox(['-n', '-r', '48000', ...m.args, path, 'synth', '0.1', 'sine', '997', 'vol', '0.5']);
      const { audio, info, warnings } = decodeWav(readFileSync(path), path);
      expect(warnings).toEqual([]);
      expect(info).toMatchObject({ sampleRate: 48000, channels: m.channels, format: m.format, extensible: m.extensible, frames: 4800, truncated: false });
      expect(maxAbsDiff(interleave(audio.channels), soxRaw(path))).toBeLessThanOrEqual(m.tol);
    });
  }

  for (const format of WAV_FORMATS) {
    for (const extensible of [false, true]) {
      it(`sox reads our ${format}${extensible ? ' EXTENSIBLE' : ''} file (6 ch): header and every sample`, () => {
        // 2^-7 grid for pcm8, else 2^-15: exact in every format and through sox's int32 path: tolerance 0.
        const audio = testAudio(6, 300, format === 'pcm8' ? 2 ** -7 : 2 ** -15, 11);
        const path = join(tmp, `ours-${format}-${extensible}.wav`);
        mkdirSync(tmp, { recursive: true });
        writeFileSync(path, encodeWav(audio, { format, extensible }).bytes);
        const i = soxInfo(path);
        expect(i['Channels']).toBe('6');
        expect(i['Sample Rate']).toBe('48000');
        expect(i['Sample Encoding']).toMatch(format.startsWith('float') ? /Floating Point/ : format === 'pcm8' ? /Unsigned/ : /Signed Integer/);
        expect(i['Sample Encoding']).toMatch(new RegExp(`^${BITS[format]}-bit`));
        expect(i['Duration']).toMatch(/= 300 samples/);
        expect(maxAbsDiff(soxRaw(path), interleave(audio.channels))).toBe(0);
      });
    }
  }
});

describe.skipIf(!hasScipy)("interoperability with Python's scipy and wave", () => {
  it('scipy.io.wavfile reads every format we write; wave reads our PCM 16', () => {
    const files: Array<{ path: string; audio: Audio; format: WavFormat }> = [];
    for (const format of WAV_FORMATS) {
      for (const extensible of [false, true]) {
        const audio = testAudio(2, 64, format === 'pcm8' ? 2 ** -7 : 2 ** -15, 5);
        const path = join(tmp, `py-${format}-${extensible}.wav`);
        writeFileSync(path, encodeWav(audio, { format, extensible }).bytes);
        files.push({ path, audio, format });
      }
    }
    const pcm16Path = files.find((f) => f.format === 'pcm16')!.path;
    // scipy returns integer codes (uint8, int16, int32 with 24-bit left-justified) or floats; normalise to ±1.
    const script = `
import json, sys, wave, warnings
warnings.simplefilter('error')
from scipy.io import wavfile
out = []
for p in sys.argv[2:]:
    sr, d = wavfile.read(p)
    k = {'uint8': None, 'int16': 32768.0, 'int32': 2147483648.0}.get(str(d.dtype), 1.0)
    x = (d.astype('float64') - 128) / 128 if k is None else d.astype('float64') / k
    out.append({'rate': sr, 'dtype': str(d.dtype), 'shape': list(d.shape), 'data': x.reshape(-1).tolist()})
w = wave.open(sys.argv[1], 'rb')
out.append({'wave': [w.getnchannels(), w.getsampwidth(), w.getframerate(), w.getnframes()], 'raw': w.readframes(w.getnframes()).hex()})
print(json.dumps(out))
`;
    const r = spawnSync('/usr/bin/python3', ['-c', script, pcm16Path, ...files.map((f) => f.path)], { encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    const results = JSON.parse(r.stdout) as Array<{ rate: number; dtype: string; shape: number[]; data: number[]; wave?: number[]; raw?: string }>;
    const dtypes: Record<WavFormat, string> = { pcm8: 'uint8', pcm16: 'int16', pcm24: 'int32', pcm32: 'int32', float32: 'float32', float64: 'float64' };
    files.forEach((f, idx) => {
      const res = results[idx]!;
      expect(res.rate).toBe(48000);
      expect(res.dtype).toBe(dtypes[f.format]);
      expect(res.shape).toEqual([64, 2]);
      // On-grid values, so scipy's integers scaled back equal our input exactly: tolerance 0.
      expect(maxAbsDiff(res.data, interleave(f.audio.channels))).toBe(0);
    });
    const w = results[files.length]!;
    expect(w.wave).toEqual([2, 2, 48000, 64]);
    const ours = encodeWav(files.find((f) => f.format === 'pcm16')!.audio, { format: 'pcm16' }).bytes.subarray(44);
    expect(w.raw).toBe(Buffer.from(ours).toString('hex'));
  });
});

describe('files and the streaming writer', () => {
  it('writeWav then readWav', async () => {
    const audio = testAudio(2, 1000, 0);
    const path = join(tmp, 'rw.wav');
    expect(await writeWav(path, audio, { format: 'float64' })).toEqual({ clipped: 0 });
    const { audio: back, info } = await readWav(path);
    expect(info.format).toBe('float64');
    for (let c = 0; c < 2; c++) expect(maxAbsDiff(back.channels[c]!, audio.channels[c]!)).toBe(0);
    await expect(writeWav(join(tmp, 'no', 'such', 'dir.wav'), audio)).rejects.toMatchObject({ code: 'INVALID_FILE' });
  });

  for (const [format, channels] of [['float32', 2], ['pcm24', 1], ['pcm16', 6], ['float64', 1]] as const) {
    it(`${format} × ${channels}: after every flush the file decodes with the frames written so far`, async () => {
      const path = join(tmp, `stream-${format}-${channels}.wav`);
      const w = await WavStreamWriter.create(path, { sampleRate: 44100, channels, format });
      expect(decodeWav(readFileSync(path)).info).toMatchObject({ frames: 0, truncated: false, sampleRate: 44100 });
      const all = testAudio(channels, 7 + 64 + 1001, format.startsWith('pcm') ? 2 ** -15 : 0, 9);
      const inter = interleave(all.channels);
      let at = 0;
      for (const frames of [7, 64, 1001]) {
        w.write(inter.subarray(at * channels, (at + frames) * channels));
        at += frames;
        expect(w.framesWritten).toBe(at);
        await w.flush();
        const { audio, info, warnings } = decodeWav(readFileSync(path), path);
        expect(warnings).toEqual([]);
        expect(info).toMatchObject({ frames: at, channels, format, truncated: false });
        for (let c = 0; c < channels; c++) expect(maxAbsDiff(audio.channels[c]!, all.channels[c]!.subarray(0, at))).toBe(0);
      }
      // Written but not flushed: the file still decodes cleanly, with the flushed frames.
      w.write(new Float32Array(3 * channels));
      expect(decodeWav(readFileSync(path)).info.frames).toBe(at);
      await w.close();
      await w.close(); // idempotent
      w.closeSync();
      expect(decodeWav(readFileSync(path)).info.frames).toBe(at + 3);
      expect(() => w.write(new Float32Array(channels))).toThrow(LoopcheckError);
      if (hasSox) expect(soxInfo(path)['Duration']).toMatch(new RegExp(`= ${at + 3} samples`)); // incl. odd-size pad
    });
  }

  it('rejects a write that is not whole frames, and counts clipped samples', async () => {
    const w = await WavStreamWriter.create(join(tmp, 'frames.wav'), { sampleRate: 48000, channels: 2, format: 'pcm16' });
    expect(() => w.write(new Float32Array(3))).toThrow(/multiple of 2 channels/);
    expect(w.write(new Float32Array([2, -2, 0.5, 0]))).toBe(2);
    expect(w.clipped).toBe(2);
    w.closeSync();
    await expect(WavStreamWriter.create(join(tmp, 'no', 'dir.wav'), { sampleRate: 48000, channels: 2 })).rejects.toMatchObject({ code: 'INVALID_FILE' });
  });

  function runChild(mode: 'flush' | 'sigterm', path: string, killAfterFrames: number): Promise<number> {
    return new Promise((resolve, reject) => {
      const child = spawn(process.execPath, ['--import', 'tsx', join(repoRoot, 'test/fixtures/wav/stream-child.ts'), path, mode], {
        cwd: repoRoot,
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let reported = 0;
      let buf = '';
      let err = '';
      child.stderr.on('data', (d: Buffer) => (err += d.toString()));
      child.stdout.on('data', (d: Buffer) => {
        buf += d.toString();
        const lines = buf.split('\n');
        buf = lines.pop()!;
        for (const line of lines) {
          const n = Number(line.split(' ')[1]);
          if (n > reported) reported = n;
        }
        if (reported >= killAfterFrames && child.exitCode === null && !child.killed) child.kill(mode === 'flush' ? 'SIGKILL' : 'SIGTERM');
      });
      child.on('error', reject);
      child.on('exit', (code, signal) => {
        if (mode === 'flush' && signal !== 'SIGKILL') reject(new Error(`child ended with ${code}/${signal}: ${err}`));
        else if (mode === 'sigterm' && code !== 0) reject(new Error(`child ended with ${code}/${signal}: ${err}`));
        else resolve(reported);
      });
    });
  }

  function expectChildFile(path: string, atLeastFrames: number): number {
    const { audio, info, warnings } = decodeWav(readFileSync(path), path);
    expect(warnings).toEqual([]);
    expect(info).toMatchObject({ channels: 2, sampleRate: 48000, format: 'float32', truncated: false });
    expect(info.frames).toBeGreaterThanOrEqual(atLeastFrames);
    const want = new Float32Array(info.frames * 2);
    for (let i = 0; i < info.frames; i++) {
      want[2 * i] = childSample(i, 0);
      want[2 * i + 1] = childSample(i, 1);
    }
    expect(maxAbsDiff(interleave(audio.channels), want)).toBe(0); // float32 written and read back: exact
    return info.frames;
  }

  it('a capture SIGKILLed mid-stream leaves a valid WAV with every flushed frame', async () => {
    const path = join(tmp, 'killed.wav');
    const reported = await runChild('flush', path, 480 * 10);
    expect(reported).toBeGreaterThanOrEqual(4800);
    expectChildFile(path, reported);
  });

  it('closeSync() from a SIGTERM handler keeps every written frame, unflushed ones included', async () => {
    const path = join(tmp, 'sigterm.wav');
    const reported = await runChild('sigterm', path, 480 * 10);
    const frames = expectChildFile(path, reported);
    expect(frames % 480).toBe(0);
  });
});
