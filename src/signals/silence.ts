/** Digital silence: all samples exactly 0. */
import type { Audio } from '../audio.js';
import { checkSampleRate, framesFor, replicate } from './build.js';

export interface SilenceOptions {
  /** Seconds. Default 1. */
  durationSeconds?: number;
  channels?: number;
}

export function silence(sampleRate: number, options: SilenceOptions = {}): Audio {
  checkSampleRate(sampleRate);
  const frames = framesFor('durationSeconds', options.durationSeconds ?? 1, sampleRate, 0);
  return replicate(new Float32Array(frames), sampleRate, options.channels ?? 1);
}
