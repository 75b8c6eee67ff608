/**
 * Building blocks shared by the signal generators (and only by them): level conversion, argument checks,
 * raised-cosine fades, channel replication.
 *
 * Level convention used by every generator in src/signals/:
 * - dBFS is 20·log10(|x|) relative to digital full scale 1.0.
 * - "peak dBFS" (tones, sweeps, impulses, multi-tones) is the level of the largest |sample|; for a sine it
 *   also equals its AES17 level (a full-scale sine is 0 dBFS).
 * - "RMS dBFS" (noise) is 20·log10(RMS) against 1.0, i.e. NOT sine-referenced: AES17 would read 3.01 dB
 *   higher for the same noise.
 */
import type { Audio } from '../audio.js';
import { LoopcheckError } from '../errors.js';

/** dBFS → linear amplitude (0 dBFS = 1.0). */
export function dbfsToAmplitude(dbfs: number): number {
  return 10 ** (dbfs / 20);
}

/** Linear amplitude → dBFS (−Infinity for 0). */
export function amplitudeToDbfs(amplitude: number): number {
  return 20 * Math.log10(Math.abs(amplitude));
}

export function invalid(message: string, hint: string): LoopcheckError {
  return new LoopcheckError('INVALID_ARGUMENT', message, { hint });
}

export function checkSampleRate(sampleRate: number): void {
  if (!Number.isFinite(sampleRate) || sampleRate <= 0 || !Number.isInteger(sampleRate)) {
    throw invalid(`sample rate must be a positive integer in Hz, got ${sampleRate}`, 'pass e.g. 48000');
  }
}

export function checkChannels(channels: number): void {
  if (!Number.isInteger(channels) || channels < 1 || channels > 64) {
    throw invalid(`channels must be an integer 1…64, got ${channels}`, 'pass channels: 1 for mono, 2 for stereo');
  }
}

/** Duration (s) → whole frames (rounded); throws unless the result is ≥ minFrames. */
export function framesFor(name: string, seconds: number, sampleRate: number, minFrames = 1): number {
  if (!Number.isFinite(seconds) || seconds < 0) {
    throw invalid(`${name} must be a finite number of seconds ≥ 0, got ${seconds}`, `pass ${name} in seconds, e.g. 1`);
  }
  const frames = Math.round(seconds * sampleRate);
  if (frames < minFrames) {
    throw invalid(
      `${name} of ${seconds} s is ${frames} frames at ${sampleRate} Hz; at least ${minFrames} needed`,
      `make ${name} longer`,
    );
  }
  return frames;
}

export function checkLevelDbfs(name: string, dbfs: number): void {
  if (!Number.isFinite(dbfs) || dbfs > 0) {
    throw invalid(`${name} must be a finite level ≤ 0 dBFS, got ${dbfs}`, `pass ${name} as a negative dBFS value, e.g. -6`);
  }
}

export function checkFrequency(name: string, hz: number, sampleRate: number): void {
  if (!Number.isFinite(hz) || hz <= 0 || hz >= sampleRate / 2) {
    throw invalid(
      `${name} must be in (0, ${sampleRate / 2}) Hz (below Nyquist at ${sampleRate} Hz), got ${hz}`,
      `choose a frequency below ${sampleRate / 2} Hz or raise the sample rate`,
    );
  }
}

/**
 * Raised-cosine (half-Hann) fade-in over the first `inFrames` and fade-out over the last `outFrames`, in place.
 * Gain at fade-in frame i is 0.5·(1 − cos(π·(i + 0.5)/inFrames)) (never exactly 0, reaching ~1 at the end).
 */
export function applyFades(x: Float32Array | Float64Array, inFrames: number, outFrames: number): void {
  const n = x.length;
  const fi = Math.min(inFrames, n);
  for (let i = 0; i < fi; i++) x[i] = x[i]! * 0.5 * (1 - Math.cos((Math.PI * (i + 0.5)) / fi));
  const fo = Math.min(outFrames, n);
  for (let i = 0; i < fo; i++) x[n - 1 - i] = x[n - 1 - i]! * 0.5 * (1 - Math.cos((Math.PI * (i + 0.5)) / fo));
}

/** Wraps one mono signal as Audio with the same samples on every channel (copies per extra channel). */
export function replicate(samples: Float32Array, sampleRate: number, channels = 1): Audio {
  checkChannels(channels);
  const out: Float32Array[] = [samples];
  for (let c = 1; c < channels; c++) out.push(samples.slice());
  return { sampleRate, channels: out };
}

/** Float64 working buffer → Float32 samples (round to nearest). */
export function toFloat32(x: Float64Array): Float32Array {
  return Float32Array.from(x);
}
