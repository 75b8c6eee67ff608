/**
 * Hostile input (issue 7, item 4): the WAV reader, `--criteria` files, `--impair` strings and the analysis of
 * broken captures. Each must end in a LoopcheckError with the right code and a one-line message, or in a small,
 * sane result — never another exception, never an allocation the input does not justify, never a hang.
 *
 * Hang guard: each fuzz loop runs inside `vm` with a timeout, so a decoder that loops forever FAILS the test
 * (a synchronous loop would otherwise block the worker past vitest's own timeout). The timeout is generous
 * and is not a speed assertion.
 */
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runInNewContext } from 'node:vm';
import { afterAll, describe, expect, it } from 'vitest';
import { analyze, MIN_REFERENCE_PEAK } from '../../src/analysis/index.js';
import { DEFAULT_IMPAIRMENTS, IMPAIRMENT_KEYS, parseImpairments, resolveImpairments, type Impairments } from '../../src/backends/impairments.js';
import { throughDevice } from '../../src/dsp/impair.js';
import { createRng, type Rng } from '../../src/dsp/random.js';
import { LoopcheckError, type ErrorCode } from '../../src/errors.js';
import { CRITERIA_SPEC, loadCriteria, parseCriteria } from '../../src/harness/criteria.js';
import { decodeWav, type WavDecoded } from '../../src/wav.js';
import { hostileCorpus, randomHostileWav } from '../support/hostile-wav.js';

const tmp = mkdtempSync(join(tmpdir(), 'loopcheck-hostile-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** Fails (instead of hanging the worker) when `fn` does not return within `ms`. A hang guard, not a speed test. */
function withHangGuard<T>(fn: () => T, ms = 90_000): T {
  return runInNewContext('fn()', { fn }, { timeout: ms }) as T;
}

/** The error is a LoopcheckError with one of `codes`, no internal bug behind it, and one printable line. */
function expectCleanError(e: unknown, codes: ErrorCode[]): LoopcheckError {
  if (!(e instanceof LoopcheckError)) throw new Error(`expected a LoopcheckError, got ${String(e)}`, { cause: e });
  expect(codes).toContain(e.code);
  // wav.ts wraps an unexpected exception of its own as "could not be decoded": that would be a bug.
  expect(e.message).not.toMatch(/could not be decoded/);
  const line = e.toLine();
  // The CLI prints this line as is: no line breaks, no terminal control characters (C0, DEL, C1), bounded length.
  expect(line).not.toMatch(/[\u0000-\u001f\u007f-\u009f]/);
  expect(line.length).toBeLessThan(600);
  return e;
}

/* ─────────────────────────────────────────── WAV reader ─────────────────────────────────────────── */

const BYTES_PER_SAMPLE: Record<string, number> = { pcm8: 1, pcm16: 2, pcm24: 3, pcm32: 4, float32: 4, float64: 8 };

/**
 * Decoded output is planar float32: at most 4 bytes per input byte (pcm8 → float32 is the worst ratio).
 * Slack: V8 keeps typed arrays ≤ 64 bytes on its heap and moves them to an ArrayBuffer when `.buffer` is
 * read (the decoder reads it for its DataView) — ≤ 64 bytes per array; 4 KiB is far more than that and a
 * millionth of the 4 GiB claims under test.
 */
const SLACK_BYTES = 4096;

/** Decodes under a memory measurement; checks the result is sane and bounded by the bytes present. */
function decodeChecked(bytes: Uint8Array): WavDecoded {
  const before = process.memoryUsage().arrayBuffers;
  const r = decodeWav(bytes, 'hostile.wav');
  const grew = process.memoryUsage().arrayBuffers - before;
  expect(grew).toBeLessThanOrEqual(4 * bytes.length + SLACK_BYTES);
  const { info, audio } = r;
  expect(Number.isInteger(info.sampleRate) && info.sampleRate >= 1 && info.sampleRate <= 0xffffffff).toBe(true);
  expect(audio.sampleRate).toBe(info.sampleRate);
  expect(Number.isInteger(info.channels) && info.channels >= 1 && info.channels <= 0xffff).toBe(true);
  expect(audio.channels).toHaveLength(info.channels);
  const bps = BYTES_PER_SAMPLE[info.format]!;
  expect(info.frames * info.channels * bps).toBeLessThanOrEqual(bytes.length);
  let retained = 0;
  for (const ch of audio.channels) {
    // Plain checks (up to 65535 channels): one failure message each.
    if (!(ch instanceof Float32Array) || ch.length !== info.frames) throw new Error(`channel is not a Float32Array of ${info.frames} frames`);
    retained += ch.byteLength;
    // Integer PCM decodes into [−1, 1); float formats pass any bit pattern (NaN/Inf are analysis's business).
    if (!info.format.startsWith('float')) for (const v of ch) if (!(v >= -1 && v < 1)) throw new Error(`${info.format} sample ${v} outside [−1, 1)`);
  }
  expect(retained).toBeLessThanOrEqual(4 * bytes.length);
  for (const w of r.warnings) expect(w).not.toMatch(/[\r\n]/);
  return r;
}

describe('WAV reader: structured hostile files', () => {
  for (const c of hostileCorpus()) {
    it(`${c.name} → ${c.refused ? 'INVALID_FILE' : 'a small, sane decode'}`, () => {
      let result: WavDecoded | undefined;
      let error: unknown;
      withHangGuard(() => {
        try {
          result = decodeChecked(c.bytes);
        } catch (e) {
          error = e;
        }
      });
      if (c.refused) {
        expect(result).toBeUndefined();
        expectCleanError(error, ['INVALID_FILE']);
      } else {
        if (error !== undefined) throw error;
        expect(result!.info.frames * result!.info.channels * 4).toBeLessThanOrEqual(4 * c.bytes.length);
      }
    });
  }

  it('the 4 GiB data claim reads the 64 bytes present, flagged truncated', () => {
    const c = hostileCorpus().find((x) => x.name === 'data-claims-4gib')!;
    const r = decodeWav(c.bytes);
    expect(r.info.truncated).toBe(true);
    expect(r.info.frames).toBe(16); // 64 bytes / (2 ch × 2 bytes)
    expect(r.warnings.join(' ')).toMatch(/claims 4294967294 bytes but only 64 are present/);
  });

  it('20000 seeded random structured files: only INVALID_FILE or a sane decode bounded by the file size', () => {
    const rng = createRng(7);
    let decoded = 0;
    let refused = 0;
    let largest = 0;
    withHangGuard(() => {
      for (let t = 0; t < 20000; t++) {
        const bytes = randomHostileWav(rng);
        largest = Math.max(largest, bytes.length);
        try {
          decodeChecked(bytes);
          decoded++;
        } catch (e) {
          if (!(e instanceof LoopcheckError)) throw e; // an assertion failure of decodeChecked, or a bug
          expectCleanError(e, ['INVALID_FILE']);
          refused++;
        }
      }
    });
    // Both outcomes well represented, so the generator exercises the decoder and not only its first check.
    expect(decoded).toBeGreaterThan(1000);
    expect(refused).toBeGreaterThan(1000);
    expect(largest).toBeLessThan(64 * 1024);
  });

  it('5000 files of pure random bytes, some behind a valid RIFF/WAVE header: only INVALID_FILE or a sane decode', () => {
    const rng = createRng(11);
    let outcomes = 0;
    withHangGuard(() => {
      for (let t = 0; t < 5000; t++) {
        const n = rng.int(0, 300);
        const b = new Uint8Array(n);
        for (let i = 0; i < n; i++) b[i] = rng.int(0, 256);
        if (t % 2 === 0 && n >= 12) b.set([0x52, 0x49, 0x46, 0x46, b[4]!, b[5]!, b[6]!, b[7]!, 0x57, 0x41, 0x56, 0x45], 0);
        try {
          decodeChecked(b);
        } catch (e) {
          if (!(e instanceof LoopcheckError)) throw e;
          expectCleanError(e, ['INVALID_FILE']);
        }
        outcomes++;
      }
    });
    expect(outcomes).toBe(5000);
  });
});

/* ─────────────────────────────────────────── --criteria ─────────────────────────────────────────── */

const CRITERIA_KEYS = Object.keys(CRITERIA_SPEC);
const HOSTILE_KEYS = ['__proto__', 'constructor', 'toString', 'hasOwnProperty', '', 'a\nb', '\u001b[2J', '\u009b2J\u007f', 'x'.repeat(5000), 'MAXLATENCYMS', 'maxLatencyMs '];
const HOSTILE_NUMBERS = [0, -0, 1, -1, 50, 1e308, -1e308, 5e-324, Number.MAX_SAFE_INTEGER, NaN, Infinity, -Infinity, 60000, 60000.0001, 1e6, -200, 400];

function randomJson(rng: Rng, depth: number): unknown {
  const r = rng.next();
  if (depth <= 0 || r < 0.4) {
    const s = rng.next();
    if (s < 0.5) return HOSTILE_NUMBERS[rng.int(0, HOSTILE_NUMBERS.length)]!;
    if (s < 0.65) return String(HOSTILE_NUMBERS[rng.int(0, HOSTILE_NUMBERS.length)]);
    if (s < 0.75) return null;
    if (s < 0.85) return rng.next() < 0.5;
    return HOSTILE_KEYS[rng.int(0, HOSTILE_KEYS.length)]!;
  }
  if (r < 0.55) return Array.from({ length: rng.int(0, 4) }, () => randomJson(rng, depth - 1));
  const o: Record<string, unknown> = {};
  for (let i = rng.int(0, 5); i > 0; i--) {
    const key = rng.next() < 0.7 ? CRITERIA_KEYS[rng.int(0, CRITERIA_KEYS.length)]! : HOSTILE_KEYS[rng.int(0, HOSTILE_KEYS.length)]!;
    // defineProperty: a "__proto__" key becomes an own property, as JSON.parse makes it.
    Object.defineProperty(o, key, { value: randomJson(rng, depth - 1), enumerable: true, configurable: true, writable: true });
  }
  return o;
}

/** A parsed Criteria holds only known keys, each a finite number inside its documented range. */
function expectSaneCriteria(c: unknown): void {
  expect(Object.getPrototypeOf(c)).toBe(Object.prototype);
  for (const [k, v] of Object.entries(c as Record<string, unknown>)) {
    expect(CRITERIA_KEYS).toContain(k);
    const spec = CRITERIA_SPEC[k as keyof typeof CRITERIA_SPEC];
    expect(typeof v === 'number' && Number.isFinite(v) && v >= spec.min && v <= spec.max).toBe(true);
  }
}

describe('--criteria: hostile values and files', () => {
  it('5000 seeded random JSON values: a sane Criteria or INVALID_ARGUMENT on one line', () => {
    const rng = createRng(3);
    let accepted = 0;
    let refused = 0;
    withHangGuard(() => {
      for (let t = 0; t < 5000; t++) {
        const value = randomJson(rng, 3);
        try {
          expectSaneCriteria(parseCriteria(value, 'criteria.json'));
          accepted++;
        } catch (e) {
          if (!(e instanceof LoopcheckError)) throw e;
          expectCleanError(e, ['INVALID_ARGUMENT']);
          refused++;
        }
      }
    });
    expect(accepted).toBeGreaterThan(100);
    expect(refused).toBeGreaterThan(1000);
    expect(({} as Record<string, unknown>).maxLatencyMs).toBeUndefined(); // no prototype pollution
  });

  it('hostile files (random bytes, mutated JSON, deep nesting, BOM, UTF-16, > 64 KiB, a directory, missing): INVALID_ARGUMENT on one line', async () => {
    const rng = createRng(5);
    const files: string[] = [];
    const write = (name: string, content: string | Uint8Array): void => {
      const p = join(tmp, name);
      writeFileSync(p, content);
      files.push(p);
    };
    const good = JSON.stringify({ maxLatencyMs: 50, maxDropouts: 0, minSnrDb: 40 });
    for (let i = 0; i < 150; i++) {
      const b = Uint8Array.from({ length: rng.int(0, 200) }, () => rng.int(0, 256));
      write(`bytes-${i}.json`, b);
      const m = Buffer.from(good.slice(0, rng.int(0, good.length + 1)));
      for (let f = rng.int(0, 3); f > 0 && m.length > 0; f--) m[rng.int(0, m.length)] = rng.int(0, 256);
      write(`mutated-${i}.json`, m);
    }
    write('deep-arrays.json', '['.repeat(30000) + ']'.repeat(30000));
    write('deep-objects.json', '{"a":'.repeat(10000) + '1' + '}'.repeat(10000));
    write('bom.json', `\ufeff${good}`);
    write('utf16.json', Buffer.from(good, 'utf16le'));
    write('too-big.json', `{"comment": "${'x'.repeat(70 * 1024)}"}`);
    write('newline-key.json', '{"max\\nLatencyMs": 1}');
    write('escape-key.json', '{"\\u001b[31mred": 1}');
    write('nul.json', '\u0000\n{');
    mkdirSync(join(tmp, 'a-directory.json'));
    files.push(join(tmp, 'a-directory.json'), join(tmp, 'missing.json'));
    let accepted = 0;
    for (const f of files) {
      try {
        expectSaneCriteria(await loadCriteria(f));
        accepted++;
      } catch (e) {
        expectCleanError(e, ['INVALID_ARGUMENT', 'INVALID_FILE']);
      }
    }
    // Only untouched prefixes of the good file can pass (whole file, or a mutation that kept it valid).
    expect(accepted).toBeLessThan(20);
  });
});

/* ─────────────────────────────────────────── --impair ─────────────────────────────────────────── */

const IMPAIR_TOKENS = [
  ...IMPAIRMENT_KEYS, 'LATENCYMS', 'seed', 'noiseDb', '__proto__', 'constructor', 'toString', '=', '=', ',', ',', ' ', '\t', '\n', '\u0000', '\u001b[2J', '\u007f', '\u009b',
  '0', '1', '7', '40', '-1', '+2', '.5', '5.', '1e3', '1e-3', '1e999', '-0', '0x10', '1_000', 'NaN', 'Infinity', '-inf', 'none', 'off', 'é', '٣', '\u2028',
];

function randomImpairSpec(rng: Rng): string {
  if (rng.next() < 0.05) return 'x'.repeat(rng.int(0, 200_000)) + '=1';
  let s = '';
  for (let i = rng.int(0, 12); i > 0; i--) s += IMPAIR_TOKENS[rng.int(0, IMPAIR_TOKENS.length)]!;
  return s;
}

/** Independent check of an accepted Impairments: every key, numbers in the documented ranges. */
function expectSaneImpairments(v: Impairments): void {
  expect(Object.keys(v).sort()).toEqual([...IMPAIRMENT_KEYS].sort());
  for (const k of IMPAIRMENT_KEYS) {
    const x = v[k];
    expect(typeof x).toBe('number');
    if (k === 'noiseDb' && x === -Infinity) continue;
    expect(Number.isFinite(x)).toBe(true);
  }
  expect(Number.isInteger(v.seed) && v.seed >= 0 && v.seed <= 0xffffffff).toBe(true);
  for (const k of ['dropouts', 'zeroFills', 'clicks'] as const) expect(Number.isInteger(v[k]) && v[k] >= 0 && v[k] <= 1000).toBe(true);
  expect(v.latencyMs >= 0 && v.latencyMs < 10000 && v.dropoutMs > 0 && v.dropoutMs <= 1000 && Math.abs(v.driftPpm) <= 10000).toBe(true);
}

describe('--impair: hostile strings and records', () => {
  it('20000 seeded random key=value strings: sane impairments or INVALID_ARGUMENT on one line', () => {
    const rng = createRng(9);
    let accepted = 0;
    let refused = 0;
    withHangGuard(() => {
      for (let t = 0; t < 20000; t++) {
        const spec = randomImpairSpec(rng);
        try {
          expectSaneImpairments(parseImpairments(spec));
          accepted++;
        } catch (e) {
          if (!(e instanceof LoopcheckError)) throw e;
          expectCleanError(e, ['INVALID_ARGUMENT']);
          refused++;
        }
      }
    });
    expect(accepted).toBeGreaterThan(500);
    expect(refused).toBeGreaterThan(5000);
  });

  it('5000 seeded random JSON records (the API path): sane impairments or INVALID_ARGUMENT on one line', () => {
    const rng = createRng(13);
    let accepted = 0;
    withHangGuard(() => {
      for (let t = 0; t < 5000; t++) {
        // Records keyed by impairment names (mixed with hostile keys), values from the hostile number set.
        const value = randomJson(rng, 2);
        const record: Record<string, unknown> = {};
        if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
          for (const v of Object.values(value)) record[IMPAIRMENT_KEYS[rng.int(0, IMPAIRMENT_KEYS.length)]!] = v;
        }
        for (const candidate of [value, record]) {
          try {
            expectSaneImpairments(resolveImpairments(candidate as Record<string, unknown>));
            accepted++;
          } catch (e) {
            if (!(e instanceof LoopcheckError)) throw e;
            expectCleanError(e, ['INVALID_ARGUMENT']);
          }
        }
      }
    });
    expect(accepted).toBeGreaterThan(100);
    expect(resolveImpairments(undefined)).toEqual(DEFAULT_IMPAIRMENTS);
  });
});

/* ─────────────────────────────────────────── analysis ─────────────────────────────────────────── */

const rate = 48000;
function white(n: number, seed: number): Float32Array {
  const rng = createRng(seed);
  const x = new Float32Array(n);
  for (let i = 0; i < n; i++) x[i] = 0.25 * rng.gaussian();
  return x;
}
const ref = white(rate, 1);
const cap = throughDevice(ref, { latencySamples: 100, length: rate + 2000 });
const mono = (x: Float32Array) => ({ sampleRate: rate, channels: [x] });

/** Every number anywhere in the result (metrics, response arrays) is finite. */
function nonFinitePaths(o: unknown, path = 'result'): string[] {
  if (typeof o === 'number') return Number.isFinite(o) ? [] : [path];
  if (o === null || typeof o !== 'object') return [];
  if (ArrayBuffer.isView(o)) return Array.from(o as Float32Array).some((v) => !Number.isFinite(v)) ? [path] : [];
  return Object.entries(o).flatMap(([k, v]) => nonFinitePaths(v, `${path}.${k}`));
}

describe('analysis of broken captures: a clear answer', () => {
  const notFound: Array<[string, Float32Array, RegExp]> = [
    ['all NaN', new Float32Array(rate).fill(NaN), /48000 non-finite samples.*treated as silence/],
    ['all +Inf', new Float32Array(rate).fill(Infinity), /48000 non-finite samples/],
    ['all zeros', new Float32Array(rate), /capture channel 0 is silent/],
    ['empty', new Float32Array(0), /capture channel 0 is silent/],
    ['full-scale DC (clipped flat)', new Float32Array(rate).fill(1), /the reference was not found/],
    // Finite but beyond any audio scale: the float32 correlation overflows; reported as not found, finite.
    ['samples of ±1e30', cap.map((v) => v * 1e30), /the reference was not found/],
  ];
  for (const [what, c, warning] of notFound) {
    it(`${what}: signalFound false, metrics null, a warning saying why`, () => {
      const r = analyze(mono(ref), mono(c));
      expect(r.signalFound).toBe(false);
      expect([r.latency, r.gainDb, r.snrDb, r.driftPpm]).toEqual([null, null, null, null]);
      expect(r.warnings?.join(' | ')).toMatch(warning);
      expect(nonFinitePaths(r)).toEqual([]);
    });
  }

  it('NaN and Inf mixed into a good capture: zeroed with a warning, latency still found, all numbers finite', () => {
    const c = cap.slice();
    for (let i = 5000; i < 5480; i++) c[i] = i % 2 ? NaN : -Infinity; // 10 ms of garbage
    const r = analyze(mono(ref), mono(c));
    expect(r.signalFound).toBe(true);
    expect(r.warnings?.some((w) => /480 non-finite samples/.test(w))).toBe(true);
    // ±0.05 sample: measured < 0.01 off; the zeroed 10 ms do not move a 1 s broadband correlation peak.
    expect(Math.abs(r.latency!.samples - 100)).toBeLessThan(0.05);
    expect(r.dropouts.some((d) => d.kind === 'silence' && Math.abs(d.atSeconds - 5000 / rate) < 0.005)).toBe(true);
    expect(nonFinitePaths(r)).toEqual([]);
  });

  for (const [what, c] of [
    ['hard-clipped at ±1 (40 dB too hot)', cap.map((v) => Math.max(-1, Math.min(1, v * 100)))],
    ['one-bit (sign only)', cap.map((v) => (v >= 0 ? 1 : -1))],
  ] as const) {
    it(`${what}: found, latency right, low SNR, every number finite`, () => {
      const r = analyze(mono(ref), mono(c));
      expect(r.signalFound).toBe(true);
      // ±0.05 sample: clipping is a memoryless odd nonlinearity, the correlation peak stays at the true lag
      // (measured 0.01 off on this seed).
      expect(Math.abs(r.latency!.samples - 100)).toBeLessThan(0.05);
      // Clipping distortion dominates the residual: SNR of a few dB (measured 2.4–2.7 dB), never "clean".
      expect(r.snrDb!).toBeLessThan(10);
      expect(r.bitExact).toBe(false);
      expect(nonFinitePaths(r)).toEqual([]);
    });
  }

  it('a broken reference is an error naming the problem (NaN ⇒ INVALID_FILE; silent or denormal ⇒ INVALID_ARGUMENT)', () => {
    const withNaN = ref.slice();
    withNaN[123] = NaN;
    const cases: Array<[Float32Array, ErrorCode, RegExp]> = [
      [withNaN, 'INVALID_FILE', /non-finite sample \(NaN or Inf\) at frame 123/],
      [new Float32Array(rate), 'INVALID_ARGUMENT', /reference channel 0 is silent \(all zeros\)/],
      [new Float32Array(0), 'INVALID_ARGUMENT', /reference channel 0 is silent/],
      // Peak 1e-35 (denormal range): the transfer function overflowed float32 and the impulse response was NaN
      // before the MIN_REFERENCE_PEAK floor.
      [ref.map((v) => v * 1e-35), 'INVALID_ARGUMENT', /reference channel 0 is silent \(peak -\d+\.\d dBFS, below -186\.6 dBFS\)/],
    ];
    for (const [r, code, message] of cases) {
      let error: unknown;
      try {
        analyze(mono(r), mono(cap));
      } catch (e) {
        error = e;
      }
      expect(expectCleanError(error, [code]).message).toMatch(message);
    }
  });

  it('a reference just above the floor still analyses with finite numbers', () => {
    // Peak at twice the floor (−180.6 dBFS): a legal if absurd reference; gain then reads ~+180 dB.
    const peak = ref.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
    const quiet = ref.map((v) => (v / peak) * 2 * MIN_REFERENCE_PEAK);
    const r = analyze(mono(quiet), mono(cap));
    expect(r.signalFound).toBe(true);
    expect(nonFinitePaths(r)).toEqual([]);
  });
});
