/**
 * Dropout detection against known answers: gaps, zero-fills, clicks and inserted audio placed at known capture
 * samples (dropout-cases.ts), with the truth alignment given with block-rounded (±4096) segment boundaries.
 * The spec tolerances (position ±10 ms, duration within max(1.5 ms, 25 %)) are applied by matchDropouts; tighter
 * bounds below are stated where the method is exact by construction.
 */
import { describe, expect, it } from 'vitest';
import { detectDropouts } from '../../src/analysis/dropouts.js';
import { makeCase, matchDropouts, referenceFor, type Impairment, type Material } from './dropout-cases.js';

const RATES = [48000, 44100] as const;
const MATERIALS: Material[] = ['sweep', 'white', 'pink', 'tone'];
const LENGTHS_MS = [2, 5, 10, 25];

const framesFor = (ms: number, rate: number): number => Math.round((ms * rate) / 1000);

describe.each(RATES)('at %i Hz', (rate) => {
  describe.each(MATERIALS)('inside %s', (material) => {
    const { reference, spot } = referenceFor(material, rate);

    it.each(LENGTHS_MS)('finds a %i ms gap, at the sample, with the length from the segment offsets', (ms) => {
      const frames = framesFor(ms, rate);
      // Boundaries rounded DOWN to the 4096 block for odd lengths, UP for even ones: both directions exercised.
      const c = makeCase({ rate, reference, impairments: [{ kind: 'gap', atRefSeconds: spot, frames }], rounding: ms % 2 ? 'floor' : 'ceil' });
      const r = detectDropouts(c.reference, c.capture, rate, c.alignment);
      const m = matchDropouts(r.dropouts, c.expected, rate);
      expect(m.problems).toEqual([]);
      // The gap length is the offset difference, exact; 1e-9 ms covers float rounding of frames/rate·1000.
      expect(r.dropouts[0]!.durationMs).toBeCloseTo((frames / rate) * 1000, 9);
      // Broadband material pins the split to the sample (measured: 0 samples). In the 997 Hz tone the split only
      // shows as a small phase jump (2 ms ≈ 1.994 periods: 0.6 % of a cycle), so the spec's ±10 ms applies there.
      const splitTolerance = material === 'tone' ? framesFor(10, rate) : 1;
      expect(Math.abs(r.segments[0]!.captureEnd - c.expected[0]!.atSample)).toBeLessThanOrEqual(splitTolerance);
      expect(r.segments[1]!.captureStart).toBe(r.segments[0]!.captureEnd);
      // Level metrics must leave the splice out.
      const at = c.expected[0]!.atSample;
      expect(r.excluded.some(([s, e]) => s <= at && at < e)).toBe(true);
    });

    it.each(LENGTHS_MS)('finds a %i ms zero-fill with its exact extent', (ms) => {
      const frames = framesFor(ms, rate);
      const c = makeCase({ rate, reference, impairments: [{ kind: 'silence', atRefSeconds: spot, frames }] });
      const r = detectDropouts(c.reference, c.capture, rate, c.alignment);
      expect(matchDropouts(r.dropouts, c.expected, rate).problems).toEqual([]);
      // The zero run is read directly; ends are trimmed only where the aligned reference itself is ≈ 0 (a zero
      // crossing), which costs at most a couple of samples: 2 samples of tolerance on start and length.
      const d = r.dropouts[0]!;
      expect(Math.abs(d.atSeconds * rate - c.expected[0]!.atSample)).toBeLessThanOrEqual(2);
      expect(Math.abs((d.durationMs * rate) / 1000 - frames)).toBeLessThanOrEqual(2);
      // Timeline kept: no segment was added.
      expect(r.segments).toHaveLength(1);
    });

    it('finds single-sample clicks of ±0.1 (on −6 dBFS peak sweep/tone, −12 dBFS RMS noise), also at 40 dB SNR', () => {
      const clicks: Impairment[] = [
        { kind: 'click', atRefSeconds: spot, amplitude: 0.1 },
        { kind: 'click', atRefSeconds: spot + 0.2, amplitude: -0.1 },
      ];
      for (const noiseDbfs of [undefined, -52]) {
        const c = makeCase({ rate, reference, impairments: clicks, ...(noiseDbfs === undefined ? {} : { noiseDbfs }) });
        const r = detectDropouts(c.reference, c.capture, rate, c.alignment);
        const m = matchDropouts(r.dropouts, c.expected, rate);
        expect(m.problems).toEqual([]);
        // A single-sample click is reported at its sample and 1 sample long (measured: exact).
        for (const [i, d] of r.dropouts.entries()) {
          expect(Math.round(d.atSeconds * rate)).toBe(c.expected[i]!.atSample);
          expect(d.durationMs).toBeCloseTo(1000 / rate, 9);
        }
      }
    });
  });

  it('reports inserted zeros as silence and inserted (repeated) audio as a gap, with the inserted length', () => {
    const { reference, spot } = referenceFor('white', rate);
    const frames = framesFor(10, rate);
    for (const content of ['zeros', 'repeat'] as const) {
      const c = makeCase({ rate, reference, impairments: [{ kind: 'insert', atRefSeconds: spot, frames, content }], rounding: 'floor' });
      const r = detectDropouts(c.reference, c.capture, rate, c.alignment);
      expect(matchDropouts(r.dropouts, c.expected, rate).problems).toEqual([]);
      // Inserted length = offset difference, exact (1e-9 ms: float rounding only).
      expect(r.dropouts[0]!.durationMs).toBeCloseTo((frames / rate) * 1000, 9);
      // The inserted span belongs to no segment: the right segment starts `frames` after the left one ends.
      expect(r.segments[1]!.captureStart - r.segments[0]!.captureEnd).toBe(frames);
    }
  });

  it('finds several dropouts of mixed kinds in one drifting, gained, noisy capture: all, none extra, kinds right', () => {
    const reference = referenceFor('sweep', rate).reference;
    const c = makeCase({
      rate,
      reference,
      driftPpm: 120,
      gainDb: -6,
      noiseDbfs: -60,
      rounding: 'round',
      impairments: [
        { kind: 'gap', atRefSeconds: 0.3, frames: framesFor(5, rate) },
        { kind: 'silence', atRefSeconds: 0.55, frames: framesFor(10, rate) },
        { kind: 'click', atRefSeconds: 0.8, amplitude: 0.1 },
        { kind: 'insert', atRefSeconds: 1.0, frames: framesFor(3, rate), content: 'zeros' },
        { kind: 'gap', atRefSeconds: 1.25, frames: framesFor(2, rate) },
      ],
    });
    const r = detectDropouts(c.reference, c.capture, rate, c.alignment);
    const m = matchDropouts(r.dropouts, c.expected, rate);
    expect(m.problems).toEqual([]);
    expect(r.dropouts.map((d) => d.kind)).toEqual(['gap', 'silence', 'click', 'silence', 'gap']);
    // Measured 0 ms position error; the bound is one sample.
    expect(m.maxPositionErrorMs).toBeLessThanOrEqual(1000 / rate);
    expect(r.segments).toHaveLength(4);
  });
});
