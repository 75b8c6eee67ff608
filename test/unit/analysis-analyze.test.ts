import { describe, expect, it } from 'vitest';
import { analyze } from '../../src/analysis/index.js';
import { LoopcheckError } from '../../src/errors.js';
import { addNoise, removeSpan, throughDevice } from '../../src/dsp/impair.js';
import { createRng } from '../../src/dsp/random.js';

const rate = 48000;
function white(n: number, seed: number): Float32Array {
  const rng = createRng(seed);
  const x = new Float32Array(n);
  for (let i = 0; i < n; i++) x[i] = 0.25 * rng.gaussian();
  return x;
}
const ref = white(3 * rate, 1);
const mono = (x: Float32Array) => ({ sampleRate: rate, channels: [x] });
function code(f: () => unknown): string | undefined {
  try {
    f();
  } catch (e) {
    return e instanceof LoopcheckError ? e.code : 'not a LoopcheckError';
  }
  return undefined;
}

describe('analyze', () => {
  it('reports the contract for a delayed, attenuated, drifting capture', () => {
    const cap = addNoise(throughDevice(ref, { latencySamples: 1234.37, gainDb: -6, driftPpm: 100 }), -12 - 6 - 40, 2);
    const r = analyze(mono(ref), mono(cap), { fidelity: false });
    expect(r.signalFound).toBe(true);
    expect(r.sampleRate).toBe(rate);
    expect(r.channel).toBe(0);
    // Tolerances: latency ±0.1 sample (requirement), gain ±0.2 dB, drift ±5 ppm, SNR ±1 dB.
    expect(Math.abs(r.latency!.samples - 1234.37)).toBeLessThan(0.1);
    expect(Math.abs(r.latency!.ms - (1234.37 / rate) * 1000)).toBeLessThan(0.01);
    expect(r.latency!.confidence).toBeGreaterThan(0.8);
    expect(Math.abs(r.gainDb! + 6)).toBeLessThan(0.2);
    expect(Math.abs(r.driftPpm! - 100)).toBeLessThan(5);
    expect(Math.abs(r.snrDb! - 40)).toBeLessThan(1);
    expect(r.dropouts).toEqual([]);
    expect(r.bitExact).toBe(false);
  });

  it('picks the channel; the reference is not in the other one', () => {
    const cap = throughDevice(ref, { latencySamples: 480 });
    const stereo = { sampleRate: rate, channels: [white(cap.length, 9), cap] };
    const right = analyze(mono(ref), stereo, { channel: 1, fidelity: false });
    expect(right.channel).toBe(1);
    expect(Math.abs(right.latency!.samples - 480)).toBeLessThan(0.01);
    const left = analyze(mono(ref), stereo, { fidelity: false });
    expect(left.signalFound).toBe(false);
    expect(left.latency).toBeNull();
    expect(code(() => analyze(mono(ref), stereo, { channel: 2 }))).toBe('INVALID_ARGUMENT');
    expect(code(() => analyze(mono(ref), stereo, { referenceChannel: 1 }))).toBe('INVALID_ARGUMENT');
  });

  it('a bit-exact loopback is reported as such', () => {
    const cap = throughDevice(ref, { latencySamples: 64 });
    const r = analyze(mono(ref), mono(cap), { fidelity: false });
    expect(r.bitExact).toBe(true);
    expect(r.gainDb).toBe(0);
  });

  it('a gap is reported and excluded from the level metrics', () => {
    const cap = removeSpan(throughDevice(ref, { latencySamples: 200, gainDb: -10 }), rate + 777, 480);
    const r = analyze(mono(ref), mono(cap), { fidelity: false });
    expect(Math.abs(r.latency!.samples - 200)).toBeLessThan(0.01);
    expect(r.dropouts.some((d) => d.kind === 'gap' && Math.abs(d.durationMs - 10) < 0.1)).toBe(true);
    expect(Math.abs(r.gainDb! + 10)).toBeLessThan(0.2);
  });

  it('silent capture and sample-rate mismatch', () => {
    expect(analyze(mono(ref), mono(new Float32Array(rate)), { fidelity: false }).signalFound).toBe(false);
    expect(code(() => analyze(mono(ref), { sampleRate: 44100, channels: [ref] }))).toBe('INVALID_ARGUMENT');
  });

  it('non-finite samples: reference ⇒ INVALID_FILE; capture ⇒ zeroed with a warning', () => {
    const bad = ref.slice();
    bad[100] = NaN;
    expect(code(() => analyze(mono(bad), mono(ref)))).toBe('INVALID_FILE');
    const cap = throughDevice(ref, { latencySamples: 100 });
    cap[5000] = Infinity;
    const r = analyze(mono(ref), mono(cap), { fidelity: false });
    expect(r.signalFound).toBe(true);
    expect(r.warnings?.some((w) => w.includes('non-finite'))).toBe(true);
    expect(Math.abs(r.latency!.samples - 100)).toBeLessThan(0.01);
  });

  it('a pure sine: latency null with a periodicity warning, level still measured', () => {
    const sine = new Float32Array(2 * rate);
    for (let i = 0; i < sine.length; i++) sine[i] = 0.5 * Math.sin((2 * Math.PI * 1000 * i) / rate);
    const r = analyze(mono(sine), mono(throughDevice(sine, { latencySamples: 300, gainDb: -6 })), { fidelity: false });
    expect(r.signalFound).toBe(true);
    expect(r.latency).toBeNull();
    expect(r.warnings).toContain('reference is periodic (period 1.000 ms): latency is ambiguous');
    expect(Math.abs(r.driftPpm!)).toBeLessThan(5);
  });

  it('runs fidelity by default', () => {
    const cap = throughDevice(ref, { latencySamples: 100 });
    const r = analyze(mono(ref), mono(cap));
    expect('thdnDb' in r).toBe(true);
    expect('frequencyResponse' in r).toBe(true);
  });
});
