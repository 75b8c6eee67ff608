/**
 * Known-answer cases for dropout detection: a reference, a capture made from it through a simulated device
 * (dsp/impair.ts) with impairments at known places, the truth Alignment (exact latency, ratio and offsets,
 * with segment boundaries deliberately rounded to 4096-sample blocks as align.ts delivers them), and the
 * dropouts that must be found.
 */
import { createRng } from '../../src/dsp/random.js';
import { addClick, addNoise, removeSpan, throughDevice, zeroSpan } from '../../src/dsp/impair.js';
import type { Alignment, AlignmentSegment, Dropout, DropoutKind } from '../../src/analysis/types.js';

export type Material = 'sweep' | 'white' | 'pink' | 'tone';

// ---- reference material (levels: sweep and tone peak −6 dBFS; noise RMS −12 dBFS, peaks stay < 1) ----

export function silence(seconds: number, rate: number): Float32Array {
  return new Float32Array(Math.round(seconds * rate));
}

/** Exponential sweep f1…f2, peak `amp`, 5 ms raised-cosine fades. */
export function logSweep(seconds: number, rate: number, f1 = 20, f2 = 0.45 * rate, amp = 0.5): Float32Array {
  const n = Math.round(seconds * rate);
  const L = seconds / Math.log(f2 / f1);
  const fade = Math.round(0.005 * rate);
  const x = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const t = i / rate;
    let w = 1;
    if (i < fade) w = 0.5 - 0.5 * Math.cos((Math.PI * i) / fade);
    else if (i >= n - fade) w = 0.5 - 0.5 * Math.cos((Math.PI * (n - 1 - i)) / fade);
    x[i] = amp * w * Math.sin(2 * Math.PI * f1 * L * (Math.exp(t / L) - 1));
  }
  return x;
}

export function tone(hz: number, seconds: number, rate: number, amp = 0.5): Float32Array {
  const n = Math.round(seconds * rate);
  const x = new Float32Array(n);
  for (let i = 0; i < n; i++) x[i] = amp * Math.sin((2 * Math.PI * hz * i) / rate);
  return x;
}

export function whiteNoise(seconds: number, rate: number, seed: number, rmsDbfs = -12): Float32Array {
  const rng = createRng(seed);
  const s = 10 ** (rmsDbfs / 20);
  const x = new Float32Array(Math.round(seconds * rate));
  for (let i = 0; i < x.length; i++) x[i] = s * rng.gaussian();
  return x;
}

/** Pink (−3 dB/octave) noise: Paul Kellet's refined filter on Gaussian white noise, scaled to `rmsDbfs`. */
export function pinkNoise(seconds: number, rate: number, seed: number, rmsDbfs = -12): Float32Array {
  const rng = createRng(seed);
  const x = new Float32Array(Math.round(seconds * rate));
  let b0 = 0, b1 = 0, b2 = 0, b3 = 0, b4 = 0, b5 = 0, b6 = 0;
  for (let i = 0; i < x.length; i++) {
    const w = rng.gaussian();
    b0 = 0.99886 * b0 + w * 0.0555179;
    b1 = 0.99332 * b1 + w * 0.0750759;
    b2 = 0.969 * b2 + w * 0.153852;
    b3 = 0.8665 * b3 + w * 0.3104856;
    b4 = 0.55 * b4 + w * 0.5329522;
    b5 = -0.7616 * b5 - w * 0.016898;
    x[i] = b0 + b1 + b2 + b3 + b4 + b5 + b6 + w * 0.5362;
    b6 = w * 0.115926;
  }
  let e = 0;
  for (const v of x) e += v * v;
  const k = 10 ** (rmsDbfs / 20) / Math.sqrt(e / x.length);
  for (let i = 0; i < x.length; i++) x[i]! *= k;
  return x;
}

export function concat(...parts: Float32Array[]): Float32Array {
  const out = new Float32Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

/**
 * Reference for a material, with where dropouts go (`spot`, reference seconds). The tone sits between
 * white-noise sections (broadband material defines the alignment); its spot is mid-tone.
 */
export function referenceFor(material: Material, rate: number, seed = 1): { reference: Float32Array; spot: number } {
  switch (material) {
    case 'sweep':
      return { reference: concat(silence(0.05, rate), logSweep(1.5, rate), silence(0.05, rate)), spot: 0.8 };
    case 'white':
      return { reference: whiteNoise(1.5, rate, seed), spot: 0.75 };
    case 'pink':
      return { reference: pinkNoise(1.5, rate, seed), spot: 0.75 };
    case 'tone':
      return { reference: concat(whiteNoise(0.25, rate, seed), tone(997, 1.0, rate), whiteNoise(0.25, rate, seed + 1)), spot: 0.75 };
  }
}

// ---- impairments and truth ----

export type Impairment =
  | { kind: 'gap'; atRefSeconds: number; frames: number }
  | { kind: 'silence'; atRefSeconds: number; frames: number }
  | { kind: 'click'; atRefSeconds: number; amplitude: number }
  /** Inserted audio (timeline moves later): zeros, or a repeat of the preceding `frames` samples. */
  | { kind: 'insert'; atRefSeconds: number; frames: number; content: 'zeros' | 'repeat' };

export interface ExpectedDropout {
  atSample: number;
  frames: number;
  kind: DropoutKind;
}

export interface CaseOptions {
  rate: number;
  reference: Float32Array;
  latencySamples?: number;
  driftPpm?: number;
  gainDb?: number;
  /** Added noise RMS, dBFS (before the dropouts: zero-fills are exact zeros). */
  noiseDbfs?: number;
  /** Extra capture after the reference's image, seconds. */
  tailSeconds?: number;
  impairments?: Impairment[];
  /** How segment boundaries are rounded to 4096-sample blocks (the alignment is only block-accurate). */
  rounding?: 'floor' | 'ceil' | 'round';
  seed?: number;
}

export interface DropoutCase {
  reference: Float32Array;
  capture: Float32Array;
  alignment: Alignment;
  expected: ExpectedDropout[];
  rate: number;
}

function insertSpan(x: Float32Array, at: number, frames: number, content: 'zeros' | 'repeat'): Float32Array {
  const y = new Float32Array(x.length + frames);
  y.set(x.subarray(0, at), 0);
  if (content === 'repeat') y.set(x.subarray(at - frames, at), at);
  y.set(x.subarray(at), at + frames);
  return y;
}

const BLOCK = 4096;

export function makeCase(o: CaseOptions): DropoutCase {
  const rate = o.rate;
  const latency = o.latencySamples ?? 1234.37;
  const ratio = 1 + (o.driftPpm ?? 0) * 1e-6;
  const length = Math.ceil(latency + o.reference.length * ratio + (o.tailSeconds ?? 0.1) * rate);
  let y = throughDevice(o.reference, { latencySamples: latency, driftPpm: o.driftPpm ?? 0, gainDb: o.gainDb ?? 0, length });
  if (o.noiseDbfs !== undefined) y = addNoise(y, o.noiseDbfs, o.seed ?? 7);

  // Positions on the unimpaired device output; applied last-first so earlier positions stay valid.
  const imps = (o.impairments ?? [])
    .map((imp) => ({ imp, p0: Math.round(latency + imp.atRefSeconds * rate * ratio) }))
    .sort((a, b) => a.p0 - b.p0);
  for (let i = imps.length - 1; i >= 0; i--) {
    const { imp, p0 } = imps[i]!;
    if (imp.kind === 'gap') y = removeSpan(y, p0, imp.frames);
    else if (imp.kind === 'silence') y = zeroSpan(y, p0, imp.frames);
    else if (imp.kind === 'click') y = addClick(y, p0, imp.amplitude);
    else y = insertSpan(y, p0, imp.frames, imp.content);
  }

  // Truth: final capture positions, expected dropouts, segments with block-rounded boundaries.
  const expected: ExpectedDropout[] = [];
  const segments: AlignmentSegment[] = [];
  let shift = 0;
  let offset = latency;
  let start = 0;
  const round = (p: number): number => {
    const q = p / BLOCK;
    return BLOCK * (o.rounding === 'floor' ? Math.floor(q) : o.rounding === 'ceil' ? Math.ceil(q) : Math.round(q));
  };
  for (const { imp, p0 } of imps) {
    const at = p0 + shift;
    if (imp.kind === 'gap') {
      expected.push({ atSample: at, frames: imp.frames, kind: 'gap' });
      const b = round(at);
      segments.push({ captureStart: start, captureEnd: b, offsetSamples: offset });
      start = b;
      offset -= imp.frames;
      shift -= imp.frames;
    } else if (imp.kind === 'insert') {
      expected.push({ atSample: at, frames: imp.frames, kind: imp.content === 'zeros' ? 'silence' : 'gap' });
      const b = round(at);
      segments.push({ captureStart: start, captureEnd: b, offsetSamples: offset });
      start = b;
      offset += imp.frames;
      shift += imp.frames;
    } else if (imp.kind === 'silence') {
      expected.push({ atSample: at, frames: imp.frames, kind: 'silence' });
    } else {
      expected.push({ atSample: at, frames: 1, kind: 'click' });
    }
  }
  segments.push({ captureStart: start, captureEnd: y.length, offsetSamples: offset });

  const alignment: Alignment = {
    latency: { samples: latency, ms: (latency / rate) * 1000, confidence: 1 },
    ratio,
    driftPpm: (o.driftPpm ?? 0),
    segments,
    correlation: 1,
  };
  return { reference: o.reference, capture: y, alignment, expected, rate };
}

/** Spec tolerances: position ±10 ms; duration within max(1.5 ms, 25 %). */
export const POSITION_TOLERANCE_MS = 10;
export function durationToleranceMs(expectedMs: number): number {
  return Math.max(1.5, 0.25 * expectedMs);
}

export interface MatchReport {
  problems: string[];
  /** Worst |found − expected| over matched dropouts. */
  maxPositionErrorMs: number;
  maxDurationErrorMs: number;
}

/** One-to-one match of found dropouts to the truth: every expected one found with the right kind, none extra. */
export function matchDropouts(found: Dropout[], expected: ExpectedDropout[], rate: number): MatchReport {
  const problems: string[] = [];
  const left = [...found];
  let maxPositionErrorMs = 0;
  let maxDurationErrorMs = 0;
  for (const ex of expected) {
    const exAtMs = (ex.atSample / rate) * 1000;
    const exMs = (ex.frames / rate) * 1000;
    let bestI = -1;
    let bestErr = Infinity;
    left.forEach((d, i) => {
      const err = Math.abs(d.atSeconds * 1000 - exAtMs);
      if (err < bestErr) {
        bestErr = err;
        bestI = i;
      }
    });
    if (bestI < 0 || bestErr > POSITION_TOLERANCE_MS) {
      problems.push(`missed ${ex.kind} at ${exAtMs.toFixed(2)} ms (${exMs.toFixed(2)} ms)`);
      continue;
    }
    const d = left.splice(bestI, 1)[0]!;
    const durErr = Math.abs(d.durationMs - exMs);
    maxPositionErrorMs = Math.max(maxPositionErrorMs, bestErr);
    maxDurationErrorMs = Math.max(maxDurationErrorMs, durErr);
    if (d.kind !== ex.kind) problems.push(`${ex.kind} at ${exAtMs.toFixed(2)} ms reported as ${d.kind}`);
    if (durErr > durationToleranceMs(exMs)) {
      problems.push(`${ex.kind} at ${exAtMs.toFixed(2)} ms: duration ${d.durationMs.toFixed(3)} ms, expected ${exMs.toFixed(3)} ms`);
    }
  }
  for (const d of left) problems.push(`invented ${d.kind} at ${(d.atSeconds * 1000).toFixed(2)} ms (${d.durationMs.toFixed(3)} ms)`);
  return { problems, maxPositionErrorMs, maxDurationErrorMs };
}
