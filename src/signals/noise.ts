/**
 * Seeded white and pink noise.
 *
 * Conventions:
 * - Level is RMS dBFS: 20·log10(RMS) against full scale 1.0 (not sine-referenced; see build.ts). The whole
 *   realisation is scaled so its RMS is exactly the target (measured over all frames, first channel).
 * - White: gaussian samples from createRng(seed) (src/dsp/random.ts), clipped at ±4σ, then scaled.
 * - Pink: the same clipped gaussian through Paul Kellet's "refined" pink filter (7 first-order sections,
 *   ±0.05 dB of −3 dB/octave from ~10 Hz to Nyquist at 44.1 kHz; its corners scale with the sample rate, so at
 *   96 kHz the pink region starts near 20 Hz). A warm-up of 8192 samples is discarded so the slowest section
 *   (pole 0.99886, τ ≈ 880 samples) has settled. The filtered signal is clipped again at ±4σ of its own RMS,
 *   then scaled. Peak is therefore ≤ ~4 × RMS (≈ RMS dBFS + 12 dB).
 * - Same seed ⇒ identical samples; the channels option copies the one realisation to every channel.
 */
import type { Audio } from '../audio.js';
import { createRng } from '../dsp/random.js';
import { checkLevelDbfs, checkSampleRate, dbfsToAmplitude, framesFor, invalid, replicate } from './build.js';

export interface NoiseOptions {
  /** Seconds. Default 1. */
  durationSeconds?: number;
  /** RMS dBFS (20·log10 RMS, full scale 1.0). Default −20. */
  rmsDbfs?: number;
  /** RNG seed (uint32). Default 1. */
  seed?: number;
  channels?: number;
}

/** Clip at ±clipSigma × (RMS of x), in place. */
function clipAtSigma(x: Float64Array, clipSigma: number): void {
  let ss = 0;
  for (let i = 0; i < x.length; i++) ss += x[i]! * x[i]!;
  const limit = clipSigma * Math.sqrt(ss / Math.max(1, x.length));
  for (let i = 0; i < x.length; i++) x[i] = Math.max(-limit, Math.min(limit, x[i]!));
}

function scaleToRms(x: Float64Array, rms: number): Float32Array {
  let ss = 0;
  for (let i = 0; i < x.length; i++) ss += x[i]! * x[i]!;
  const g = ss > 0 ? rms / Math.sqrt(ss / x.length) : 0;
  const out = new Float32Array(x.length);
  for (let i = 0; i < x.length; i++) out[i] = x[i]! * g;
  return out;
}

function resolve(sampleRate: number, options: NoiseOptions): { frames: number; rms: number; seed: number } {
  checkSampleRate(sampleRate);
  const frames = framesFor('durationSeconds', options.durationSeconds ?? 1, sampleRate);
  const rmsDbfs = options.rmsDbfs ?? -20;
  checkLevelDbfs('rmsDbfs', rmsDbfs);
  if (rmsDbfs > -13) {
    throw invalid(`rmsDbfs ${rmsDbfs} leaves no headroom for ±4σ peaks (peak ≈ RMS + 12 dB)`, 'use rmsDbfs ≤ -13');
  }
  const seed = options.seed ?? 1;
  if (!Number.isInteger(seed) || seed < 0 || seed > 0xffffffff) throw invalid(`seed must be a uint32, got ${seed}`, 'pass an integer seed');
  return { frames, rms: dbfsToAmplitude(rmsDbfs), seed };
}

/** Unit-variance gaussian clipped at ±4σ (σ = 1 nominal), float64. */
function clippedGaussian(frames: number, seed: number): Float64Array {
  const rng = createRng(seed);
  const x = new Float64Array(frames);
  for (let i = 0; i < frames; i++) x[i] = Math.max(-4, Math.min(4, rng.gaussian()));
  return x;
}

export function whiteNoise(sampleRate: number, options: NoiseOptions = {}): Audio {
  const { frames, rms, seed } = resolve(sampleRate, options);
  return replicate(scaleToRms(clippedGaussian(frames, seed), rms), sampleRate, options.channels ?? 1);
}

const PINK_WARMUP_FRAMES = 8192;

export function pinkNoise(sampleRate: number, options: NoiseOptions = {}): Audio {
  const { frames, rms, seed } = resolve(sampleRate, options);
  const w = clippedGaussian(frames + PINK_WARMUP_FRAMES, seed);
  const x = new Float64Array(frames);
  let b0 = 0, b1 = 0, b2 = 0, b3 = 0, b4 = 0, b5 = 0, b6 = 0;
  for (let i = 0; i < w.length; i++) {
    const white = w[i]!;
    // Paul Kellet's refined pink filter (music-dsp archive), coefficients as published.
    b0 = 0.99886 * b0 + white * 0.0555179;
    b1 = 0.99332 * b1 + white * 0.0750759;
    b2 = 0.969 * b2 + white * 0.153852;
    b3 = 0.8665 * b3 + white * 0.3104856;
    b4 = 0.55 * b4 + white * 0.5329522;
    b5 = -0.7616 * b5 - white * 0.016898;
    const pink = b0 + b1 + b2 + b3 + b4 + b5 + b6 + white * 0.5362;
    b6 = white * 0.115926;
    if (i >= PINK_WARMUP_FRAMES) x[i - PINK_WARMUP_FRAMES] = pink;
  }
  clipAtSigma(x, 4);
  return replicate(scaleToRms(x, rms), sampleRate, options.channels ?? 1);
}
