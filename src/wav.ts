/**
 * WAV (RIFF/WAVE) reading and writing, our own: PCM 8 (unsigned) / 16 / 24 / 32-bit integer, IEEE float 32 / 64,
 * and WAVE_FORMAT_EXTENSIBLE (0xFFFE) with a PCM or IEEE_FLOAT subformat (WASAPI's mix format is EXTENSIBLE
 * float32, 2 ch, 48 kHz, channel mask 3). Any channel count.
 *
 * Sample conventions (one place, used by the decoder and the encoder):
 * - In memory audio is planar float32 (`Audio`), nominal range ±1.
 * - Integer PCM is scaled by 2^-(bits-1): int16 / 32768, int24 / 8388608, int32 / 2147483648, uint8 (v − 128) / 128.
 *   So −1.0 is representable and +1.0 is not (it encodes as the largest code and counts as a clipped sample).
 * - Encoding to integers rounds to nearest (Math.round: ties toward +∞) and clips to the code range; every sample
 *   that had to be clipped (or was NaN) is counted and the count returned. Float formats are written unclipped.
 * - All multi-byte values are little-endian (RIFF). RIFX (big-endian) and RF64 are refused.
 *
 * Robustness contract of the decoder: it throws only `LoopcheckError('INVALID_FILE', …)`; it allocates at most what
 * the bytes present justify (≤ 4 × the data bytes as float32, whatever the headers claim); its chunk walk always
 * advances, so it terminates. A data chunk that runs past the end of the file (a crashed capture, or the size
 * placeholders 0 / 0xFFFFFFFF) is read up to its last whole frame with a warning and `info.truncated = true`.
 */
import { closeSync as fsCloseSync, open as fsOpen, writeSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { constants as osConstants } from 'node:os';
import type { Audio } from './audio.js';
import { LoopcheckError } from './errors.js';

export type WavFormat = 'pcm8' | 'pcm16' | 'pcm24' | 'pcm32' | 'float32' | 'float64';

export const WAV_FORMATS: readonly WavFormat[] = ['pcm8', 'pcm16', 'pcm24', 'pcm32', 'float32', 'float64'];

export interface WavInfo {
  sampleRate: number;
  channels: number;
  format: WavFormat;
  /** The fmt chunk was WAVE_FORMAT_EXTENSIBLE (0xFFFE). */
  extensible: boolean;
  /** dwChannelMask of an EXTENSIBLE fmt chunk (speaker bits, e.g. 3 = front left | front right). */
  channelMask?: number;
  /** Whole frames decoded. */
  frames: number;
  /** The data chunk ran past the end of the file (or its size was a placeholder); `frames` is what was there. */
  truncated: boolean;
}

export interface WavDecoded {
  audio: Audio;
  info: WavInfo;
  /** Problems that did not stop decoding (truncation, odd trailing bytes, inconsistent byte rate). */
  warnings: string[];
}

export interface WavEncodeOptions {
  /** Sample format on disk; default 'float32'. */
  format?: WavFormat;
  /** Write WAVE_FORMAT_EXTENSIBLE (0xFFFE) with a PCM / IEEE_FLOAT subformat GUID; default false. */
  extensible?: boolean;
  /** dwChannelMask for EXTENSIBLE; default: the usual layout for the channel count (see `defaultChannelMask`). */
  channelMask?: number;
}

export interface WavEncoded {
  bytes: Uint8Array;
  /** Samples (not frames) that were out of range for an integer format, or NaN, and were clipped. */
  clipped: number;
}

const TAG_PCM = 0x0001;
const TAG_FLOAT = 0x0003;
const TAG_EXTENSIBLE = 0xfffe;
/** KSDATAFORMAT_SUBTYPE_* GUIDs are {0000xxxx-0000-0010-8000-00AA00389B71}; bytes 2..15 as stored on disk. */
const GUID_TAIL = [0x00, 0x00, 0x00, 0x00, 0x10, 0x00, 0x80, 0x00, 0x00, 0xaa, 0x00, 0x38, 0x9b, 0x71];
const MAX_U32 = 0xffffffff;

const KNOWN_TAGS: Record<number, string> = {
  0x0002: 'Microsoft ADPCM',
  0x0006: 'A-law',
  0x0007: 'µ-law',
  0x0011: 'IMA ADPCM',
  0x0031: 'GSM 6.10',
  0x0050: 'MPEG',
  0x0055: 'MPEG layer 3',
  0x2000: 'AC-3',
};

const LITTLE_ENDIAN_HOST = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

interface FormatSpec {
  bytesPerSample: number;
  float: boolean;
}

const SPECS: Record<WavFormat, FormatSpec> = {
  pcm8: { bytesPerSample: 1, float: false },
  pcm16: { bytesPerSample: 2, float: false },
  pcm24: { bytesPerSample: 3, float: false },
  pcm32: { bytesPerSample: 4, float: false },
  float32: { bytesPerSample: 4, float: true },
  float64: { bytesPerSample: 8, float: true },
};

/* ─────────────────────────────────────────── decoding ─────────────────────────────────────────── */

function fourcc(b: Uint8Array, at: number): string {
  return String.fromCharCode(b[at]!, b[at + 1]!, b[at + 2]!, b[at + 3]!);
}

/** A chunk id as it appears in messages: printable ASCII quoted, anything else as hex. */
function showId(b: Uint8Array, at: number): string {
  let printable = true;
  for (let i = 0; i < 4; i++) if (b[at + i]! < 0x20 || b[at + i]! > 0x7e) printable = false;
  if (printable) return `'${fourcc(b, at)}'`;
  return `0x${Array.from(b.subarray(at, at + 4), (x) => x.toString(16).padStart(2, '0')).join('')}`;
}

function looksLikeChunkId(b: Uint8Array, at: number): boolean {
  if (at + 4 > b.length) return false;
  for (let i = 0; i < 4; i++) if (b[at + i]! < 0x20 || b[at + i]! > 0x7e) return false;
  return true;
}

interface FmtChunk {
  format: WavFormat;
  channels: number;
  sampleRate: number;
  blockAlign: number;
  extensible: boolean;
  channelMask?: number;
  warnings: string[];
}

function invalid(name: string, what: string, hint: string): LoopcheckError {
  return new LoopcheckError('INVALID_FILE', `${name}: ${what}`, { hint });
}

function hex4(n: number): string {
  return `0x${n.toString(16).toUpperCase().padStart(4, '0')}`;
}

function parseFmt(b: Uint8Array, dv: DataView, at: number, size: number, name: string): FmtChunk {
  const notSupported = 'Convert it to PCM or float WAV, e.g. `sox in.wav -e floating-point -b 32 out.wav`.';
  if (size < 16) throw invalid(name, `fmt chunk is ${size} bytes, a WAV fmt chunk has at least 16`, notSupported);
  let tag = dv.getUint16(at, true);
  const channels = dv.getUint16(at + 2, true);
  const sampleRate = dv.getUint32(at + 4, true);
  const byteRate = dv.getUint32(at + 8, true);
  const blockAlign = dv.getUint16(at + 12, true);
  const bits = dv.getUint16(at + 14, true);
  const warnings: string[] = [];
  if (channels === 0) throw invalid(name, 'fmt chunk says 0 channels', 'The file header is damaged; re-export the file.');
  if (sampleRate === 0) throw invalid(name, 'fmt chunk says sample rate 0 Hz', 'The file header is damaged; re-export the file.');

  let extensible = false;
  let channelMask: number | undefined;
  if (tag === TAG_EXTENSIBLE) {
    extensible = true;
    if (size < 40) {
      throw invalid(name, `WAVE_FORMAT_EXTENSIBLE fmt chunk is ${size} bytes, it needs 40`, 'The file header is damaged; re-export the file.');
    }
    const cbSize = dv.getUint16(at + 16, true);
    if (cbSize < 22) {
      throw invalid(name, `WAVE_FORMAT_EXTENSIBLE fmt chunk has cbSize ${cbSize}, it needs 22`, 'The file header is damaged; re-export the file.');
    }
    const validBits = dv.getUint16(at + 18, true);
    channelMask = dv.getUint32(at + 20, true);
    const subTag = dv.getUint16(at + 24, true);
    let guidOk = true;
    for (let i = 0; i < GUID_TAIL.length; i++) if (b[at + 26 + i] !== GUID_TAIL[i]) guidOk = false;
    if (!guidOk || (subTag !== TAG_PCM && subTag !== TAG_FLOAT)) {
      const guid = Array.from(b.subarray(at + 24, at + 40), (x) => x.toString(16).padStart(2, '0')).join('');
      throw invalid(name, `WAVE_FORMAT_EXTENSIBLE subformat ${guid} is not PCM or IEEE_FLOAT`, notSupported);
    }
    if (validBits > bits) {
      throw invalid(name, `WAVE_FORMAT_EXTENSIBLE says ${validBits} valid bits in a ${bits}-bit container`, 'The file header is damaged; re-export the file.');
    }
    tag = subTag;
  }

  let format: WavFormat;
  if (tag === TAG_PCM) {
    if (bits === 8) format = 'pcm8';
    else if (bits === 16) format = 'pcm16';
    else if (bits === 24) format = 'pcm24';
    else if (bits === 32) format = 'pcm32';
    else throw invalid(name, `PCM with ${bits} bits per sample is not supported (8, 16, 24 or 32)`, notSupported);
  } else if (tag === TAG_FLOAT) {
    if (bits === 32) format = 'float32';
    else if (bits === 64) format = 'float64';
    else throw invalid(name, `IEEE float with ${bits} bits per sample does not exist (32 or 64)`, notSupported);
  } else {
    const known = KNOWN_TAGS[tag];
    throw invalid(name, `unsupported format tag ${hex4(tag)}${known ? ` (${known})` : ''}; only PCM, IEEE float and EXTENSIBLE are read`, notSupported);
  }

  const expectedAlign = channels * SPECS[format].bytesPerSample;
  if (blockAlign !== expectedAlign) {
    throw invalid(
      name,
      `block align ${blockAlign} does not match ${channels} channels × ${bits} bits (expected ${expectedAlign})`,
      'The file header is damaged; re-export the file.',
    );
  }
  if (byteRate !== sampleRate * blockAlign) {
    warnings.push(`${name}: fmt byte rate ${byteRate} ≠ sample rate × block align (${sampleRate * blockAlign}); ignored`);
  }
  const fmt: FmtChunk = { format, channels, sampleRate, blockAlign, extensible, warnings };
  if (channelMask !== undefined) fmt.channelMask = channelMask;
  return fmt;
}

/**
 * Decode a WAV file held in memory. `name` (a path, default "input") starts every message.
 * Throws LoopcheckError('INVALID_FILE') and nothing else.
 */
export function decodeWav(bytes: Uint8Array, name = 'input'): WavDecoded {
  try {
    return decodeWavUnchecked(bytes, name);
  } catch (e) {
    if (e instanceof LoopcheckError) throw e;
    // A bug of ours (there should be none): still honour the contract, keep the cause.
    throw new LoopcheckError('INVALID_FILE', `${name}: could not be decoded (${(e as Error)?.message ?? String(e)})`, {
      hint: 'Report this file to the loopcheck maintainers.',
      cause: e,
    });
  }
}

function decodeWavUnchecked(bytes: Uint8Array, name: string): WavDecoded {
  const damaged = 'The file is not a usable WAV; re-export it as PCM or float WAV.';
  if (!(bytes instanceof Uint8Array)) {
    throw invalid(name, 'expected the file contents as a Uint8Array', 'Pass a Buffer or Uint8Array.');
  }
  const n = bytes.length;
  if (n < 12) throw invalid(name, `only ${n} bytes, too short for a RIFF/WAVE header (12)`, damaged);
  const id = fourcc(bytes, 0);
  if (id === 'RIFX') throw invalid(name, 'big-endian RIFX WAV is not supported', 'Convert it: `sox in.wav -L out.wav`.');
  if (id === 'RF64' || id === 'BW64') throw invalid(name, `${id} (64-bit WAV) is not supported`, 'Convert it to a plain WAV under 4 GiB with sox.');
  if (id !== 'RIFF') throw invalid(name, `not a RIFF file (starts with ${showId(bytes, 0)})`, 'Pass a .wav file.');
  if (fourcc(bytes, 8) !== 'WAVE') throw invalid(name, `RIFF form type is ${showId(bytes, 8)}, not 'WAVE'`, 'Pass a .wav file.');

  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const warnings: string[] = [];
  let fmt: FmtChunk | undefined;
  let dataStart = -1;
  let dataBytes = 0;
  let truncated = false;
  let overlongChunk = '';

  // Chunk walk: every iteration advances pos by ≥ 8, so it ends.
  let pos = 12;
  while (pos + 8 <= n && (fmt === undefined || dataStart < 0)) {
    const cid = fourcc(bytes, pos);
    const size = dv.getUint32(pos + 4, true);
    const body = pos + 8;
    const avail = n - body;
    if (cid === 'data' && dataStart < 0) {
      dataStart = body;
      if (size === MAX_U32 || (size === 0 && avail > 0)) {
        truncated = true;
        dataBytes = avail;
        warnings.push(`${name}: data chunk size is a placeholder (${size === 0 ? '0' : '0xFFFFFFFF'}), as left by an interrupted recording; read the ${avail} bytes present`);
        break;
      }
      if (size > avail) {
        truncated = true;
        dataBytes = avail;
        warnings.push(`${name}: data chunk claims ${size} bytes but only ${avail} are present (file truncated?); read what is there`);
        break;
      }
      dataBytes = size;
    } else if (cid === 'fmt ' && fmt === undefined) {
      if (size > avail) {
        throw invalid(name, `fmt chunk claims ${size} bytes but the file ends after ${avail} (truncated header)`, damaged);
      }
      fmt = parseFmt(bytes, dv, body, size, name);
    } else if (size > avail) {
      overlongChunk = `chunk ${showId(bytes, pos)} at offset ${pos} claims ${size} bytes but only ${avail} follow`;
      break;
    }
    // RIFF pads odd-sized chunks with one byte. Some writers forget the pad: accept the unpadded position when
    // only it holds something that looks like a chunk id.
    let next = body + size + (size & 1);
    if ((size & 1) === 1 && !looksLikeChunkId(bytes, next) && looksLikeChunkId(bytes, body + size)) next = body + size;
    pos = next;
  }

  if (fmt === undefined) {
    const why = dataStart >= 0 ? 'no fmt chunk before the data runs to the end of the file' : 'no fmt chunk';
    throw invalid(name, overlongChunk ? `${why} (${overlongChunk})` : why, damaged);
  }
  if (dataStart < 0) {
    throw invalid(name, overlongChunk ? `no data chunk (${overlongChunk})` : 'no data chunk', damaged);
  }
  warnings.push(...fmt.warnings);

  const frames = Math.floor(dataBytes / fmt.blockAlign);
  const rest = dataBytes - frames * fmt.blockAlign;
  if (rest !== 0) {
    warnings.push(`${name}: ${rest} trailing data bytes do not make a whole frame of ${fmt.blockAlign} bytes; ignored`);
  }
  const channels = decodeSamples(bytes, dv, dataStart, frames, fmt.channels, fmt.format);
  const info: WavInfo = {
    sampleRate: fmt.sampleRate,
    channels: fmt.channels,
    format: fmt.format,
    extensible: fmt.extensible,
    frames,
    truncated,
  };
  if (fmt.channelMask !== undefined) info.channelMask = fmt.channelMask;
  return { audio: { sampleRate: fmt.sampleRate, channels }, info, warnings };
}

/**
 * Interleaved samples at `start` → planar float32. Typed-array views over the file bytes when the data is aligned
 * for the element size (and the host is little-endian), DataView otherwise.
 */
function decodeSamples(
  b: Uint8Array,
  dv: DataView,
  start: number,
  frames: number,
  nch: number,
  format: WavFormat,
): Float32Array[] {
  const out: Float32Array[] = [];
  for (let c = 0; c < nch; c++) out.push(new Float32Array(frames));
  if (frames === 0) return out;
  const count = frames * nch;
  const abs = b.byteOffset + start;
  switch (format) {
    case 'float32': {
      if (LITTLE_ENDIAN_HOST && abs % 4 === 0) {
        deinterleaveScaled(new Float32Array(b.buffer, abs, count), out, 1);
      } else {
        for (let c = 0; c < nch; c++) {
          const ch = out[c]!;
          for (let i = 0, p = start + 4 * c; i < frames; i++, p += 4 * nch) ch[i] = dv.getFloat32(p, true);
        }
      }
      break;
    }
    case 'float64': {
      if (LITTLE_ENDIAN_HOST && abs % 8 === 0) {
        deinterleaveScaled(new Float64Array(b.buffer, abs, count), out, 1);
      } else {
        for (let c = 0; c < nch; c++) {
          const ch = out[c]!;
          for (let i = 0, p = start + 8 * c; i < frames; i++, p += 8 * nch) ch[i] = dv.getFloat64(p, true);
        }
      }
      break;
    }
    case 'pcm16': {
      const k = 1 / 32768;
      if (LITTLE_ENDIAN_HOST && abs % 2 === 0) {
        deinterleaveScaled(new Int16Array(b.buffer, abs, count), out, k);
      } else {
        for (let c = 0; c < nch; c++) {
          const ch = out[c]!;
          for (let i = 0, p = start + 2 * c; i < frames; i++, p += 2 * nch) ch[i] = dv.getInt16(p, true) * k;
        }
      }
      break;
    }
    case 'pcm32': {
      const k = 1 / 2147483648;
      if (LITTLE_ENDIAN_HOST && abs % 4 === 0) {
        deinterleaveScaled(new Int32Array(b.buffer, abs, count), out, k);
      } else {
        for (let c = 0; c < nch; c++) {
          const ch = out[c]!;
          for (let i = 0, p = start + 4 * c; i < frames; i++, p += 4 * nch) ch[i] = dv.getInt32(p, true) * k;
        }
      }
      break;
    }
    case 'pcm24': {
      // Three bytes, little-endian, two's complement: assemble in the top 24 bits of an int32, shift back down.
      const k = 1 / 8388608;
      for (let c = 0; c < nch; c++) {
        const ch = out[c]!;
        for (let i = 0, p = start + 3 * c; i < frames; i++, p += 3 * nch) {
          ch[i] = (((b[p]! << 8) | (b[p + 1]! << 16) | (b[p + 2]! << 24)) >> 8) * k;
        }
      }
      break;
    }
    case 'pcm8': {
      // Unsigned, 128 = silence.
      const k = 1 / 128;
      for (let c = 0; c < nch; c++) {
        const ch = out[c]!;
        for (let i = 0, p = start + c; i < frames; i++, p += nch) ch[i] = (b[p]! - 128) * k;
      }
      break;
    }
  }
  return out;
}

type NumericView = Float32Array | Float64Array | Int16Array | Int32Array;

function deinterleaveScaled(src: NumericView, out: Float32Array[], k: number): void {
  const nch = out.length;
  const frames = out[0]!.length;
  if (nch === 1) {
    const ch = out[0]!;
    if (k === 1) ch.set(src);
    else for (let i = 0; i < frames; i++) ch[i] = src[i]! * k;
    return;
  }
  if (nch === 2) {
    const l = out[0]!;
    const r = out[1]!;
    for (let i = 0, j = 0; i < frames; i++, j += 2) {
      l[i] = src[j]! * k;
      r[i] = src[j + 1]! * k;
    }
    return;
  }
  for (let c = 0; c < nch; c++) {
    const ch = out[c]!;
    for (let i = 0, j = c; i < frames; i++, j += nch) ch[i] = src[j]! * k;
  }
}

/* ─────────────────────────────────────────── encoding ─────────────────────────────────────────── */

/**
 * Usual speaker layout for a channel count (KSAUDIO_SPEAKER_*): 1 → FC (0x4), 2 → FL|FR (0x3), 4 → quad (0x33),
 * 6 → 5.1 (0x3F), 8 → 7.1 (0x63F); other counts take the first N speaker bits, 0 (unassigned) above 18 channels.
 */
export function defaultChannelMask(channels: number): number {
  switch (channels) {
    case 1: return 0x4;
    case 2: return 0x3;
    case 4: return 0x33;
    case 6: return 0x3f;
    case 8: return 0x63f;
    default: return channels <= 18 ? (2 ** channels - 1) >>> 0 : 0;
  }
}

interface HeaderLayout {
  header: Uint8Array;
  /** Offset of the first data byte. */
  dataOffset: number;
  /** Offset of the data chunk's size field. */
  dataSizeAt: number;
  /** Offset of the fact chunk's sample-length field, or −1. */
  factAt: number;
}

function checkFormat(format: unknown): WavFormat {
  if (typeof format === 'string' && (WAV_FORMATS as readonly string[]).includes(format)) return format as WavFormat;
  throw new LoopcheckError('INVALID_ARGUMENT', `unknown WAV sample format ${JSON.stringify(format)}`, {
    hint: `Use one of ${WAV_FORMATS.join(', ')}.`,
  });
}

function checkLayout(sampleRate: number, channels: number, format: WavFormat): void {
  if (!Number.isInteger(sampleRate) || sampleRate < 1 || sampleRate > MAX_U32) {
    throw new LoopcheckError('INVALID_ARGUMENT', `sample rate ${sampleRate} cannot be written to a WAV file`, {
      hint: 'Use a positive whole number of Hz, e.g. 48000.',
    });
  }
  if (!Number.isInteger(channels) || channels < 1 || channels * SPECS[format].bytesPerSample > 0xffff) {
    throw new LoopcheckError('INVALID_ARGUMENT', `${channels} channels of ${format} cannot be written to a WAV file`, {
      hint: 'Use at least 1 channel and a frame under 64 KiB.',
    });
  }
  if (sampleRate * channels * SPECS[format].bytesPerSample > MAX_U32) {
    throw new LoopcheckError('INVALID_ARGUMENT', `byte rate of ${sampleRate} Hz × ${channels} × ${format} overflows the WAV header`, {
      hint: 'Lower the sample rate or the channel count.',
    });
  }
}

/**
 * The header bytes: RIFF, fmt (16 bytes for plain PCM — the canonical 44-byte header that Python's `wave` reads;
 * 18 bytes + fact for plain float; 40 bytes + fact (float only) for EXTENSIBLE), then for plain float a JUNK chunk
 * so the data starts on an 8-byte boundary (fast aligned views for readers), then the data chunk header.
 * Sizes are filled for `dataBytes` of data (a pad byte follows odd data).
 */
function buildHeader(
  sampleRate: number,
  channels: number,
  format: WavFormat,
  extensible: boolean,
  channelMask: number,
  dataBytes: number,
): HeaderLayout {
  const spec = SPECS[format];
  const bits = spec.bytesPerSample * 8;
  const tag = spec.float ? TAG_FLOAT : TAG_PCM;
  const fmtSize = extensible ? 40 : spec.float ? 18 : 16;
  const hasFact = spec.float;
  let size = 12 + 8 + fmtSize + (hasFact ? 12 : 0) + 8;
  let junk = 0;
  if (spec.float && !extensible && size % 8 !== 0) {
    junk = 8 + ((8 - ((size + 8) % 8)) % 8);
    size += junk;
  }
  const header = new Uint8Array(size);
  const dv = new DataView(header.buffer);
  const ascii = (at: number, s: string): void => {
    for (let i = 0; i < 4; i++) header[at + i] = s.charCodeAt(i);
  };
  const blockAlign = channels * spec.bytesPerSample;
  ascii(0, 'RIFF');
  ascii(8, 'WAVE');
  let p = 12;
  ascii(p, 'fmt ');
  dv.setUint32(p + 4, fmtSize, true);
  dv.setUint16(p + 8, extensible ? TAG_EXTENSIBLE : tag, true);
  dv.setUint16(p + 10, channels, true);
  dv.setUint32(p + 12, sampleRate, true);
  dv.setUint32(p + 16, sampleRate * blockAlign, true);
  dv.setUint16(p + 20, blockAlign, true);
  dv.setUint16(p + 22, bits, true);
  if (fmtSize >= 18) dv.setUint16(p + 24, fmtSize - 18, true); // cbSize
  if (extensible) {
    dv.setUint16(p + 26, bits, true); // wValidBitsPerSample
    dv.setUint32(p + 28, channelMask >>> 0, true);
    dv.setUint16(p + 32, tag, true);
    header.set(GUID_TAIL, p + 34);
  }
  p += 8 + fmtSize;
  let factAt = -1;
  if (hasFact) {
    ascii(p, 'fact');
    dv.setUint32(p + 4, 4, true);
    factAt = p + 8;
    p += 12;
  }
  if (junk > 0) {
    ascii(p, 'JUNK');
    dv.setUint32(p + 4, junk - 8, true);
    p += junk;
  }
  ascii(p, 'data');
  const layout: HeaderLayout = { header, dataOffset: p + 8, dataSizeAt: p + 4, factAt };
  setSizes(layout, dataBytes, Math.floor(dataBytes / blockAlign));
  return layout;
}

/** Write the RIFF size, data size and fact sample length for `dataBytes` of data into `layout.header`. */
function setSizes(layout: HeaderLayout, dataBytes: number, frames: number): void {
  const dv = new DataView(layout.header.buffer, layout.header.byteOffset, layout.header.byteLength);
  dv.setUint32(4, layout.dataOffset - 8 + dataBytes + (dataBytes & 1), true);
  dv.setUint32(layout.dataSizeAt, dataBytes, true);
  if (layout.factAt >= 0) dv.setUint32(layout.factAt, frames, true);
}

function checkAudio(audio: Audio): number {
  if (!audio || !Array.isArray(audio.channels) || audio.channels.length === 0) {
    throw new LoopcheckError('INVALID_ARGUMENT', 'audio has no channels', { hint: 'Pass at least one Float32Array channel.' });
  }
  const frames = audio.channels[0]!.length;
  for (let c = 0; c < audio.channels.length; c++) {
    const ch = audio.channels[c];
    if (!(ch instanceof Float32Array)) {
      throw new LoopcheckError('INVALID_ARGUMENT', `audio channel ${c} is not a Float32Array`, { hint: 'Audio is planar float32.' });
    }
    if (ch.length !== frames) {
      throw new LoopcheckError('INVALID_ARGUMENT', `audio channel ${c} has ${ch.length} frames, channel 0 has ${frames}`, {
        hint: 'All channels must be the same length.',
      });
    }
  }
  return frames;
}

/**
 * Write samples into `out` (little-endian, interleaved) starting at byte `at`. The source is either planar
 * channels or one interleaved array (`nch` channels). Returns the number of clipped samples.
 */
function encodeSamples(
  src: Float32Array[] | Float32Array,
  nch: number,
  frames: number,
  format: WavFormat,
  out: Uint8Array,
  at: number,
): number {
  const count = frames * nch;
  if (count === 0) return 0;
  const abs = out.byteOffset + at;
  // The input is either planar channels or one interleaved array.
  const planar = Array.isArray(src) ? src : null;
  const inter = Array.isArray(src) ? null : src;
  let clipped = 0;
  switch (format) {
    case 'float32':
    case 'float64': {
      const eight = format === 'float64';
      const size = eight ? 8 : 4;
      if (LITTLE_ENDIAN_HOST && abs % size === 0) {
        const view = eight ? new Float64Array(out.buffer, abs, count) : new Float32Array(out.buffer, abs, count);
        if (inter) view.set(inter);
        else interleaveInto(planar!, view, frames);
      } else {
        const dv = new DataView(out.buffer, out.byteOffset, out.byteLength);
        for (let s = 0, p = at; s < count; s++, p += size) {
          const v = inter ? inter[s]! : planar![s % nch]![Math.floor(s / nch)]!;
          if (eight) dv.setFloat64(p, v, true);
          else dv.setFloat32(p, v, true);
        }
      }
      return 0;
    }
    case 'pcm16':
    case 'pcm32': {
      const is16 = format === 'pcm16';
      const size = is16 ? 2 : 4;
      const scale = is16 ? 32768 : 2147483648;
      const lo = -scale;
      const hi = scale - 1;
      if (LITTLE_ENDIAN_HOST && abs % size === 0) {
        const sources = inter ? [inter] : planar!;
        const stride = inter ? 1 : nch;
        for (let c = 0; c < sources.length; c++) {
          if (is16) clipped += quantize16(sources[c]!, new Int16Array(out.buffer, abs, count), c, stride);
          else clipped += quantize32(sources[c]!, new Int32Array(out.buffer, abs, count), c, stride);
        }
      } else {
        const dv = new DataView(out.buffer, out.byteOffset, out.byteLength);
        for (let s = 0, p = at; s < count; s++, p += size) {
          let q = Math.round((inter ? inter[s]! : planar![s % nch]![Math.floor(s / nch)]!) * scale);
          if (!(q >= lo && q <= hi)) {
            clipped++;
            q = q > hi ? hi : q < lo ? lo : 0;
          }
          if (is16) dv.setInt16(p, q, true);
          else dv.setInt32(p, q, true);
        }
      }
      return clipped;
    }
    case 'pcm24':
    case 'pcm8': {
      const is24 = format === 'pcm24';
      const scale = is24 ? 8388608 : 128;
      const lo = -scale;
      const hi = scale - 1;
      const size = is24 ? 3 : 1;
      for (let c = 0; c < nch; c++) {
        const ch = planar ? planar[c]! : null;
        for (let i = 0, p = at + size * c, s = c; i < frames; i++, p += size * nch, s += nch) {
          let q = Math.round((ch ? ch[i]! : inter![s]!) * scale);
          if (!(q >= lo && q <= hi)) {
            clipped++;
            q = q > hi ? hi : q < lo ? lo : 0;
          }
          if (is24) {
            out[p] = q & 0xff;
            out[p + 1] = (q >> 8) & 0xff;
            out[p + 2] = (q >> 16) & 0xff;
          } else {
            out[p] = q + 128; // unsigned 8-bit: 128 = silence
          }
        }
      }
      return clipped;
    }
  }
}

/** Interleave planar float channels into a float view (no scaling, no clipping). */
function interleaveInto(planar: Float32Array[], view: Float32Array | Float64Array, frames: number): void {
  const nch = planar.length;
  if (nch === 1) {
    view.set(planar[0]!);
  } else if (nch === 2) {
    const l = planar[0]!;
    const r = planar[1]!;
    for (let i = 0, j = 0; i < frames; i++, j += 2) {
      view[j] = l[i]!;
      view[j + 1] = r[i]!;
    }
  } else {
    for (let c = 0; c < nch; c++) {
      const ch = planar[c]!;
      for (let i = 0, j = c; i < frames; i++, j += nch) view[j] = ch[i]!;
    }
  }
}

/*
 * Integer quantisation: q = round(x · scale) (round to nearest, ties toward +∞), clipped to [lo, hi]; NaN → 0.
 * Each returns the number of clipped samples. Separate Int16 / Int32 loops keep element access monomorphic
 * (several times faster in V8 than one loop over `Int16Array | Int32Array`).
 */
function quantize16(src: Float32Array, view: Int16Array, offset: number, stride: number): number {
  let clipped = 0;
  for (let i = 0, j = offset; i < src.length; i++, j += stride) {
    let q = Math.round(src[i]! * 32768);
    if (q > 32767 || q < -32768 || q !== q) {
      clipped++;
      q = q > 32767 ? 32767 : q < -32768 ? -32768 : 0;
    }
    view[j] = q;
  }
  return clipped;
}

function quantize32(src: Float32Array, view: Int32Array, offset: number, stride: number): number {
  let clipped = 0;
  for (let i = 0, j = offset; i < src.length; i++, j += stride) {
    let q = Math.round(src[i]! * 2147483648);
    if (q > 2147483647 || q < -2147483648 || q !== q) {
      clipped++;
      q = q > 2147483647 ? 2147483647 : q < -2147483648 ? -2147483648 : 0;
    }
    view[j] = q;
  }
  return clipped;
}

/** Encode planar audio as a complete WAV file in memory. */
export function encodeWav(audio: Audio, options: WavEncodeOptions = {}): WavEncoded {
  const format = checkFormat(options.format ?? 'float32');
  const frames = checkAudio(audio);
  const nch = audio.channels.length;
  checkLayout(audio.sampleRate, nch, format);
  const dataBytes = frames * nch * SPECS[format].bytesPerSample;
  const extensible = options.extensible === true;
  const mask = options.channelMask ?? defaultChannelMask(nch);
  const layout = buildHeader(audio.sampleRate, nch, format, extensible, mask, dataBytes);
  const total = layout.dataOffset + dataBytes + (dataBytes & 1);
  if (total - 8 > MAX_U32) {
    throw new LoopcheckError('INVALID_ARGUMENT', `${dataBytes} bytes of audio do not fit a WAV file (4 GiB limit)`, {
      hint: 'Write shorter files or a smaller sample format.',
    });
  }
  const bytes = new Uint8Array(total);
  bytes.set(layout.header, 0);
  const clipped = encodeSamples(audio.channels, nch, frames, format, bytes, layout.dataOffset);
  return { bytes, clipped };
}

/**
 * Raw little-endian interleaved PCM for streaming to stdout: 's16' rounds to nearest and clips to
 * [−32768, 32767] (counting clipped samples), 'f32' is the float32 bytes unchanged.
 */
export function encodePcm(interleaved: Float32Array, format: 's16' | 'f32'): { bytes: Uint8Array; clipped: number } {
  if (format !== 's16' && format !== 'f32') {
    throw new LoopcheckError('INVALID_ARGUMENT', `unknown raw PCM format ${JSON.stringify(format)}`, { hint: "Use 's16' or 'f32'." });
  }
  const wav: WavFormat = format === 's16' ? 'pcm16' : 'float32';
  const bytes = new Uint8Array(interleaved.length * SPECS[wav].bytesPerSample);
  const clipped = encodeSamples(interleaved, 1, interleaved.length, wav, bytes, 0);
  return { bytes, clipped };
}

/* ─────────────────────────────────────────── files ─────────────────────────────────────────── */

const OS_REASONS: Record<string, string> = {
  ENOENT: 'no such file',
  EACCES: 'permission denied',
  EPERM: 'permission denied',
  EISDIR: 'is a directory',
  ENOTDIR: 'a parent of the path is not a directory',
  EMFILE: 'too many open files',
  ENOSPC: 'no space left on the device',
  EROFS: 'read-only file system',
};

function fileError(path: string, verb: string, e: unknown): LoopcheckError {
  const err = e as NodeJS.ErrnoException;
  const code = typeof err?.code === 'string' ? err.code : '';
  if (code === 'ERR_FS_FILE_TOO_LARGE') {
    return new LoopcheckError('INVALID_FILE', `${path}: too large to ${verb} in one piece (2 GiB limit)`, {
      hint: 'Split the recording into shorter files.',
      cause: e,
    });
  }
  const reason = OS_REASONS[code] !== undefined ? `${OS_REASONS[code]} (${code})` : err?.message || String(e);
  const errno = (osConstants.errno as Record<string, number>)[code];
  const options: { hint: string; cause: unknown; osCode?: number } = {
    hint: code === 'ENOENT' ? 'Check the path.' : `Check that the path can be ${verb === 'read' ? 'read' : 'written'}.`,
    cause: e,
  };
  if (errno !== undefined) options.osCode = errno;
  return new LoopcheckError('INVALID_FILE', `${path}: cannot ${verb}: ${reason}`, options);
}

/** Read and decode a WAV file. Every failure (missing file, damaged file) is LoopcheckError('INVALID_FILE'). */
export async function readWav(path: string): Promise<WavDecoded> {
  let bytes: Uint8Array;
  try {
    bytes = await readFile(path);
  } catch (e) {
    throw fileError(path, 'read', e);
  }
  return decodeWav(bytes, path);
}

/** Encode and write a WAV file. Returns the clipped-sample count (integer formats). */
export async function writeWav(path: string, audio: Audio, options: WavEncodeOptions = {}): Promise<{ clipped: number }> {
  const { bytes, clipped } = encodeWav(audio, options);
  try {
    await writeFile(path, bytes);
  } catch (e) {
    throw fileError(path, 'write', e);
  }
  return { clipped };
}

export interface WavStreamOptions {
  sampleRate: number;
  channels: number;
  /** Default 'float32'. */
  format?: WavFormat;
  extensible?: boolean;
  channelMask?: number;
}

/**
 * Incremental WAV writer for captures. The header is written at `create` with zero sizes; `flush()` rewrites the
 * RIFF size, data size (and fact length) so that the file on disk is a valid WAV holding every frame written so
 * far. A process killed between flushes leaves a valid file with the frames of the last flush (plus trailing
 * bytes past the data chunk, which readers ignore), and our decoder reads a never-flushed file as truncated.
 *
 * I/O is positional writes on a plain file descriptor, done synchronously (a 20 ms stereo float chunk is ~8 KB:
 * microseconds into the page cache). That keeps `flushSync()` / `closeSync()` exact from a signal or 'exit'
 * handler: nothing is ever in flight. No fsync: the page cache survives a killed process; an OS crash is out of
 * scope.
 */
export class WavStreamWriter {
  readonly path: string;
  readonly sampleRate: number;
  readonly channels: number;
  readonly format: WavFormat;
  /** Samples clipped so far (integer formats). */
  clipped = 0;
  private fd: number;
  private readonly layout: HeaderLayout;
  private dataBytes = 0;
  private closed = false;
  private frames = 0;

  private constructor(path: string, fd: number, options: Required<Omit<WavStreamOptions, 'channelMask'>>, layout: HeaderLayout) {
    this.path = path;
    this.fd = fd;
    this.sampleRate = options.sampleRate;
    this.channels = options.channels;
    this.format = options.format;
    this.layout = layout;
  }

  /** Create (truncate) `path` and write a valid, empty WAV header. */
  static async create(path: string, options: WavStreamOptions): Promise<WavStreamWriter> {
    const format = checkFormat(options.format ?? 'float32');
    checkLayout(options.sampleRate, options.channels, format);
    const extensible = options.extensible === true;
    const layout = buildHeader(options.sampleRate, options.channels, format, extensible, options.channelMask ?? defaultChannelMask(options.channels), 0);
    const fd = await new Promise<number>((resolve, reject) => {
      fsOpen(path, 'w', 0o666, (err, fd) => (err ? reject(fileError(path, 'write', err)) : resolve(fd)));
    });
    const w = new WavStreamWriter(path, fd, { sampleRate: options.sampleRate, channels: options.channels, format, extensible }, layout);
    try {
      w.writeAt(layout.header, 0);
    } catch (e) {
      try {
        fsCloseSync(fd);
      } catch {
        /* already failing */
      }
      throw e;
    }
    return w;
  }

  /** Whole frames written (not necessarily flushed). */
  get framesWritten(): number {
    return this.frames;
  }

  /** Append interleaved samples (length a multiple of `channels`). Returns the samples clipped in this call. */
  write(interleaved: Float32Array): number {
    if (this.closed) {
      throw new LoopcheckError('INVALID_ARGUMENT', `${this.path}: write after close`, { hint: 'Do not write to a closed WavStreamWriter.' });
    }
    if (!(interleaved instanceof Float32Array) || interleaved.length % this.channels !== 0) {
      throw new LoopcheckError('INVALID_ARGUMENT', `${this.path}: write needs interleaved Float32Array samples, a multiple of ${this.channels} channels`, {
        hint: 'Pass whole frames: length = frames × channels.',
      });
    }
    const frames = interleaved.length / this.channels;
    const bytesPerSample = SPECS[this.format].bytesPerSample;
    const nbytes = interleaved.length * bytesPerSample;
    if (this.layout.dataOffset - 8 + this.dataBytes + nbytes + 1 > MAX_U32) {
      throw new LoopcheckError('INVALID_ARGUMENT', `${this.path}: WAV file would exceed 4 GiB`, { hint: 'Record shorter captures or split them.' });
    }
    if (nbytes === 0) return 0;
    const bytes = new Uint8Array(nbytes);
    const clipped = encodeSamples(interleaved, this.channels, frames, this.format, bytes, 0);
    this.writeAt(bytes, this.layout.dataOffset + this.dataBytes);
    this.dataBytes += nbytes;
    this.frames += frames;
    this.clipped += clipped;
    return clipped;
  }

  /** Make the file on disk a valid WAV with every frame written so far. */
  async flush(): Promise<void> {
    this.flushSync();
  }

  /** Synchronous flush, safe in a signal or 'exit' handler. No-op after close. */
  flushSync(): void {
    if (this.closed) return;
    if ((this.dataBytes & 1) === 1) this.writeAt(new Uint8Array(1), this.layout.dataOffset + this.dataBytes); // RIFF pad
    setSizes(this.layout, this.dataBytes, this.frames);
    // Only the three size fields change: RIFF size, fact length, data size.
    this.writeAt(this.layout.header.subarray(4, 8), 4);
    if (this.layout.factAt >= 0) this.writeAt(this.layout.header.subarray(this.layout.factAt, this.layout.factAt + 4), this.layout.factAt);
    this.writeAt(this.layout.header.subarray(this.layout.dataSizeAt, this.layout.dataSizeAt + 4), this.layout.dataSizeAt);
  }

  /** Flush and close. Idempotent. */
  async close(): Promise<void> {
    this.closeSync();
  }

  /** Synchronous close (flush + close fd), safe in a signal or 'exit' handler. Idempotent. */
  closeSync(): void {
    if (this.closed) return;
    let failure: unknown;
    try {
      this.flushSync();
    } catch (e) {
      failure = e;
    }
    this.closed = true;
    try {
      fsCloseSync(this.fd);
    } catch (e) {
      failure ??= fileError(this.path, 'write', e);
    }
    if (failure !== undefined) throw failure;
  }

  private writeAt(bytes: Uint8Array, position: number): void {
    let done = 0;
    try {
      while (done < bytes.length) done += writeSync(this.fd, bytes, done, bytes.length - done, position + done);
    } catch (e) {
      throw fileError(this.path, 'write', e);
    }
  }
}
