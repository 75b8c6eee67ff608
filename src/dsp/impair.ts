/**
 * Impairments with a known answer: each function changes a capture in one documented way. The virtual
 * backend composes them, and tests use them to build captures whose measurement is known in advance.
 * All positions are capture samples; all functions return new arrays (inputs are never modified).
 */
import { readLinear } from './sinc.js';
import { createRng } from './random.js';

/**
 * The capture of a reference through a device with `latencySamples` delay and a clock `driftPpm` off:
 * y[m] = gain · x((m − latency) / (1 + driftPpm·1e−6)).
 * Conventions (design.md): latency positive = capture later; driftPpm positive = capture holds more samples.
 */
export function throughDevice(
  reference: Float32Array,
  options: { latencySamples: number; driftPpm?: number; gainDb?: number; length?: number },
): Float32Array {
  const ratio = 1 + (options.driftPpm ?? 0) * 1e-6;
  const length = options.length ?? Math.ceil(options.latencySamples + reference.length * ratio) + 64;
  const step = 1 / ratio;
  const y = readLinear(reference, -options.latencySamples * step, step, length);
  const g = 10 ** ((options.gainDb ?? 0) / 20);
  if (g !== 1) for (let i = 0; i < y.length; i++) y[i]! *= g;
  return y;
}

/** Gaussian noise at `rmsDbfs` (dB re full scale 1.0 RMS), seeded, added. */
export function addNoise(x: Float32Array, rmsDbfs: number, seed: number): Float32Array {
  const rng = createRng(seed);
  const sigma = 10 ** (rmsDbfs / 20);
  const y = new Float32Array(x.length);
  for (let i = 0; i < x.length; i++) y[i] = x[i]! + sigma * rng.gaussian();
  return y;
}

/** `gap`: `frames` samples at `at` are lost; later audio moves earlier (timeline shifts). */
export function removeSpan(x: Float32Array, at: number, frames: number): Float32Array {
  const y = new Float32Array(x.length - frames);
  y.set(x.subarray(0, at), 0);
  y.set(x.subarray(at + frames), at);
  return y;
}

/** `silence`: `frames` samples at `at` are replaced by zeros (timeline kept). */
export function zeroSpan(x: Float32Array, at: number, frames: number): Float32Array {
  const y = x.slice();
  y.fill(0, at, Math.min(x.length, at + frames));
  return y;
}

/** `click`: a single-sample disturbance of `amplitude` added at `at` (timeline kept). */
export function addClick(x: Float32Array, at: number, amplitude: number): Float32Array {
  const y = x.slice();
  if (at >= 0 && at < y.length) y[at] = y[at]! + amplitude;
  return y;
}
