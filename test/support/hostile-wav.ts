/**
 * Hostile WAV files for the reader's fuzz tests (test/unit/hostile-input.test.ts, test/cli/hostile.test.ts):
 * a fixed corpus of named, structured attacks, and a seeded generator of random structured files.
 *
 * A file is built from chunks whose size field may lie: `claim` is what the header says, `body` what follows.
 * Everything is little-endian RIFF unless the case is about RIFX / RF64.
 */
import type { Rng } from '../../src/dsp/random.js';

export interface RawChunk {
  id: string;
  body: Uint8Array;
  /** The size field written; default body.length. */
  claim?: number;
  /** Add the RIFF pad byte after an odd body; default true. */
  pad?: boolean;
}

export interface FmtFields {
  tag?: number;
  channels?: number;
  sampleRate?: number;
  byteRate?: number;
  blockAlign?: number;
  bits?: number;
  /** Bytes of the fmt body: 16 (plain), 18 (cbSize 0), 40 (EXTENSIBLE); default 16, or 40 for tag 0xFFFE. */
  size?: number;
  /** EXTENSIBLE only. */
  cbSize?: number;
  validBits?: number;
  channelMask?: number;
  subTag?: number;
  /** EXTENSIBLE only: write a GUID tail that is not the KSDATAFORMAT one. */
  badGuid?: boolean;
}

const GUID_TAIL = [0x00, 0x00, 0x00, 0x00, 0x10, 0x00, 0x80, 0x00, 0x00, 0xaa, 0x00, 0x38, 0x9b, 0x71];

function ascii(id: string): number[] {
  return Array.from(id.padEnd(4, ' ').slice(0, 4), (c) => c.charCodeAt(0) & 0xff);
}

/** A fmt chunk body; fields left out take the values of 2 ch, 48 kHz, 16-bit PCM (consistent with each other). */
export function fmtBody(f: FmtFields = {}): Uint8Array {
  const tag = f.tag ?? 1;
  const channels = f.channels ?? 2;
  const sampleRate = f.sampleRate ?? 48000;
  const bits = f.bits ?? 16;
  const blockAlign = f.blockAlign ?? (channels * Math.ceil(bits / 8)) & 0xffff;
  const size = f.size ?? (tag === 0xfffe ? 40 : 16);
  const b = new Uint8Array(Math.max(size, 0));
  const dv = new DataView(b.buffer);
  const put16 = (at: number, v: number): void => {
    if (at + 2 <= b.length) dv.setUint16(at, v & 0xffff, true);
  };
  const put32 = (at: number, v: number): void => {
    if (at + 4 <= b.length) dv.setUint32(at, v >>> 0, true);
  };
  put16(0, tag);
  put16(2, channels);
  put32(4, sampleRate);
  put32(8, f.byteRate ?? sampleRate * blockAlign);
  put16(12, blockAlign);
  put16(14, bits);
  if (size >= 18) put16(16, f.cbSize ?? (tag === 0xfffe ? 22 : 0));
  if (tag === 0xfffe && size >= 40) {
    put16(18, f.validBits ?? bits);
    put32(20, f.channelMask ?? 3);
    put16(24, f.subTag ?? 1);
    for (let i = 0; i < GUID_TAIL.length; i++) b[26 + i] = f.badGuid && i === 5 ? 0x42 : GUID_TAIL[i]!;
  }
  return b;
}

/** A whole file: `head` ('RIFF', 'RIFX', 'RF64', …), `riffClaim` (default: the true size − 8), form type, chunks. */
export function buildRiff(chunks: RawChunk[], options: { head?: string; form?: string; riffClaim?: number } = {}): Uint8Array {
  const parts: number[] = [];
  for (const c of chunks) {
    const claim = c.claim ?? c.body.length;
    parts.push(...ascii(c.id), claim & 0xff, (claim >>> 8) & 0xff, (claim >>> 16) & 0xff, (claim >>> 24) & 0xff);
    for (const x of c.body) parts.push(x);
    if ((c.pad ?? true) && (c.body.length & 1) === 1) parts.push(0);
  }
  const out = new Uint8Array(12 + parts.length);
  out.set(ascii(options.head ?? 'RIFF'), 0);
  new DataView(out.buffer).setUint32(4, (options.riffClaim ?? 4 + parts.length) >>> 0, true);
  out.set(ascii(options.form ?? 'WAVE'), 8);
  out.set(parts, 12);
  return out;
}

/** `n` bytes of 16-bit-ish audio data (a ramp, so a decoded file has non-zero samples). */
export function dataBytes(n: number): Uint8Array {
  return Uint8Array.from({ length: n }, (_, i) => (i * 37) & 0xff);
}

export interface HostileCase {
  name: string;
  bytes: Uint8Array;
  /** The reader must refuse it (INVALID_FILE). False: it may decode (truncated, odd) — then bounded and sane. */
  refused: boolean;
}

/**
 * The named corpus. Every `refused` case is a file `loopcheck analyze` must answer with exit 2 and one line;
 * the others decode to something small (a truncated or oddly laid-out but legal file).
 */
export function hostileCorpus(): HostileCase[] {
  const ok = fmtBody();
  const data = dataBytes(64);
  // A deterministic byte soup that does not start with "RIFF".
  const soup = Uint8Array.from({ length: 1024 }, (_, i) => (Math.imul(i + 1, 2654435761) >>> 24) & 0xff);
  soup[0] = 0x00;
  const zeroChunks: RawChunk[] = Array.from({ length: 20000 }, () => ({ id: 'JUNK', body: new Uint8Array(0) }));
  return [
    { name: 'random-bytes', bytes: soup, refused: true },
    { name: 'empty', bytes: new Uint8Array(0), refused: true },
    { name: 'header-only', bytes: buildRiff([]), refused: true },
    { name: 'zero-channels', bytes: buildRiff([{ id: 'fmt ', body: fmtBody({ channels: 0, blockAlign: 4 }) }, { id: 'data', body: data }]), refused: true },
    { name: 'zero-rate', bytes: buildRiff([{ id: 'fmt ', body: fmtBody({ sampleRate: 0 }) }, { id: 'data', body: data }]), refused: true },
    { name: 'odd-block-align', bytes: buildRiff([{ id: 'fmt ', body: fmtBody({ blockAlign: 3 }) }, { id: 'data', body: data }]), refused: true },
    { name: 'rf64', bytes: buildRiff([{ id: 'ds64', body: new Uint8Array(28) }, { id: 'fmt ', body: ok }, { id: 'data', body: data, claim: 0xffffffff }], { head: 'RF64', riffClaim: 0xffffffff }), refused: true },
    { name: 'rifx', bytes: buildRiff([{ id: 'fmt ', body: ok }, { id: 'data', body: data }], { head: 'RIFX' }), refused: true },
    { name: 'fmt-claims-4gib', bytes: buildRiff([{ id: 'fmt ', body: ok, claim: 0xfffffff0 }, { id: 'data', body: data }]), refused: true },
    { name: 'junk-claims-4gib-before-fmt', bytes: buildRiff([{ id: 'LIST', body: new Uint8Array(4), claim: 0xffffff00 }, { id: 'fmt ', body: ok }, { id: 'data', body: data }]), refused: true },
    { name: 'fmt-after-open-data', bytes: buildRiff([{ id: 'data', body: data, claim: 0 }, { id: 'fmt ', body: ok }]), refused: true },
    { name: 'chunk-loop-20000-empty-chunks', bytes: buildRiff([{ id: 'fmt ', body: ok }, ...zeroChunks]), refused: true },
    { name: 'zero-bits', bytes: buildRiff([{ id: 'fmt ', body: fmtBody({ bits: 0, blockAlign: 0 }) }, { id: 'data', body: data }]), refused: true },
    { name: 'extensible-bad-guid', bytes: buildRiff([{ id: 'fmt ', body: fmtBody({ tag: 0xfffe, badGuid: true }) }, { id: 'data', body: data }]), refused: true },
    { name: 'fmt-cut-short', bytes: buildRiff([{ id: 'fmt ', body: ok }]).subarray(0, 12 + 8 + 10), refused: true },
    { name: '65535-channels-misaligned', bytes: buildRiff([{ id: 'fmt ', body: fmtBody({ channels: 65535, bits: 16, blockAlign: 65534 }) }, { id: 'data', body: data }]), refused: true },
    // Legal, or damaged in a way the reader recovers from (with a warning): small output whatever the claims.
    { name: 'data-claims-4gib', bytes: buildRiff([{ id: 'fmt ', body: ok }, { id: 'data', body: data, claim: 0xfffffffe }], { riffClaim: 0xffffffff }), refused: false },
    { name: 'data-size-placeholder-0', bytes: buildRiff([{ id: 'fmt ', body: ok }, { id: 'data', body: data, claim: 0 }], { riffClaim: 0 }), refused: false },
    { name: 'fmt-after-data', bytes: buildRiff([{ id: 'data', body: data }, { id: 'fmt ', body: ok }]), refused: false },
    { name: '65535-channels-8-bit', bytes: buildRiff([{ id: 'fmt ', body: fmtBody({ channels: 65535, bits: 8 }) }, { id: 'data', body: data }]), refused: false },
    { name: 'rate-4294967295', bytes: buildRiff([{ id: 'fmt ', body: fmtBody({ sampleRate: 0xffffffff }) }, { id: 'data', body: data }]), refused: false },
    // 16 data bytes: the size's low byte (0x10) makes the padded position hold no chunk id, so the unpadded wins.
    { name: 'odd-chunk-no-pad', bytes: buildRiff([{ id: 'fmt ', body: ok }, { id: 'odd ', body: dataBytes(3), pad: false }, { id: 'data', body: dataBytes(16) }]), refused: false },
  ];
}

/* ───────────────────────────── random structured files ───────────────────────────── */

function pick<T>(rng: Rng, xs: readonly T[]): T {
  return xs[rng.int(0, xs.length)]!;
}

const INTERESTING_U32 = [0, 1, 2, 7, 8, 0x7fffffff, 0x80000000, 0xfffffff8, 0xfffffffe, 0xffffffff];
const INTERESTING_U16 = [0, 1, 2, 3, 0x7fff, 0x8000, 0xfffe, 0xffff];

function randomU32(rng: Rng): number {
  return rng.next() < 0.5 ? pick(rng, INTERESTING_U32) : Math.floor(rng.next() * 2 ** 32);
}

function randomU16(rng: Rng): number {
  return rng.next() < 0.5 ? pick(rng, INTERESTING_U16) : rng.int(0, 0x10000);
}

function randomBytes(rng: Rng, n: number): Uint8Array {
  const b = new Uint8Array(n);
  for (let i = 0; i < n; i++) b[i] = rng.int(0, 256);
  return b;
}

function randomFmt(rng: Rng): Uint8Array {
  const valid = rng.next() < 0.5;
  const f: FmtFields = {
    tag: valid ? pick(rng, [1, 3, 0xfffe]) : pick(rng, [0, 1, 2, 3, 6, 7, 0x55, 0xfffe, randomU16(rng)]),
    channels: valid ? pick(rng, [1, 2, 3, 8]) : pick(rng, [0, 1, 2, 255, 65535, randomU16(rng)]),
    sampleRate: valid ? pick(rng, [8000, 44100, 48000]) : pick(rng, [0, 1, 0xffffffff, randomU32(rng)]),
    bits: valid ? pick(rng, [8, 16, 24, 32, 64]) : pick(rng, [0, 1, 4, 12, 20, 33, 65535, randomU16(rng)]),
  };
  const mutate = valid ? 0.1 : 0.4;
  if (rng.next() < mutate) f.blockAlign = randomU16(rng); // odd or wrong block align
  if (rng.next() < mutate) f.byteRate = randomU32(rng);
  if (rng.next() < mutate) f.size = pick(rng, [0, 2, 14, 16, 17, 18, 22, 39, 40, 41, 64]);
  if (f.tag === 0xfffe) {
    if (rng.next() < 0.3) f.cbSize = randomU16(rng);
    if (rng.next() < 0.3) f.validBits = randomU16(rng);
    if (rng.next() < 0.3) f.subTag = pick(rng, [1, 3, 0, 2, randomU16(rng)]);
    if (rng.next() < 0.2) f.badGuid = true;
    f.channelMask = randomU32(rng);
  }
  return fmtBody(f);
}

/**
 * One random hostile file: raw bytes (10 %), or a RIFF-like file of random chunks (fmt with random fields, data
 * with lying sizes, junk, chunk floods), random head / form type / RIFF size, then maybe truncated and byte-flipped.
 * At most a few KiB, so the size-justifies-allocation bound is tight.
 */
export function randomHostileWav(rng: Rng): Uint8Array {
  if (rng.next() < 0.1) return randomBytes(rng, rng.int(0, 600));
  const chunks: RawChunk[] = [];
  // Half the files start from fmt + data (in either order), so the decoder gets past its first checks.
  if (rng.next() < 0.5) {
    const pair: RawChunk[] = [{ id: 'fmt ', body: randomFmt(rng) }, { id: 'data', body: dataBytes(rng.int(0, 2000)) }];
    chunks.push(...(rng.next() < 0.8 ? pair : pair.reverse()));
  }
  const count = rng.int(0, 5);
  for (let i = 0; i < count; i++) {
    const r = rng.next();
    if (r < 0.35) {
      chunks.splice(rng.int(0, chunks.length + 1), 0, { id: 'fmt ', body: randomFmt(rng), ...(rng.next() < 0.15 ? { claim: randomU32(rng) } : {}) });
    } else if (r < 0.7) {
      const body = dataBytes(rng.int(0, 2000));
      chunks.push({ id: 'data', body, ...(rng.next() < 0.4 ? { claim: randomU32(rng) } : {}), pad: rng.next() < 0.8 });
    } else if (r < 0.8) {
      // A flood of empty chunks: the walk must step through them, one header at a time.
      for (let k = rng.int(1, 300); k > 0; k--) chunks.push({ id: 'JUNK', body: new Uint8Array(0) });
    } else {
      const id = rng.next() < 0.5 ? pick(rng, ['LIST', 'fact', 'PEAK', 'ds64', 'odd ', 'data', 'fmt ']) : String.fromCharCode(...randomBytes(rng, 4));
      chunks.push({ id, body: randomBytes(rng, rng.int(0, 64)), ...(rng.next() < 0.4 ? { claim: randomU32(rng) } : {}), pad: rng.next() < 0.7 });
    }
  }
  const head = rng.next() < 0.85 ? 'RIFF' : pick(rng, ['RIFX', 'RF64', 'BW64', 'riff', String.fromCharCode(...randomBytes(rng, 4))]);
  const form = rng.next() < 0.9 ? 'WAVE' : pick(rng, ['AVI ', 'wave', String.fromCharCode(...randomBytes(rng, 4))]);
  let bytes = buildRiff(chunks, { head, form, ...(rng.next() < 0.3 ? { riffClaim: randomU32(rng) } : {}) });
  if (rng.next() < 0.3) bytes = bytes.slice(0, rng.int(0, bytes.length + 1));
  for (let flips = rng.next() < 0.4 ? rng.int(1, 6) : 0; flips > 0 && bytes.length > 0; flips--) {
    bytes[rng.int(0, bytes.length)] = rng.int(0, 256);
  }
  return bytes;
}
