/**
 * Audio in memory: planar float32, one Float32Array per channel, all the same length, nominal range ±1.
 * Shared by wav I/O, signals, backends and analysis (so none of them imports another for a type).
 */
export interface Audio {
  sampleRate: number;
  channels: Float32Array[];
}

export function frameCount(audio: Audio): number {
  return audio.channels.length === 0 ? 0 : audio.channels[0]!.length;
}

export function durationSeconds(audio: Audio): number {
  return frameCount(audio) / audio.sampleRate;
}

export function mono(samples: Float32Array, sampleRate: number): Audio {
  return { sampleRate, channels: [samples] };
}

/** Interleave planar channels: [L0, R0, L1, R1, …]. */
export function interleave(channels: Float32Array[]): Float32Array {
  const n = channels.length;
  if (n === 1) return channels[0]!.slice();
  const frames = n === 0 ? 0 : channels[0]!.length;
  const out = new Float32Array(frames * n);
  for (let c = 0; c < n; c++) {
    const ch = channels[c]!;
    for (let i = 0, j = c; i < frames; i++, j += n) out[j] = ch[i]!;
  }
  return out;
}

/** Split interleaved samples into planar channels. */
export function deinterleave(samples: Float32Array, channelCount: number): Float32Array[] {
  const frames = Math.floor(samples.length / channelCount);
  const out: Float32Array[] = [];
  for (let c = 0; c < channelCount; c++) {
    const ch = new Float32Array(frames);
    for (let i = 0, j = c; i < frames; i++, j += channelCount) ch[i] = samples[j]!;
    out.push(ch);
  }
  return out;
}
