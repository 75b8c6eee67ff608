/**
 * Composite stimuli the harness plays: `verificationStimulus` (latency, dropouts and fidelity in one pass),
 * `steadyStimulus` (continuous audio for the dropout suite) and `latencyStimulus` (short broadband burst).
 *
 * Conventions:
 * - A Stimulus is Audio plus `sections`: contiguous, in order, covering every frame exactly once
 *   (sections[0].startFrame = 0, each next startFrame = previous startFrame + frames, the last ending at the
 *   signal's length). `params` hold the section's generator settings (Hz, dBFS, seconds, seed).
 * - Levels are those of the generators: peak dBFS for sweeps, tones and multi-tones; RMS dBFS for noise.
 *   Every stimulus here peaks at or below −1 dBFS.
 * - None is periodic overall: latency found by correlating the whole reference is unambiguous.
 */
import type { Audio } from '../audio.js';
import { createRng, type Rng } from '../dsp/random.js';
import { applyFades, checkChannels, checkSampleRate, framesFor, invalid, replicate } from './build.js';
import { exponentialSweep } from './ess.js';
import { pinkNoise, whiteNoise } from './noise.js';
import { defaultMultitoneFrequencies, multitone, sine } from './tones.js';

export type SectionKind = 'silence' | 'sweep' | 'noise' | 'tone' | 'multitone' | 'impulses';

export interface StimulusSection {
  name: string;
  kind: SectionKind;
  startFrame: number;
  frames: number;
  params: Record<string, number>;
}

export type Stimulus = Audio & { sections: StimulusSection[] };

interface Part {
  name: string;
  kind: SectionKind;
  samples: Float32Array;
  params: Record<string, number>;
}

/** Edge fades inside each non-silent section of the verification/latency stimuli, seconds. */
const SECTION_FADE_SECONDS = 0.002;

function faded(samples: Float32Array, fadeFrames: number): Float32Array {
  const x = samples.slice();
  applyFades(x, fadeFrames, fadeFrames);
  return x;
}

function concatenate(sampleRate: number, parts: Part[], channels: number): Stimulus {
  const total = parts.reduce((n, p) => n + p.samples.length, 0);
  const x = new Float32Array(total);
  const sections: StimulusSection[] = [];
  let at = 0;
  for (const p of parts) {
    x.set(p.samples, at);
    sections.push({ name: p.name, kind: p.kind, startFrame: at, frames: p.samples.length, params: p.params });
    at += p.samples.length;
  }
  return { ...replicate(x, sampleRate, channels), sections };
}

export interface StimulusOptions {
  channels?: number;
}

/**
 * The one-pass verification stimulus (3.4 s):
 * 0.2 s silence · 1 s pink noise (−16 dBFS RMS, seed 1; broadband right after the lead-in so alignment is sharp)
 * · 1 s log sweep 20 Hz → min(20 kHz, 0.46·fs) at −6 dBFS · 0.5 s 997 Hz at −6 dBFS (498.5 cycles: window it)
 * · 0.5 s multi-tone (16 prime-multiple tones on a 2 Hz grid, so whole cycles in the section; Schroeder phases,
 * −6 dBFS peak) · 0.2 s silence. The tone is kept to 0.5 s so its periodic energy stays a minority: the whole
 * stimulus's autocorrelation stays below 0.5 of its peak beyond 1 ms lag.
 * Non-silent sections have 2 ms raised-cosine fades at both edges (the sweep 5 ms, its own default).
 */
export function verificationStimulus(sampleRate: number, options: StimulusOptions = {}): Stimulus {
  checkSampleRate(sampleRate);
  const fade = framesFor('fade', SECTION_FADE_SECONDS, sampleRate, 0);
  const lead = 0.2;
  const noiseSeconds = 1;
  const noiseRms = -16;
  const sweep = exponentialSweep(sampleRate, { durationSeconds: 1, levelDbfs: -6 });
  const toneHz = 997;
  const toneSeconds = 0.5;
  const mtSeconds = 0.5;
  const mt = multitone(sampleRate, {
    durationSeconds: mtSeconds,
    peakDbfs: -6,
    fadeSeconds: SECTION_FADE_SECONDS,
    frequenciesHz: defaultMultitoneFrequencies(sampleRate, { count: 16, resolutionHz: 1 / mtSeconds }),
  });
  const parts: Part[] = [
    { name: 'lead-in', kind: 'silence', samples: new Float32Array(framesFor('lead', lead, sampleRate)), params: { seconds: lead } },
    {
      name: 'pink-noise',
      kind: 'noise',
      samples: faded(pinkNoise(sampleRate, { durationSeconds: noiseSeconds, rmsDbfs: noiseRms, seed: 1 }).channels[0]!, fade),
      params: { seconds: noiseSeconds, rmsDbfs: noiseRms, seed: 1, slopeDbPerOctave: -3 },
    },
    {
      name: 'sweep',
      kind: 'sweep',
      samples: sweep.channels[0]!,
      params: {
        seconds: sweep.sweep.durationSeconds,
        startHz: sweep.sweep.startHz,
        endHz: sweep.sweep.endHz,
        levelDbfs: -6,
        rateSeconds: sweep.sweep.rateSeconds,
      },
    },
    {
      name: 'tone-997',
      kind: 'tone',
      samples: sine(sampleRate, { frequencyHz: toneHz, levelDbfs: -6, durationSeconds: toneSeconds, fadeSeconds: SECTION_FADE_SECONDS }).channels[0]!,
      params: { seconds: toneSeconds, frequencyHz: toneHz, levelDbfs: -6 },
    },
    {
      name: 'multitone',
      kind: 'multitone',
      samples: mt.channels[0]!,
      params: { seconds: mtSeconds, tones: mt.tones.length, peakDbfs: -6, lowHz: mt.tones[0]!.frequencyHz, highHz: mt.tones.at(-1)!.frequencyHz },
    },
    { name: 'tail', kind: 'silence', samples: new Float32Array(framesFor('tail', 0.2, sampleRate)), params: { seconds: 0.2 } },
  ];
  return concatenate(sampleRate, parts, options.channels ?? 1);
}

/**
 * Short latency stimulus (0.7 s): 0.1 s silence · 0.5 s white noise at −16 dBFS RMS (seed 7, flat spectrum so
 * the correlation peak is as narrow as the channel allows, 2 ms fades) · 0.1 s silence.
 */
export function latencyStimulus(sampleRate: number, options: StimulusOptions = {}): Stimulus {
  checkSampleRate(sampleRate);
  const fade = framesFor('fade', SECTION_FADE_SECONDS, sampleRate, 0);
  const parts: Part[] = [
    { name: 'lead-in', kind: 'silence', samples: new Float32Array(framesFor('lead', 0.1, sampleRate)), params: { seconds: 0.1 } },
    {
      name: 'white-noise',
      kind: 'noise',
      samples: faded(whiteNoise(sampleRate, { durationSeconds: 0.5, rmsDbfs: -16, seed: 7 }).channels[0]!, fade),
      params: { seconds: 0.5, rmsDbfs: -16, seed: 7, slopeDbPerOctave: 0 },
    },
    { name: 'tail', kind: 'silence', samples: new Float32Array(framesFor('tail', 0.1, sampleRate)), params: { seconds: 0.1 } },
  ];
  return concatenate(sampleRate, parts, options.channels ?? 1);
}

export interface SteadyOptions {
  /** Seed of the segment plan and of every noise in it. Default 1. */
  seed?: number;
  channels?: number;
}

/** Lead-in silence of the steady stimulus, seconds. */
export const STEADY_LEAD_IN_SECONDS = 0.1;
/** Equal-power crossfade between consecutive steady segments, seconds. */
export const STEADY_CROSSFADE_SECONDS = 0.02;

type SteadyKind = 'pink' | 'white' | 'sweep-up' | 'sweep-down' | 'tone' | 'multitone';
const STEADY_KINDS: SteadyKind[] = ['pink', 'white', 'sweep-up', 'sweep-down', 'tone', 'multitone'];

function uniform(rng: Rng, lo: number, hi: number): number {
  return lo + (hi - lo) * rng.next();
}

/** One steady segment of `frames` frames (mono), its section kind and params. */
function steadySegment(kind: SteadyKind, sampleRate: number, frames: number, rng: Rng): Omit<Part, 'name'> {
  const seconds = frames / sampleRate;
  const nyquistSafe = 0.45 * sampleRate;
  switch (kind) {
    case 'pink':
    case 'white': {
      const seed = rng.int(0, 0x7fffffff);
      const make = kind === 'pink' ? pinkNoise : whiteNoise;
      // −18 dBFS RMS: ±4σ peaks stay at −6 dBFS.
      const samples = make(sampleRate, { durationSeconds: seconds, rmsDbfs: -18, seed }).channels[0]!;
      return { kind: 'noise', samples, params: { seconds, rmsDbfs: -18, seed, slopeDbPerOctave: kind === 'pink' ? -3 : 0 } };
    }
    case 'sweep-up':
    case 'sweep-down': {
      const lowHz = Math.round(uniform(rng, 40, 200));
      const highHz = Math.round(Math.min(uniform(rng, 5000, 18000), nyquistSafe));
      const s = exponentialSweep(sampleRate, {
        startHz: lowHz,
        endHz: highHz,
        durationSeconds: seconds,
        levelDbfs: -9,
        fadeInSeconds: 0,
        fadeOutSeconds: 0,
      });
      const samples = s.channels[0]!;
      if (kind === 'sweep-down') samples.reverse();
      const [startHz, endHz] = kind === 'sweep-up' ? [lowHz, highHz] : [highHz, lowHz];
      return { kind: 'sweep', samples, params: { seconds, startHz, endHz, levelDbfs: -9 } };
    }
    case 'tone': {
      // Log-uniform 200 Hz … 4 kHz, rounded to 0.1 Hz so params are readable.
      const frequencyHz = Math.round(10 * 200 * 20 ** rng.next()) / 10;
      const samples = sine(sampleRate, { frequencyHz, levelDbfs: -9, durationSeconds: seconds, phaseRad: uniform(rng, 0, 2 * Math.PI) }).channels[0]!;
      return { kind: 'tone', samples, params: { seconds, frequencyHz, levelDbfs: -9 } };
    }
    case 'multitone': {
      const lowHz = Math.round(uniform(rng, 60, 150));
      const highHz = Math.round(Math.min(uniform(rng, 6000, 12000), nyquistSafe));
      const count = rng.int(8, 17);
      const m = multitone(sampleRate, {
        durationSeconds: seconds,
        peakDbfs: -6,
        frequenciesHz: defaultMultitoneFrequencies(sampleRate, { count, lowHz, highHz }),
      });
      return { kind: 'multitone', samples: m.channels[0]!, params: { seconds, tones: count, lowHz, highHz, peakDbfs: -6 } };
    }
  }
}

/**
 * Continuous stimulus for the dropout suite: 0.1 s lead-in silence, then seeded segments of 0.5–1 s
 * (pink/white noise at −18 dBFS RMS, up/down log sweeps at −9 dBFS, tones and multi-tones of 0.3–0.5 s, so
 * nothing is periodic for more than 0.5 s), consecutive segments joined by 20 ms equal-power (sin/cos)
 * crossfades. No silence anywhere after the lead-in, so a gap, zero-fill or click is detectable anywhere.
 * The first segment is noise (broadband, fades in over 2 ms); the signal fades out over its last 2 ms.
 * A section spans [its start, next start); its audio also fades out over the first 20 ms of the next section.
 * Peaks stay ≤ −3 dBFS (two segments of ≤ −6 dBFS summed with gains cos, sin: at most √2 × 0.5).
 */
export function steadyStimulus(sampleRate: number, durationSeconds = 10, options: SteadyOptions = {}): Stimulus {
  checkSampleRate(sampleRate);
  checkChannels(options.channels ?? 1);
  const total = framesFor('durationSeconds', durationSeconds, sampleRate, 1);
  const lead = Math.round(STEADY_LEAD_IN_SECONDS * sampleRate);
  const xf = Math.round(STEADY_CROSSFADE_SECONDS * sampleRate);
  const edge = Math.round(SECTION_FADE_SECONDS * sampleRate);
  if (total < lead + 2 * xf + 2 * edge) {
    throw invalid(
      `steady stimulus of ${durationSeconds} s is too short for its ${STEADY_LEAD_IN_SECONDS} s lead-in`,
      `use durationSeconds ≥ ${(lead + 2 * xf + 2 * edge) / sampleRate}`,
    );
  }
  const seed = options.seed ?? 1;
  if (!Number.isInteger(seed) || seed < 0 || seed > 0xffffffff) throw invalid(`seed must be a uint32, got ${seed}`, 'pass an integer seed');
  const rng = createRng(seed ^ 0x5eed5eed);

  const x = new Float32Array(total);
  const sections: StimulusSection[] = [{ name: 'lead-in', kind: 'silence', startFrame: 0, frames: lead, params: { seconds: lead / sampleRate } }];
  let order: SteadyKind[] = [];
  let previous: SteadyKind | undefined;
  let start = lead;
  let index = 0;
  while (start < total) {
    if (order.length === 0) {
      // A fresh seeded shuffle of all kinds per round; never the same kind twice in a row.
      order = STEADY_KINDS.slice();
      for (let i = order.length - 1; i > 0; i--) {
        const j = rng.int(0, i + 1);
        [order[i], order[j]] = [order[j]!, order[i]!];
      }
      if (order[0] === previous) order.push(order.shift()!);
    }
    let kind = order.shift()!;
    if (index === 0 && kind !== 'pink' && kind !== 'white') {
      // Start broadband so the first audible frames align well.
      const k = order.findIndex((o) => o === 'pink' || o === 'white');
      order.push(kind);
      kind = order.splice(k, 1)[0]!;
    }
    previous = kind;
    const periodic = kind === 'tone' || kind === 'multitone';
    let frames = Math.round((periodic ? uniform(rng, 0.3, 0.5) : uniform(rng, 0.5, 1.0)) * sampleRate);
    // Do not leave a remainder shorter than a crossfade plus fades: absorb it into this segment.
    if (total - (start + frames) < 2 * xf + 2 * edge) frames = total - start;
    const isLast = start + frames >= total;
    const rendered = isLast ? frames : frames + xf;
    const seg = steadySegment(kind, sampleRate, rendered, rng);
    const s = seg.samples;
    // Fade in: from silence (first segment, 2 ms raised cosine) or as the incoming half of an equal-power crossfade.
    if (index === 0) applyFades(s, edge, 0);
    else for (let i = 0; i < xf; i++) s[i] = s[i]! * Math.sin((Math.PI / 2) * ((i + 0.5) / xf));
    if (isLast) applyFades(s, 0, edge);
    else for (let i = 0; i < xf; i++) s[frames + i] = s[frames + i]! * Math.cos((Math.PI / 2) * ((i + 0.5) / xf));
    for (let i = 0; i < s.length; i++) x[start + i] = x[start + i]! + s[i]!;
    sections.push({ name: `${kind}-${index}`, kind: seg.kind, startFrame: start, frames, params: seg.params });
    start += frames;
    index++;
  }
  return { ...replicate(x, sampleRate, options.channels ?? 1), sections };
}
