/** Sample conversions the record command applies on the fly. */

/** Mono by averaging channels: interleaved frames × channels → frames. */
export function downmix(interleaved: Float32Array, channels: number): Float32Array {
  const frames = Math.floor(interleaved.length / channels);
  const out = new Float32Array(frames);
  const scale = 1 / channels;
  for (let i = 0, j = 0; i < frames; i++) {
    let acc = 0;
    for (let c = 0; c < channels; c++, j++) acc += interleaved[j]!;
    out[i] = acc * scale;
  }
  return out;
}
