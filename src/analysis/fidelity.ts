/**
 * Fidelity metrics of a capture against its reference: THD+N at 997 Hz, frequency response and impulse response.
 * Composes distortion.ts (THD+N) and response.ts (Welch transfer function) over the aligned, dropout-free region.
 *
 * Conventions:
 * - Everything is measured on the capture timeline. The reference is first mapped onto it with the alignment
 *   (per segment, capture sample m ↦ reference position (m − offsetSamples)/ratio, band-limited interpolation;
 *   zero outside the segments): "aligned reference".
 * - Clean ranges = segment ranges ∩ [0, capture length) ∩ where the reference maps, minus `excluded`, each shrunk
 *   by CLEAN_MARGIN_SAMPLES at both ends (interpolation and dropout edges).
 * - THD+N (dB, 20 Hz – 20 kHz): on the parts of the clean ranges where the reference is a pure 997 Hz tone
 *   (found on the reference's own timeline, then mapped), and whose reference is itself clean (own THD+N
 *   ≤ −40 dB). null when the reference holds no such tone.
 * - Frequency / impulse response: Welch H = S_xy/S_xx over the clean ranges (response.ts), x = aligned
 *   reference (computed frame by frame unless the caller passes the whole array), y = capture.
 */
import { delay, HALF_TAPS, readLinear } from '../dsp/sinc.js';
import { LoopcheckError } from '../errors.js';
import { findToneRanges, thdnPowers, thdPlusNoiseOverRangesDb, THDN_FUNDAMENTAL_HZ } from './distortion.js';
import { frequencyResponseFromSpectrum, impulseResponseFromSpectrum, welchCrossSpectrum, type FrameSource } from './response.js';
import type { Alignment, FrequencyResponse, ImpulseResponse } from './types.js';

export { thdPlusNoiseDb, fitSinusoid, findToneRanges, thdPlusNoiseOverRangesDb } from './distortion.js';
export { transferFunction, impulseResponse, welchCrossSpectrum } from './response.js';

/** Samples trimmed from both ends of each clean range: the sinc kernel's half length. */
export const CLEAN_MARGIN_SAMPLES = HALF_TAPS;
/** Longest stretch of one tone range fitted for THD+N, seconds (longer adds time, not accuracy). */
const MAX_TONE_SECONDS = 1;
/** At most this many tone ranges are fitted (the longest). */
const MAX_TONE_RANGES = 4;
/** A tone range is used only when the reference over it has THD+N at or below this, dB. */
const REFERENCE_PURITY_DB = -40;

export interface FidelityResult {
  /** THD+N at 997 Hz, dB (20 Hz – 20 kHz), or null when the reference holds no pure 997 Hz tone. */
  thdnDb: number | null;
  frequencyResponse: FrequencyResponse | null;
  impulseResponse: ImpulseResponse | null;
}

export interface FidelityOptions {
  /** The reference already mapped onto the capture timeline (align.ts alignedReference), length = capture. */
  alignedReference?: Float32Array;
}

/** [start, end) ranges minus the `cut` ranges; inputs need not be sorted. */
function subtractRanges(ranges: [number, number][], cut: [number, number][]): [number, number][] {
  let cur = ranges.map((r) => [r[0], r[1]] as [number, number]);
  for (const [cs, ce] of cut) {
    const next: [number, number][] = [];
    for (const [s, e] of cur) {
      if (ce <= s || cs >= e) next.push([s, e]);
      else {
        if (cs > s) next.push([s, cs]);
        if (ce < e) next.push([ce, e]);
      }
    }
    cur = next;
  }
  return cur.sort((a, b) => a[0] - b[0]);
}

function intersectRanges(a: [number, number][], b: [number, number][]): [number, number][] {
  const out: [number, number][] = [];
  for (const [s1, e1] of a) for (const [s2, e2] of b) {
    const s = Math.max(s1, s2), e = Math.min(e1, e2);
    if (e > s) out.push([s, e]);
  }
  return out.sort((x, y) => x[0] - y[0]);
}

/** Clean capture ranges (see the header), in capture samples. */
export function cleanRanges(
  alignment: Pick<Alignment, 'segments' | 'ratio'>,
  referenceLength: number,
  captureLength: number,
  excluded: [number, number][],
  marginSamples = CLEAN_MARGIN_SAMPLES,
): [number, number][] {
  const base: [number, number][] = [];
  for (const seg of alignment.segments) {
    const refStart = seg.offsetSamples;
    const refEnd = seg.offsetSamples + referenceLength * alignment.ratio;
    const s = Math.ceil(Math.max(0, seg.captureStart, refStart));
    const e = Math.floor(Math.min(captureLength, seg.captureEnd, refEnd));
    if (e > s) base.push([s, e]);
  }
  return subtractRanges(base, excluded)
    .map(([s, e]) => [s + marginSamples, e - marginSamples] as [number, number])
    .filter(([s, e]) => e > s);
}

/** The central `max` samples of [s, e). */
function centre([s, e]: [number, number], max: number): [number, number] {
  if (e - s <= max) return [s, e];
  const c = s + Math.floor((e - s - max) / 2);
  return [c, c + max];
}

/**
 * Capture ranges where the reference is a pure tone near `fundamentalHz`: tone ranges are found on the
 * reference itself (its own timeline, no interpolation; distortion.ts findToneRanges), kept only when the
 * reference there is clean (own THD+N ≤ −40 dB over the central second), and mapped through every segment
 * (capture m = offsetSamples + r·ratio, clipped to the segment).
 */
export function toneRangesInCapture(
  reference: Float32Array,
  alignment: Pick<Alignment, 'segments' | 'ratio'>,
  sampleRate: number,
  fundamentalHz = THDN_FUNDAMENTAL_HZ,
): [number, number][] {
  const maxLen = Math.round(MAX_TONE_SECONDS * sampleRate);
  const tones = findToneRanges(reference, sampleRate, { toneHz: fundamentalHz }).filter((r) => {
    const [a, b] = centre(r, maxLen);
    if (b - a < 256) return false;
    const p = thdnPowers(reference.subarray(a, b), sampleRate, fundamentalHz);
    return p.totalPower > 0 && 10 * Math.log10(Math.max(p.residualPower, 1e-300) / p.totalPower) <= REFERENCE_PURITY_DB;
  });
  const out: [number, number][] = [];
  for (const seg of alignment.segments) {
    for (const [r0, r1] of tones) {
      const s = Math.max(seg.captureStart, Math.ceil(seg.offsetSamples + r0 * alignment.ratio));
      const e = Math.min(seg.captureEnd, Math.floor(seg.offsetSamples + r1 * alignment.ratio));
      if (e > s) out.push([s, e]);
    }
  }
  return out.sort((x, y) => x[0] - y[0]);
}

/**
 * THD+N of the capture over the clean parts of the tone ranges (both in capture samples), dB; null when
 * nothing of the tone survives. Fits at most the 4 longest pieces, 1 s each (their centres).
 */
export function captureThdPlusNoiseDb(
  capture: Float32Array,
  sampleRate: number,
  toneRanges: [number, number][],
  clean: [number, number][],
  fundamentalHz = THDN_FUNDAMENTAL_HZ,
): number | null {
  const maxLen = Math.round(MAX_TONE_SECONDS * sampleRate);
  const ranges = intersectRanges(toneRanges, clean)
    .sort((x, y) => y[1] - y[0] - (x[1] - x[0]))
    .slice(0, MAX_TONE_RANGES)
    .map((r) => centre(r, maxLen));
  return thdPlusNoiseOverRangesDb(capture, ranges, sampleRate, fundamentalHz);
}

/**
 * The aligned reference as a FrameSource: frames inside one segment are interpolated on demand (cheaper than
 * mapping a whole 60 s reference when only the Welch frames are needed).
 */
function alignedFrames(reference: Float32Array, alignment: Pick<Alignment, 'segments' | 'ratio'>): FrameSource {
  return (start, length) => {
    const seg = alignment.segments.find((g) => start >= g.captureStart && start < g.captureEnd);
    if (!seg) return new Float32Array(length);
    const r = alignment.ratio;
    const part = r === 1 ? delay(reference, seg.offsetSamples - start, length) : readLinear(reference, (start - seg.offsetSamples) / r, 1 / r, length);
    // Samples past the segment's end belong to no map (cannot happen for frames inside clean ranges).
    const keep = Math.max(0, Math.min(length, seg.captureEnd - start));
    if (keep < length) part.fill(0, keep);
    return part;
  };
}

/**
 * All fidelity metrics of `capture` against `reference` (first channel each, same sample rate).
 * `excluded`: capture ranges [start, end) to leave out (dropouts), as returned by dropout detection.
 */
export function analyzeFidelity(
  reference: Float32Array,
  capture: Float32Array,
  sampleRate: number,
  alignment: Alignment,
  excluded: [number, number][],
  options: FidelityOptions = {},
): FidelityResult {
  if (!(sampleRate > 0) || !Number.isFinite(sampleRate)) {
    throw new LoopcheckError('INVALID_ARGUMENT', `sampleRate must be a positive number of Hz, got ${sampleRate}`, {
      hint: 'pass the WAV header rate, e.g. 48000',
    });
  }
  if (!(alignment.ratio > 0)) {
    throw new LoopcheckError('INVALID_ARGUMENT', `alignment.ratio must be positive, got ${alignment.ratio}`, {
      hint: 'pass the Alignment produced by the aligner',
    });
  }
  const given = options.alignedReference;
  if (given && given.length !== capture.length) {
    throw new LoopcheckError('INVALID_ARGUMENT', `alignedReference has ${given.length} samples, the capture ${capture.length}`, {
      hint: 'map the reference onto the whole capture timeline',
    });
  }
  const clean = cleanRanges(alignment, reference.length, capture.length, excluded);
  const tones = toneRangesInCapture(reference, alignment, sampleRate);
  const thdnDb = tones.length === 0 ? null : captureThdPlusNoiseDb(capture, sampleRate, tones, clean);
  const cs = welchCrossSpectrum(given ?? alignedFrames(reference, alignment), capture, sampleRate, clean);
  return {
    thdnDb,
    frequencyResponse: cs ? frequencyResponseFromSpectrum(cs) : null,
    impulseResponse: cs ? impulseResponseFromSpectrum(cs) : null,
  };
}
