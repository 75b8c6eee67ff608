/**
 * Impulse train: `count` impulses, one every `periodSeconds`, the first at `offsetSeconds`.
 *
 * Conventions:
 * - Impulse k sits at frame offsetFrames + k·periodFrames (both rounded to whole frames); total length is
 *   offsetFrames + count·periodFrames, so the last impulse is followed by one period minus nothing else.
 * - `levelDbfs` is the peak dBFS of each impulse (the sample at the impulse position).
 * - Plain impulses are single samples (flat to Nyquist). With `bandLimitHz`, each impulse is a
 *   Blackman-windowed sinc low-pass kernel of cutoff bandLimitHz, centred on its frame (zero phase, symmetric,
 *   ±`kernelHalfFrames` long), scaled so its centre sample is the peak. Neighbouring kernels must not overlap.
 */
import type { Audio } from '../audio.js';
import { checkFrequency, checkLevelDbfs, checkSampleRate, dbfsToAmplitude, framesFor, invalid, replicate } from './build.js';

export interface ImpulseTrainOptions {
  /** Time between impulses, seconds. Default 0.25. */
  periodSeconds?: number;
  /** Number of impulses. Default 4. */
  count?: number;
  /** Position of the first impulse, seconds. Default 0.01. */
  offsetSeconds?: number;
  /** Peak level of each impulse, dBFS. Default −6. */
  levelDbfs?: number;
  /** Low-pass each impulse at this frequency (Hz, < Nyquist). Default: none (single-sample impulses). */
  bandLimitHz?: number;
  /** Half length of the band-limiting kernel, frames. Default 64. */
  kernelHalfFrames?: number;
  channels?: number;
}

/** Zero-phase Blackman-windowed sinc of cutoff fc, taps −h…h, normalised so the centre tap is 1. */
function bandLimitKernel(sampleRate: number, cutoffHz: number, halfFrames: number): Float64Array {
  const k = new Float64Array(2 * halfFrames + 1);
  const wc = (2 * cutoffHz) / sampleRate; // normalised cutoff (1 = Nyquist)
  for (let m = -halfFrames; m <= halfFrames; m++) {
    const x = Math.PI * wc * m;
    const sinc = m === 0 ? 1 : Math.sin(x) / x;
    const a = (Math.PI * (m + halfFrames)) / halfFrames; // Blackman over 0…2h
    const w = 0.42 - 0.5 * Math.cos(a) + 0.08 * Math.cos(2 * a);
    k[m + halfFrames] = sinc * w;
  }
  return k;
}

export function impulseTrain(sampleRate: number, options: ImpulseTrainOptions = {}): Audio {
  checkSampleRate(sampleRate);
  const count = options.count ?? 4;
  if (!Number.isInteger(count) || count < 1) throw invalid(`count must be an integer ≥ 1, got ${count}`, 'pass count: 4');
  const periodFrames = framesFor('periodSeconds', options.periodSeconds ?? 0.25, sampleRate, 1);
  const offsetFrames = framesFor('offsetSeconds', options.offsetSeconds ?? 0.01, sampleRate, 0);
  const levelDbfs = options.levelDbfs ?? -6;
  checkLevelDbfs('levelDbfs', levelDbfs);
  const amplitude = dbfsToAmplitude(levelDbfs);
  const frames = offsetFrames + count * periodFrames;
  const x = new Float32Array(frames);
  if (options.bandLimitHz === undefined) {
    for (let k = 0; k < count; k++) x[offsetFrames + k * periodFrames] = amplitude;
  } else {
    checkFrequency('bandLimitHz', options.bandLimitHz, sampleRate);
    const h = options.kernelHalfFrames ?? 64;
    if (!Number.isInteger(h) || h < 4) throw invalid(`kernelHalfFrames must be an integer ≥ 4, got ${h}`, 'use the default 64');
    if (offsetFrames < h) {
      throw invalid(`offsetSeconds must leave room for the kernel (${h} frames) before the first impulse`, `use offsetSeconds ≥ ${h / sampleRate}`);
    }
    if (periodFrames <= 2 * h) {
      throw invalid(`periodSeconds (${periodFrames} frames) must exceed the kernel length (${2 * h + 1} frames)`, 'use a longer period');
    }
    const kernel = bandLimitKernel(sampleRate, options.bandLimitHz, h);
    for (let k = 0; k < count; k++) {
      const c = offsetFrames + k * periodFrames;
      for (let m = -h; m <= h; m++) {
        const i = c + m;
        if (i < frames) x[i] = amplitude * kernel[m + h]!;
      }
    }
  }
  return replicate(x, sampleRate, options.channels ?? 1);
}

/** Frame index of impulse k for these options (what analysis should expect). */
export function impulseFrame(sampleRate: number, options: ImpulseTrainOptions, k: number): number {
  return Math.round((options.offsetSeconds ?? 0.01) * sampleRate) + k * Math.round((options.periodSeconds ?? 0.25) * sampleRate);
}
