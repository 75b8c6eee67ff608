/**
 * analyze(): the `loopcheck analyze --json` contract (design.md) composed from the analysis pieces:
 * align (latency, drift, segments) → detectDropouts (gaps / zero-fills / clicks, refined segments, excluded ranges)
 * → gain and SNR over the aligned, dropout-free region → bit-exactness → fidelity (THD+N, response) when asked.
 *
 * Conventions (design.md): latency positive = capture later, capture samples, the capture position of the
 * reference's first sample; ms = samples / sampleRate · 1000. driftPpm = (capture clock / reference clock − 1)·1e6.
 * gainDb = 20·log10(capture / reference) over the aligned, dropout-free region.
 *
 * Input handling:
 * - Channel: `channel` (default 0) of the capture; `referenceChannel` defaults to the same index when the reference
 *   has it, else 0. Out of range ⇒ INVALID_ARGUMENT.
 * - Sample rates must match (INVALID_ARGUMENT, with a resampling hint): drift is measured, not conversion.
 * - Non-finite samples (NaN, ±Inf): in the REFERENCE they are an error (INVALID_FILE: a reference must be clean);
 *   in the CAPTURE they are replaced by 0 with a warning, so a device glitch is reported as the dropout it is
 *   (zero-fills are detected as `silence`) instead of failing the whole analysis.
 * - A silent reference (peak below MIN_REFERENCE_PEAK) ⇒ INVALID_ARGUMENT.
 * - A silent capture, or one where the reference is not found ⇒ signalFound: false, every metric null.
 * - A periodic reference (pure sine) ⇒ latency: null and a warning (the latency is ambiguous by whole periods);
 *   gain, SNR and drift are still valid and reported.
 */
import type { Audio } from '../audio.js';
import { LoopcheckError } from '../errors.js';
import type { AnalysisResult } from './types.js';
import { align, alignedReference, type AlignOptions } from './align.js';
import { detectDropouts } from './dropouts.js';
import { analyzeFidelity } from './fidelity.js';
import { bitExact, gainDb, snrDb } from './level.js';

export { align, alignedReference } from './align.js';
export type { AlignOptions, AlignResult, TrackPoint } from './align.js';
export { gainDb, snrDb, bitExact, levelRegion } from './level.js';
export { crossCorrelate, crossCorrelateRange, normalizedCorrelationAt } from './correlate.js';

export interface AnalyzeOptions {
  /** Capture channel to analyse. Default 0. */
  channel?: number;
  /** Reference channel. Default: `channel` when the reference has it, else 0. */
  referenceChannel?: number;
  /** Compute THD+N, frequency and impulse response. Default true. */
  fidelity?: boolean;
  /** Tuning of the aligner (rarely needed). */
  align?: AlignOptions;
}

/** Latency confidence below this is reported as ambiguous (latency: null). */
export const MIN_LATENCY_CONFIDENCE = 0.2;

/**
 * A reference whose peak is below this is silent: 2^-31 ≈ −186.6 dBFS, the smallest step of 32-bit PCM. Far
 * quieter (denormal) references made the fidelity transfer function overflow float32 (NaN impulse response).
 */
export const MIN_REFERENCE_PEAK = 2 ** -31;

export function analyze(reference: Audio, capture: Audio, options: AnalyzeOptions = {}): AnalysisResult {
  const sampleRate = capture.sampleRate;
  if (!(sampleRate > 0) || !Number.isFinite(sampleRate)) {
    throw new LoopcheckError('INVALID_ARGUMENT', `capture sample rate must be a positive number of Hz, got ${sampleRate}`, {
      hint: 'check the capture WAV header',
    });
  }
  if (reference.sampleRate !== sampleRate) {
    throw new LoopcheckError('INVALID_ARGUMENT', `sample rates differ: reference ${reference.sampleRate} Hz, capture ${sampleRate} Hz`, {
      hint: `resample the reference to ${sampleRate} Hz (e.g. sox ref.wav -r ${sampleRate} ref-${sampleRate}.wav) or capture at ${reference.sampleRate} Hz`,
    });
  }
  const channel = options.channel ?? 0;
  checkChannel('capture', channel, capture.channels.length);
  const referenceChannel = options.referenceChannel ?? (channel < reference.channels.length ? channel : 0);
  checkChannel('reference', referenceChannel, reference.channels.length);

  const warnings: string[] = [];
  const ref = reference.channels[referenceChannel]!;
  const badRef = firstNonFinite(ref);
  if (badRef >= 0) {
    throw new LoopcheckError('INVALID_FILE', `reference channel ${referenceChannel} has a non-finite sample (NaN or Inf) at frame ${badRef}`, {
      hint: 'regenerate the reference (loopcheck signals generate) or fix the file',
    });
  }
  let cap = capture.channels[channel]!;
  const badCap = firstNonFinite(cap);
  if (badCap >= 0) {
    cap = cap.slice();
    let count = 0;
    for (let i = badCap; i < cap.length; i++) {
      if (!Number.isFinite(cap[i]!)) {
        cap[i] = 0;
        count++;
      }
    }
    warnings.push(`capture has ${count} non-finite samples (first at ${(badCap / sampleRate).toFixed(3)} s); they were treated as silence`);
  }

  const notFound = (why: string): AnalysisResult => ({
    signalFound: false,
    sampleRate,
    channel,
    latency: null,
    gainDb: null,
    driftPpm: null,
    snrDb: null,
    dropouts: [],
    warnings: [...warnings, why],
  });
  const refPeak = peakAbs(ref);
  if (refPeak < MIN_REFERENCE_PEAK) {
    const level = refPeak === 0 ? 'all zeros' : `peak ${(20 * Math.log10(refPeak)).toFixed(1)} dBFS, below ${(20 * Math.log10(MIN_REFERENCE_PEAK)).toFixed(1)} dBFS`;
    throw new LoopcheckError('INVALID_ARGUMENT', `reference channel ${referenceChannel} is silent (${level})`, {
      hint: 'pass the stimulus that was played as the reference',
    });
  }
  if (!hasSignal(cap)) return notFound(`capture channel ${channel} is silent (all zeros)`);

  const alignment = align(ref, cap, sampleRate, options.align);
  if (!alignment) return notFound(`the reference was not found in capture channel ${channel}`);

  const drop = detectDropouts(ref, cap, sampleRate, alignment);
  // Dropout detection already mapped the reference along the refined segments: computing it is the
  // costliest pass of the analysis, so it is done once.
  const aligned = drop.alignedReference ?? alignedReference(ref, drop.segments, alignment.ratio, cap.length);
  const result: AnalysisResult = {
    signalFound: true,
    sampleRate,
    channel,
    latency: alignment.latency,
    gainDb: gainDb(cap, aligned, drop.excluded),
    driftPpm: alignment.driftPpm,
    snrDb: snrDb(cap, aligned, drop.excluded),
    dropouts: drop.dropouts,
    bitExact: drop.dropouts.length === 0 && bitExact(ref, cap, { ...alignment, segments: drop.segments }),
    alignment: {
      latency: alignment.latency,
      ratio: alignment.ratio,
      driftPpm: alignment.driftPpm,
      segments: drop.segments,
      correlation: alignment.correlation,
    },
  };
  if (alignment.latency.confidence < MIN_LATENCY_CONFIDENCE) {
    result.latency = null;
    const period = alignment.ambiguityPeriodSamples;
    warnings.push(
      period !== null
        ? `reference is periodic (period ${((period / sampleRate) * 1000).toFixed(3)} ms): latency is ambiguous`
        : `latency is ambiguous (confidence ${alignment.latency.confidence.toFixed(2)}): the reference has no unique alignment`,
    );
  }
  if (options.fidelity !== false) {
    const fidelity = analyzeFidelity(ref, cap, sampleRate, { ...alignment, segments: drop.segments }, drop.excluded, { alignedReference: aligned });
    result.thdnDb = fidelity.thdnDb;
    result.frequencyResponse = fidelity.frequencyResponse;
    result.impulseResponse = fidelity.impulseResponse;
  }
  if (warnings.length > 0) result.warnings = warnings;
  return result;
}

function checkChannel(which: string, channel: number, count: number): void {
  if (!Number.isInteger(channel) || channel < 0 || channel >= count) {
    throw new LoopcheckError('INVALID_ARGUMENT', `${which} channel ${channel} does not exist (the ${which} has ${count} channel${count === 1 ? '' : 's'})`, {
      hint: count > 0 ? `pick a channel from 0 to ${count - 1}` : `the ${which} has no audio channels`,
    });
  }
}

function firstNonFinite(x: Float32Array): number {
  for (let i = 0; i < x.length; i++) if (!Number.isFinite(x[i]!)) return i;
  return -1;
}

function peakAbs(x: Float32Array): number {
  let peak = 0;
  for (let i = 0; i < x.length; i++) {
    const a = Math.abs(x[i]!);
    if (a > peak) peak = a;
  }
  return peak;
}

function hasSignal(x: Float32Array): boolean {
  for (let i = 0; i < x.length; i++) if (x[i] !== 0) return true;
  return false;
}
