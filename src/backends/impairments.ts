/**
 * The virtual backend's impairments: `--impair latencyMs=40,jitterMs=2,dropouts=2,…`.
 *
 * Units and meaning (each one is measurable in the capture, design.md "Backends"):
 * - latencyMs  write → loopback delay of frame 0 of every played signal, ms (0 ≤ x < 10000).
 * - jitterMs   σ of the delivery jitter, ms: receivedAt = chunk end + |gaussian|·jitterMs (clamped to 6σ).
 * - dropouts   `gap` dropouts per played signal (audio lost, the rest of the stream moves earlier).
 * - zeroFills  `silence` dropouts per played signal (audio replaced by zeros, timeline kept).
 * - clicks     `click` dropouts per played signal (one sample ±0.5 added, timeline kept).
 * - dropoutMs  length of each gap and zero-fill, ms.
 * - noiseDb    RMS of added Gaussian noise, dBFS (20·log10 of the RMS re 1.0); −Infinity (default) = none.
 * - gainDb     20·log10(capture / reference).
 * - driftPpm   (capture clock / reference clock − 1)·1e6: positive = the capture holds more samples.
 * - seed       seed of every random choice (noise, jitter, placement); same seed ⇒ bit-identical capture.
 */
import { LoopcheckError } from '../errors.js';

export type Impairments = {
  latencyMs: number;
  jitterMs: number;
  dropouts: number;
  zeroFills: number;
  clicks: number;
  dropoutMs: number;
  noiseDb: number;
  gainDb: number;
  driftPpm: number;
  seed: number;
};

export const DEFAULT_IMPAIRMENTS: Readonly<Impairments> = Object.freeze({
  latencyMs: 20,
  jitterMs: 0,
  dropouts: 0,
  zeroFills: 0,
  clicks: 0,
  dropoutMs: 10,
  noiseDb: -Infinity,
  gainDb: 0,
  driftPpm: 0,
  seed: 1,
});

interface KeyRule {
  /** Inclusive bounds unless `maxExclusive`. */
  min: number;
  max: number;
  maxExclusive?: boolean;
  minExclusive?: boolean;
  integer?: boolean;
  /** −Infinity is accepted (noiseDb: no noise). */
  allowMinusInfinity?: boolean;
  range: string;
}

const RULES: Record<keyof Impairments, KeyRule> = {
  latencyMs: { min: 0, max: 10000, maxExclusive: true, range: '0 ≤ latencyMs < 10000 (ms)' },
  jitterMs: { min: 0, max: 1000, range: '0 ≤ jitterMs ≤ 1000 (ms)' },
  dropouts: { min: 0, max: 1000, integer: true, range: 'an integer 0…1000 (gaps per played signal)' },
  zeroFills: { min: 0, max: 1000, integer: true, range: 'an integer 0…1000 (zero-fills per played signal)' },
  clicks: { min: 0, max: 1000, integer: true, range: 'an integer 0…1000 (clicks per played signal)' },
  dropoutMs: { min: 0, max: 1000, minExclusive: true, range: '0 < dropoutMs ≤ 1000 (ms)' },
  noiseDb: { min: -300, max: 0, allowMinusInfinity: true, range: '−300 ≤ noiseDb ≤ 0 (dBFS RMS), or -inf / none for no noise' },
  gainDb: { min: -120, max: 24, range: '−120 ≤ gainDb ≤ 24 (dB)' },
  driftPpm: { min: -10000, max: 10000, range: '|driftPpm| ≤ 10000 (ppm)' },
  seed: { min: 0, max: 0xffffffff, integer: true, range: 'an integer 0…4294967295' },
};

export const IMPAIRMENT_KEYS = Object.keys(RULES) as (keyof Impairments)[];

const VALID_KEYS_TEXT = IMPAIRMENT_KEYS.join(', ');
const HINT = 'write --impair key=value,… e.g. --impair latencyMs=40,dropouts=2,seed=7';

/** Keeps echoed user input short and printable in error messages (C0 escaped by JSON, DEL and C1 here). */
function quote(text: string): string {
  const clipped = text.length > 40 ? `${text.slice(0, 40)}…` : text;
  return JSON.stringify(clipped).replace(/[\u007f-\u009f]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

function invalid(message: string): LoopcheckError {
  return new LoopcheckError('INVALID_ARGUMENT', message, { hint: HINT });
}

const lowerToKey = new Map<string, keyof Impairments>(IMPAIRMENT_KEYS.map((k) => [k.toLowerCase(), k]));

function canonicalKey(raw: string): keyof Impairments {
  const key = lowerToKey.get(raw.trim().toLowerCase());
  if (key === undefined) throw invalid(`unknown impairment ${quote(raw.trim())}; valid keys: ${VALID_KEYS_TEXT}`);
  return key;
}

const DECIMAL = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;
const MINUS_INFINITY = new Set(['-inf', '-infinity', 'none', 'off']);

/** Parses one value text; decimal numbers only (no hex, no empty string), −inf words where allowed. */
function parseValue(key: keyof Impairments, text: string): number {
  const t = text.trim();
  const rule = RULES[key];
  if (rule.allowMinusInfinity && MINUS_INFINITY.has(t.toLowerCase())) return -Infinity;
  if (!DECIMAL.test(t)) throw invalid(`impairment ${key}=${quote(t)} is not a number; ${key} must be ${rule.range}`);
  return Number(t);
}

function checkValue(key: keyof Impairments, value: unknown): number {
  const rule = RULES[key];
  if (typeof value !== 'number' || Number.isNaN(value)) {
    throw invalid(`impairment ${key} must be a number, got ${typeof value === 'number' ? 'NaN' : typeof value}; ${key} must be ${rule.range}`);
  }
  if (value === -Infinity && rule.allowMinusInfinity) return value;
  const low = rule.minExclusive ? value <= rule.min : value < rule.min;
  const high = rule.maxExclusive ? value >= rule.max : value > rule.max;
  if (!Number.isFinite(value) || low || high || (rule.integer && !Number.isInteger(value))) {
    throw invalid(`impairment ${key}=${value} is out of range; ${key} must be ${rule.range}`);
  }
  return value;
}

/**
 * Validates a key → number record (OpenOptions.impair) and fills defaults. Keys are matched
 * case-insensitively; unknown keys, non-numbers and out-of-range values throw INVALID_ARGUMENT.
 */
export function resolveImpairments(record: Record<string, unknown> | undefined): Impairments {
  const out: Impairments = { ...DEFAULT_IMPAIRMENTS };
  if (record === undefined) return out;
  if (record === null || typeof record !== 'object') throw invalid('impairments must be an object of key → number');
  const seen = new Set<string>();
  for (const [raw, value] of Object.entries(record)) {
    const key = canonicalKey(raw);
    if (seen.has(key)) throw invalid(`impairment ${key} is given twice`);
    seen.add(key);
    out[key] = checkValue(key, value);
  }
  return out;
}

/**
 * Parses `k=v,k=v` (whitespace around keys and values ignored; an empty spec or empty items mean defaults).
 * Every failure is a LoopcheckError INVALID_ARGUMENT naming the key and the valid range.
 */
export function parseImpairments(spec: string): Impairments {
  if (typeof spec !== 'string') throw invalid('impairments must be a string of key=value pairs');
  const record: Record<string, number> = Object.create(null) as Record<string, number>;
  const seen = new Set<string>();
  for (const item of spec.split(',')) {
    if (item.trim() === '') continue;
    const eq = item.indexOf('=');
    if (eq < 0) throw invalid(`impairment ${quote(item.trim())} has no value; expected key=value with key one of ${VALID_KEYS_TEXT}`);
    const key = canonicalKey(item.slice(0, eq));
    const valueText = item.slice(eq + 1);
    if (valueText.includes('=')) throw invalid(`impairment ${quote(item.trim())} has more than one "="; expected key=value`);
    if (seen.has(key)) throw invalid(`impairment ${key} is given twice`);
    seen.add(key);
    record[key] = parseValue(key, valueText);
  }
  return resolveImpairments(record);
}
