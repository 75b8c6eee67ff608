import { describe, expect, it } from 'vitest';
import { DEFAULT_IMPAIRMENTS, IMPAIRMENT_KEYS, parseImpairments, resolveImpairments } from '../../src/backends/impairments.js';
import { LoopcheckError } from '../../src/errors.js';

function errorOf(fn: () => unknown): LoopcheckError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(LoopcheckError);
    return e as LoopcheckError;
  }
  throw new Error('expected a LoopcheckError, nothing was thrown');
}

describe('parseImpairments', () => {
  it('parses every key of the documented example and keeps defaults for the rest', () => {
    const imp = parseImpairments('latencyMs=40,jitterMs=2,dropouts=2,dropoutMs=10,noiseDb=-60,gainDb=-3,driftPpm=50,seed=7');
    expect(imp).toEqual({ ...DEFAULT_IMPAIRMENTS, latencyMs: 40, jitterMs: 2, dropouts: 2, dropoutMs: 10, noiseDb: -60, gainDb: -3, driftPpm: 50, seed: 7 });
    expect(parseImpairments('zeroFills=3, clicks=1')).toMatchObject({ zeroFills: 3, clicks: 1, dropouts: 0 });
  });

  it('has the documented defaults (noise off = −Infinity) for an empty spec', () => {
    expect(parseImpairments('')).toEqual({
      latencyMs: 20, jitterMs: 0, dropouts: 0, zeroFills: 0, clicks: 0, dropoutMs: 10, noiseDb: -Infinity, gainDb: 0, driftPpm: 0, seed: 1,
    });
    expect(parseImpairments(' , ,')).toEqual(DEFAULT_IMPAIRMENTS);
  });

  it('accepts keys case-insensitively, whitespace, exponents, negative drift and -inf noise', () => {
    expect(parseImpairments(' LATENCYMS = 1.5e1 , driftppm=-250, noiseDb=-inf')).toMatchObject({ latencyMs: 15, driftPpm: -250, noiseDb: -Infinity });
    expect(parseImpairments('noiseDb=none').noiseDb).toBe(-Infinity);
  });

  it('rejects an unknown key and lists the valid keys', () => {
    const e = errorOf(() => parseImpairments('latency=40'));
    expect(e.code).toBe('INVALID_ARGUMENT');
    expect(e.message).toContain('"latency"');
    for (const k of IMPAIRMENT_KEYS) expect(e.message).toContain(k);
  });

  it.each([
    ['latencyMs=10000', 'latencyMs', '10000'],
    ['latencyMs=-1', 'latencyMs', '0 ≤ latencyMs'],
    ['driftPpm=10001', 'driftPpm', '10000'],
    ['driftPpm=-10001', 'driftPpm', '10000'],
    ['jitterMs=-0.5', 'jitterMs', '0 ≤ jitterMs'],
    ['dropouts=1.5', 'dropouts', 'integer'],
    ['dropouts=-1', 'dropouts', 'integer'],
    ['dropoutMs=0', 'dropoutMs', '0 < dropoutMs'],
    ['seed=-1', 'seed', '4294967295'],
    ['seed=4294967296', 'seed', '4294967295'],
    ['noiseDb=3', 'noiseDb', 'dBFS'],
    ['gainDb=abc', 'gainDb', 'not a number'],
    ['latencyMs=', 'latencyMs', 'not a number'],
    ['latencyMs=0x10', 'latencyMs', 'not a number'],
    ['latencyMs=NaN', 'latencyMs', 'not a number'],
    ['latencyMs=Infinity', 'latencyMs', 'not a number'],
    ['gainDb=1e999', 'gainDb', 'out of range'],
    ['latencyMs', 'latencyMs', 'no value'],
    ['latencyMs=1,latencyMs=2', 'latencyMs', 'twice'],
  ])('rejects %s naming the key and the valid range', (spec, key, fragment) => {
    const e = errorOf(() => parseImpairments(spec));
    expect(e.code).toBe('INVALID_ARGUMENT');
    expect(e.message).toContain(key);
    expect(e.message).toContain(fragment);
    expect(e.hint).toBeTruthy();
  });

  it('never throws anything but INVALID_ARGUMENT on hostile input', () => {
    const hostile = [
      '=', '==', 'a=b=c', 'latencyMs=1=2', ',=,', '\u0000', 'läténcy=5', '🙂=1', 'latencyMs=🙂', '__proto__=1', 'constructor=1',
      'toString=2', Array.from({ length: 10_000 }, (_, i) => `k${i}=${i}`).join(','), 'x'.repeat(100_000), `latencyMs=${'9'.repeat(400)}`,
    ];
    for (const spec of hostile) {
      const e = errorOf(() => parseImpairments(spec));
      expect(e.code).toBe('INVALID_ARGUMENT');
      // Echoed input is clipped so a hostile spec cannot produce a huge message.
      expect(e.message.length).toBeLessThan(400);
    }
    expect(errorOf(() => parseImpairments(undefined as unknown as string)).code).toBe('INVALID_ARGUMENT');
  });
});

describe('resolveImpairments', () => {
  it('validates a record the same way and fills defaults', () => {
    expect(resolveImpairments({ latencyMs: 40, seed: 9 })).toEqual({ ...DEFAULT_IMPAIRMENTS, latencyMs: 40, seed: 9 });
    expect(resolveImpairments(undefined)).toEqual(DEFAULT_IMPAIRMENTS);
    expect(errorOf(() => resolveImpairments({ latencyMs: Number.NaN })).message).toContain('latencyMs');
    expect(errorOf(() => resolveImpairments({ latencyMs: '5' as unknown as number })).code).toBe('INVALID_ARGUMENT');
    expect(errorOf(() => resolveImpairments({ bogus: 1 })).message).toContain('valid keys');
    expect(errorOf(() => resolveImpairments({ latencyMs: 1, LatencyMs: 2 })).message).toContain('twice');
  });
});
