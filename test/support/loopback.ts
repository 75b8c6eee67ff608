/**
 * Loopback test helpers shared by the PulseAudio (test/integration) and WASAPI (test/wine) suites: a findable
 * seeded signal, chunk collection, exact search and error measurement by stream position.
 */
import type { Audio } from '../../src/audio.js';
import type { CaptureChunk, LoopbackSession } from '../../src/backends/types.js';
import { createRng } from '../../src/dsp/random.js';

/** Seeded stereo noise, distinct per channel, first frame non-zero: findable by exact search. */
export function noise(frames: number, sampleRate: number, seed: number): Audio {
  const rng = createRng(seed);
  const left = new Float32Array(frames);
  const right = new Float32Array(frames);
  for (let i = 0; i < frames; i++) {
    left[i] = (rng.next() - 0.5) * 0.8 + (i === 0 ? 0.1 : 0);
    right[i] = (rng.next() - 0.5) * 0.8;
  }
  return { sampleRate, channels: [left, right] };
}

export interface Captured {
  chunks: CaptureChunk[];
  done: Promise<void>;
}

/** Collects every chunk until the stream ends or errors (the error is kept for the test to inspect). */
export function collect(session: LoopbackSession): Captured & { error: () => unknown } {
  const chunks: CaptureChunk[] = [];
  let error: unknown;
  const done = (async () => {
    try {
      for await (const c of session.capture) chunks.push(c);
    } catch (e) {
      error = e;
    }
  })();
  return { chunks, done, error: () => error };
}

/**
 * Finds the signal's frame 0 in the capture by exact search over both channels, then returns the
 * capture-stream frame index and the chunk that delivered it.
 */
export function findSignal(chunks: CaptureChunk[], signal: Audio): { streamFrame: number; chunk: CaptureChunk; offset: number } | undefined {
  const l0 = signal.channels[0]![0]!;
  const r0 = signal.channels[1]![0]!;
  for (const c of chunks) {
    for (let i = 0; i < c.frames; i++) {
      if (c.samples[2 * i] === l0 && c.samples[2 * i + 1] === r0) return { streamFrame: c.framePosition + i, chunk: c, offset: i };
    }
  }
  return undefined;
}

/** Max |capture − signal| over the whole signal, read from the chunks by stream frame position. */
export function maxAbsError(chunks: CaptureChunk[], signal: Audio, startFrame: number): number {
  const n = signal.channels[0]!.length;
  let worst = 0;
  let seen = 0;
  for (const c of chunks) {
    for (let i = 0; i < c.frames; i++) {
      const k = c.framePosition + i - startFrame;
      if (k < 0 || k >= n) continue;
      seen++;
      worst = Math.max(worst, Math.abs(c.samples[2 * i]! - signal.channels[0]![k]!), Math.abs(c.samples[2 * i + 1]! - signal.channels[1]![k]!));
    }
  }
  return seen === n ? worst : Number.POSITIVE_INFINITY; // missing frames count as a failure
}
