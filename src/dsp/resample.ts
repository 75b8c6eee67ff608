/**
 * Streaming band-limited sample-rate conversion (any rate pair) for `record --rate`.
 *
 * y[n] = Σ_k x[k] · h(t_n − k), t_n = n · inRate/outRate (input samples), with h a Kaiser-windowed sinc
 * low-pass whose transition band sits between PASSBAND and the output Nyquist when downsampling
 * (between PASSBAND and the input Nyquist when upsampling), designed for ≥ ATTENUATION_DB stopband.
 * Measured (test/unit/dsp-resample.test.ts): 48 k → 16 k passband ripple ≤ 0.01 dB to 7 kHz, aliasing of
 * tones from 8.5 to 23 kHz ≤ −85 dB. h is tabulated at TABLE_STEPS points per input sample and linearly
 * interpolated, which keeps the interpolation error below the stopband.
 *
 * Group delay is compensated: output sample n corresponds to input time n/outRate exactly.
 */

import { besselI0 } from './sinc.js';

const ATTENUATION_DB = 100;
/** Passband edge as a fraction of the lower Nyquist (0.875 → 7 kHz when the output is 16 kHz). */
const PASSBAND = 0.875;
const TABLE_STEPS = 512;


interface Kernel {
  /** Half width, input samples. */
  half: number;
  table: Float64Array;
}

function designKernel(inRate: number, outRate: number): Kernel {
  const nyquist = Math.min(inRate, outRate) / 2;
  const passHz = PASSBAND * nyquist;
  const stopHz = nyquist;
  const fc = (passHz + stopHz) / 2 / inRate; // cycles per input sample
  const deltaOmega = (2 * Math.PI * (stopHz - passHz)) / inRate;
  const beta = 0.1102 * (ATTENUATION_DB - 8.7);
  const taps = Math.ceil((ATTENUATION_DB - 8) / (2.285 * deltaOmega)) + 1;
  const half = Math.ceil(taps / 2);
  const n = half * TABLE_STEPS;
  const table = new Float64Array(n + 2);
  const i0b = besselI0(beta);
  for (let i = 0; i <= n + 1; i++) {
    const t = i / TABLE_STEPS;
    const r = t / half;
    const w = r >= 1 ? 0 : besselI0(beta * Math.sqrt(1 - r * r)) / i0b;
    const x = 2 * fc * t;
    const s = t === 0 ? 1 : Math.sin(Math.PI * x) / (Math.PI * x);
    table[i] = 2 * fc * s * w;
  }
  return { half, table };
}

export class Resampler {
  readonly inRate: number;
  readonly outRate: number;
  readonly channels: number;
  private readonly kernel: Kernel;
  private readonly step: number;
  /** Buffered input, planar, starting at absolute input frame `base`. */
  private buf: Float32Array[];
  private bufFrames = 0;
  private base = 0;
  /** Next output frame index (absolute). */
  private nextOut = 0;
  private weights = new Float64Array(0);

  constructor(inRate: number, outRate: number, channels: number) {
    if (!(inRate > 0) || !(outRate > 0) || !Number.isInteger(channels) || channels < 1) {
      throw new RangeError(`Resampler: bad rates ${inRate} → ${outRate} or channels ${channels}`);
    }
    this.inRate = inRate;
    this.outRate = outRate;
    this.channels = channels;
    this.kernel = designKernel(inRate, outRate);
    this.step = inRate / outRate;
    this.buf = Array.from({ length: channels }, () => new Float32Array(4096));
  }

  /** Extra latency a caller must feed (input frames) before all output up to the current input is ready. */
  get lookaheadFrames(): number {
    return this.kernel.half;
  }

  private append(interleaved: Float32Array): void {
    const frames = Math.floor(interleaved.length / this.channels);
    const need = this.bufFrames + frames;
    if (need > this.buf[0]!.length) {
      let cap = this.buf[0]!.length;
      while (cap < need) cap *= 2;
      this.buf = this.buf.map((b) => {
        const nb = new Float32Array(cap);
        nb.set(b.subarray(0, this.bufFrames));
        return nb;
      });
    }
    for (let c = 0; c < this.channels; c++) {
      const dst = this.buf[c]!;
      for (let i = 0, j = c; i < frames; i++, j += this.channels) dst[this.bufFrames + i] = interleaved[j]!;
    }
    this.bufFrames += frames;
  }

  /** Produces every output frame whose kernel support ends before `availableEnd` (absolute input frame). */
  private produce(availableEnd: number): Float32Array {
    const { half } = this.kernel;
    const ch = this.channels;
    // Upper bound of the frames this call can produce, so the output is allocated once.
    const maxFrames = Math.max(0, Math.floor((availableEnd - half) / this.step) - this.nextOut + 2);
    const outs = new Float32Array(maxFrames * ch);
    let produced = 0;
    while (produced < maxFrames) {
      const t = this.nextOut * this.step;
      const k1 = Math.floor(t + half);
      if (k1 >= availableEnd) break;
      const k0 = Math.max(Math.ceil(t - half), this.base);
      const kEnd = Math.min(k1, this.base + this.bufFrames - 1);
      // Weights once per output frame, shared by all channels. Along k, |t − k|·TABLE_STEPS moves by whole
      // table steps, so the interpolation fraction is constant on each side of t.
      const nTaps = kEnd - k0 + 1;
      if (this.weights.length < nTaps) this.weights = new Float64Array(nTaps * 2);
      const w = this.weights;
      const table = this.kernel.table;
      const limit = table.length - 1;
      for (let j = 0; j < nTaps; j++) {
        const p = Math.abs(t - (k0 + j)) * TABLE_STEPS;
        const i = Math.floor(p);
        w[j] = i >= limit ? 0 : table[i]! + (p - i) * (table[i + 1]! - table[i]!);
      }
      const off = k0 - this.base;
      for (let c = 0; c < ch; c++) {
        const b = this.buf[c]!;
        let acc = 0;
        for (let j = 0; j < nTaps; j++) acc += w[j]! * b[off + j]!;
        outs[produced * ch + c] = acc;
      }
      produced++;
      this.nextOut++;
    }
    // Drop input no longer needed by the next output.
    const keepFrom = Math.max(this.base, Math.ceil(this.nextOut * this.step - half) - 1);
    const drop = Math.min(this.bufFrames, keepFrom - this.base);
    if (drop > 0) {
      for (const b of this.buf) b.copyWithin(0, drop, this.bufFrames);
      this.bufFrames -= drop;
      this.base += drop;
    }
    return outs.subarray(0, produced * ch);
  }

  /** Feeds interleaved input; returns the interleaved output that is ready. */
  process(interleaved: Float32Array): Float32Array {
    this.append(interleaved);
    return this.produce(this.base + this.bufFrames);
  }

  /** Ends the stream: pads with zeros and returns the remaining output up to the input's end time. */
  flush(): Float32Array {
    const inputEnd = this.base + this.bufFrames;
    const lastOut = Math.ceil((inputEnd * this.outRate) / this.inRate); // exclusive
    this.append(new Float32Array((this.kernel.half + 2) * this.channels));
    const all = this.produce(this.base + this.bufFrames);
    const extra = Math.max(0, this.nextOut - lastOut);
    return all.subarray(0, Math.max(0, all.length - extra * this.channels));
  }
}
