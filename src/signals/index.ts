/**
 * Signal generators (one pure generator per file) and the registry of the committed reference set
 * (signals/*.wav + signals/manifest.json, written by `generateSignalSet` in manifest.ts).
 * Level conventions: see build.ts (peak dBFS for deterministic signals, RMS dBFS for noise).
 */
import type { Audio } from '../audio.js';
import { exponentialSweep } from './ess.js';
import { impulseTrain } from './impulses.js';
import { pinkNoise, whiteNoise } from './noise.js';
import { silence } from './silence.js';
import { multitone, sine } from './tones.js';
import { latencyStimulus, steadyStimulus, verificationStimulus } from './verification.js';

export { amplitudeToDbfs, dbfsToAmplitude } from './build.js';
export {
  exponentialSweep,
  harmonicAdvanceSeconds,
  harmonicImpulseIndex,
  inverseFilter,
  sweepFrequencyAt,
  sweepParameters,
  type Sweep,
  type SweepOptions,
  type SweepParameters,
} from './ess.js';
export { impulseFrame, impulseTrain, type ImpulseTrainOptions } from './impulses.js';
export { pinkNoise, whiteNoise, type NoiseOptions } from './noise.js';
export { silence, type SilenceOptions } from './silence.js';
export {
  defaultMultitoneFrequencies,
  integerCycleFrequency,
  multitone,
  sine,
  sineFrequency,
  type Multitone,
  type MultitoneFrequencyOptions,
  type MultitoneOptions,
  type PhaseRule,
  type SineOptions,
  type ToneComponent,
} from './tones.js';
export {
  latencyStimulus,
  steadyStimulus,
  verificationStimulus,
  STEADY_CROSSFADE_SECONDS,
  STEADY_LEAD_IN_SECONDS,
  type SectionKind,
  type SteadyOptions,
  type Stimulus,
  type StimulusOptions,
  type StimulusSection,
} from './verification.js';

export interface SignalEntry {
  /** One line: what the signal is (levels in dBFS). */
  description: string;
  /** One line: what the harness or a user measures with it. */
  purpose: string;
  make(sampleRate: number): Audio;
}

/** The committed reference set, in manifest order. Keep it small: total < 6 MB at 48 kHz float32. */
export const SIGNALS: Record<string, SignalEntry> = {
  verification: {
    description:
      '0.2 s silence, 1 s pink noise (-16 dBFS RMS), 1 s log sweep 20 Hz-20 kHz (-6 dBFS), 0.5 s 997 Hz (-6 dBFS), 0.5 s 16-tone multitone (-6 dBFS peak), 0.2 s silence',
    purpose: 'one-pass latency, dropouts, gain, frequency response and THD+N',
    make: (sampleRate) => verificationStimulus(sampleRate),
  },
  steady: {
    description: '10 s: 0.1 s silence, then seeded 0.3-1 s segments of noise, sweeps, tones and multitones with 20 ms crossfades, never silent, peak <= -3 dBFS',
    purpose: 'dropout detection: any gap, zero-fill or click is visible anywhere after the lead-in',
    make: (sampleRate) => steadyStimulus(sampleRate, 10),
  },
  latency: {
    description: '0.1 s silence, 0.5 s white noise (-16 dBFS RMS, seed 7), 0.1 s silence',
    purpose: 'quick, unambiguous latency by cross-correlation',
    make: (sampleRate) => latencyStimulus(sampleRate),
  },
  sweep: {
    description: '2 s Farina exponential sine sweep 20 Hz-20 kHz, -6 dBFS peak, 5 ms fades',
    purpose: 'impulse and frequency response, harmonic distortion (deconvolve with inverseFilter)',
    make: (sampleRate) => exponentialSweep(sampleRate, { durationSeconds: 2 }),
  },
  impulses: {
    description: '4 impulses every 0.25 s from 10 ms, -6 dBFS peak, band-limited to 20 kHz (Blackman-windowed sinc)',
    purpose: 'impulse response and latency by eye; periodic, so latency above 0.25 s is ambiguous',
    make: (sampleRate) => impulseTrain(sampleRate, { bandLimitHz: Math.min(20000, 0.46 * sampleRate) }),
  },
  tone997: {
    description: '1 s sine 997 Hz, -6 dBFS (whole number of cycles)',
    purpose: 'gain, THD+N, SNR; periodic, so latency is ambiguous',
    make: (sampleRate) => sine(sampleRate),
  },
  multitone: {
    description: '1 s, 16 tones on prime frequencies 47 Hz-16 kHz, Schroeder phases, -6 dBFS peak',
    purpose: 'frequency response and intermodulation at a glance',
    make: (sampleRate) => multitone(sampleRate),
  },
  white: {
    description: '1 s white gaussian noise, -20 dBFS RMS, clipped at 4 sigma, seed 1',
    purpose: 'broadband latency and SNR',
    make: (sampleRate) => whiteNoise(sampleRate),
  },
  pink: {
    description: '1 s pink noise (Kellet filter, -3 dB/octave), -20 dBFS RMS, seed 1',
    purpose: 'programme-like broadband level and response',
    make: (sampleRate) => pinkNoise(sampleRate),
  },
  silence: {
    description: '0.5 s digital silence',
    purpose: 'noise floor and idle-stream behaviour',
    make: (sampleRate) => silence(sampleRate, { durationSeconds: 0.5 }),
  },
};
