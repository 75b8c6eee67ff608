import { describe, expect, it } from 'vitest';
import { Resampler } from '../../src/dsp/resample.js';

function tone(f: number, rate: number, n: number, amp = 0.5): Float32Array {
  const x = new Float32Array(n);
  for (let i = 0; i < n; i++) x[i] = amp * Math.sin((2 * Math.PI * f * i) / rate);
  return x;
}

/** Amplitude of a sinusoid of known frequency by least squares (sin and cos components). */
function amplitudeAt(y: Float32Array, f: number, rate: number, from: number, to: number): number {
  let ss = 0, cc = 0, sc = 0, ys = 0, yc = 0;
  for (let i = from; i < to; i++) {
    const s = Math.sin((2 * Math.PI * f * i) / rate), c = Math.cos((2 * Math.PI * f * i) / rate);
    ss += s * s; cc += c * c; sc += s * c; ys += y[i]! * s; yc += y[i]! * c;
  }
  const det = ss * cc - sc * sc;
  const a = (ys * cc - yc * sc) / det, b = (yc * ss - ys * sc) / det;
  return Math.hypot(a, b);
}

function rms(y: Float32Array, from: number, to: number): number {
  let s = 0;
  for (let i = from; i < to; i++) s += y[i]! * y[i]!;
  return Math.sqrt(s / (to - from));
}

function resampleAll(x: Float32Array, inRate: number, outRate: number): Float32Array {
  const r = new Resampler(inRate, outRate, 1);
  const a = r.process(x);
  const b = r.flush();
  const y = new Float32Array(a.length + b.length);
  y.set(a);
  y.set(b, a.length);
  return y;
}

describe('band-limited resampler', () => {
  it('48 k → 16 k: passband ripple ≤ 0.1 dB from 50 Hz to 7 kHz (the transcription contract)', () => {
    for (const f of [50, 440, 997, 3000, 5000, 6500, 7000]) {
      const y = resampleAll(tone(f, 48000, 48000), 48000, 16000);
      expect(y.length).toBe(16000);
      const a = amplitudeAt(y, f, 16000, 2000, 14000);
      expect(Math.abs(20 * Math.log10(a / 0.5)), `${f} Hz`).toBeLessThan(0.1);
    }
  });

  it('48 k → 16 k: tones above the new Nyquist alias at ≤ −80 dB', () => {
    for (const f of [8500, 10000, 12000, 15000, 20000, 23000]) {
      const y = resampleAll(tone(f, 48000, 48000), 48000, 16000);
      const level = 20 * Math.log10(rms(y, 2000, 14000) / (0.5 / Math.SQRT2));
      expect(level, `${f} Hz`).toBeLessThan(-80);
    }
  });

  it('keeps time: output sample n is input time n/outRate (a 1 kHz tone matches its analytic samples)', () => {
    const y = resampleAll(tone(1000, 44100, 44100), 44100, 16000);
    let maxErr = 0;
    for (let n = 1000; n < 15000; n++) maxErr = Math.max(maxErr, Math.abs(y[n]! - 0.5 * Math.sin((2 * Math.PI * 1000 * n) / 16000)));
    // −80 dB re 0.5 amplitude: the stopband/interpolation budget of the design.
    expect(maxErr).toBeLessThan(0.5e-4);
  });

  it('streams: any chunking gives the same output as one call, for stereo input', () => {
    const n = 20000;
    const inter = new Float32Array(2 * n);
    const l = tone(700, 48000, n), r = tone(3100, 48000, n, 0.3);
    for (let i = 0; i < n; i++) { inter[2 * i] = l[i]!; inter[2 * i + 1] = r[i]!; }
    const one = new Resampler(48000, 16000, 2);
    const whole = [...one.process(inter), ...one.flush()];
    const chunked = new Resampler(48000, 16000, 2);
    const parts: number[] = [];
    let pos = 0;
    for (const size of [1, 7, 480, 3, 1000, 4410]) {
      while (pos < n) {
        const take = Math.min(size, n - pos);
        parts.push(...chunked.process(inter.subarray(2 * pos, 2 * (pos + take))));
        pos += take;
        if (size !== 4410) break;
      }
    }
    parts.push(...chunked.flush());
    expect(parts.length).toBe(whole.length);
    let maxDiff = 0;
    for (let i = 0; i < whole.length; i++) maxDiff = Math.max(maxDiff, Math.abs(parts[i]! - whole[i]!));
    expect(maxDiff).toBe(0);
  });
});
