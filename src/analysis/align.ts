/**
 * Alignment of a capture to its reference: where the reference is (latency), how the capture clock runs against it
 * (drift), and where the timeline jumps (gaps / inserted audio), as the piecewise linear map of `Alignment`.
 *
 * Conventions (design.md, types.ts):
 * - Within segment s the capture position of reference sample r is c(r) = offset_s + r · ratio (capture samples).
 * - Latency = offset of the FIRST segment = capture position of the reference's first sample, positive = capture
 *   later, in capture samples (before any dropout or drift moves it); ms = samples / sampleRate · 1000.
 * - ratio = capture samples per reference sample; driftPpm = (ratio − 1) · 1e6, positive when the capture holds
 *   more samples for the same content.
 *
 * Method:
 * 1. Detect: a short probe (0.15 s, short enough that ±500 ppm of drift smears it by < 4 samples) from the least
 *    ambiguous stretch of the reference is located in the whole capture by FFT cross-correlation, normalised by
 *    the capture's sliding energy. Peak ρ below `minCorrelation` ⇒ signal not found (null).
 * 2. Track: the reference is cut into blocks (≈85 ms); each is located near its predicted capture position by a
 *    float64 time-domain correlation at ±4 lags, refined to the sub-sample by the phase slope of the windowed
 *    cross-spectrum (unbiased, no interpolation of the correlation peak). Blocks that do not match there (after a
 *    gap or inserted audio) are searched ±0.5 s by FFT, and after repeated failures over the whole capture. Wide
 *    searches use the block resampled by the current ratio (a sweep's drift otherwise moves its correlation
 *    envelope by ε·L, cycles at high frequencies) and compare sinc-interpolated peaks (integer-lag ρ of a high
 *    carrier depends on its sampling phase); a low-frequency block that matches worse than its neighbours is
 *    re-located by a 4-block probe. Blocks mostly above 0.85 × Nyquist are not tracked.
 * 3. Fit: one common ratio and one offset per segment, weighted least squares (weights ≈ inverse variance of
 *    each block's estimate), with steps confirmed by the following blocks starting a new segment and
 *    isolated outliers (clicks, zero-fills) rejected. Blocks the fit maps to a poor match are re-searched, and a
 *    segment of periodic content (known only modulo its period) joins a uniquely anchored neighbour it matches.
 * 4. Confidence: a long (1.5 s) stretch of the reference, resampled by the fitted ratio, correlated around its
 *    fitted position: confidence = ρ × uniqueness, uniqueness = 1 − (highest peak outside the main lobe within
 *    ±0.75 s) / main peak. A periodic reference (pure sine) has uniqueness ≈ 0: its latency is ambiguous.
 */
import type { Alignment, AlignmentSegment } from './types.js';
import { crossCorrelateRange, dotAt, energyAt, slidingEnergy } from './correlate.js';
import { fftSize, multiplySpectra, realFft } from '../dsp/fft.js';
import { delay, readLinear, sampleAt } from '../dsp/sinc.js';

export interface AlignOptions {
  /** Detection probe length, seconds. Default 0.15. */
  probeSeconds?: number;
  /** Reference stretch used for the confidence (uniqueness) check, seconds. Default 1.5. */
  confidenceSeconds?: number;
  /** Lag-track block length, samples (multiple of 32). Default: power of two nearest 85 ms (4096 at 48 kHz). */
  blockSamples?: number;
  /** Minimum normalised correlation of the detection probe to call the reference found. Default max(0.2, 10/√N). */
  minCorrelation?: number;
}

/** One lag-track point: the reference block centred at `reference` sits at capture position `capture`. */
export interface TrackPoint {
  /** Reference position (block centre), reference samples. */
  reference: number;
  /** Capture position of that reference position, capture samples (sub-sample). */
  capture: number;
  /** Spectral coherence of the block with the capture at that position, 0…1. */
  correlation: number;
  /** Fit weight ∝ 1 / variance of `capture` (coherence SNR × mean-square bandwidth). */
  weight: number;
}

export interface AlignResult extends Alignment {
  /**
   * When the confidence check found a competing peak ≥ half the main one: its distance from the main peak, capture
   * samples (the period of a periodic reference). Null when the peak is unique.
   */
  ambiguityPeriodSamples: number | null;
  /** Lag-track points used by the fit, sorted by reference position (block-accurate segment evidence). */
  track: TrackPoint[];
  /** Lag-track block length, samples. */
  blockSamples: number;
}

/** The reference is "silent" below this fraction of its peak magnitude (−60 dB). */
const SILENCE_FRACTION = 1e-3;
/** Main-lobe exclusion for uniqueness never extends beyond this (a 20 Hz tone still reads as periodic). */
const MAX_LOBE_SECONDS = 0.005;
/** Main-lobe exclusion for uniqueness is at least this wide (see `uniqueness`). */
const MIN_LOBE_SECONDS = 0.0005;
/** Segment step threshold, samples: offsets jumping by more than this (and confirmed) start a new segment. */
const STEP_SAMPLES = 1.5;

/**
 * Align `capture` to `reference` (same sample rate, mono). Returns null when the reference is not found in the
 * capture (or either is silent).
 */
export function align(reference: Float32Array, capture: Float32Array, sampleRate: number, options: AlignOptions = {}): AlignResult | null {
  const peakRef = maxAbs(reference);
  if (peakRef === 0 || maxAbs(capture) === 0) return null;
  const start = firstAbove(reference, peakRef * SILENCE_FRACTION);
  const end = lastAbove(reference, peakRef * SILENCE_FRACTION) + 1;
  const content = end - start;

  // Long window for the confidence check: the head, or the least ambiguous stretch (composite references).
  const longLength = Math.min(content, Math.max(64, Math.round((options.confidenceSeconds ?? 1.5) * sampleRate)));
  const longStart = leastAmbiguousWindow(reference, start, end, longLength, sampleRate);

  // 1. Detect.
  const probeLength = Math.min(longLength, Math.max(64, Math.round((options.probeSeconds ?? 0.15) * sampleRate)));
  const probeStart = leastAmbiguousWindow(reference, longStart, longStart + longLength, probeLength, sampleRate);
  const probe = reference.subarray(probeStart, probeStart + probeLength);
  const minLag = -Math.floor(probeLength / 2);
  const maxLag = capture.length - Math.ceil(probeLength / 2);
  if (maxLag < minLag) return null;
  const detect = normalizedSearch(capture, probe, minLag, maxLag, true, sampleRate);
  const threshold = options.minCorrelation ?? Math.max(0.2, 10 / Math.sqrt(probeLength));
  const detectPeak = refinePeak(detect.rho!, detect.index);
  if (!(detectPeak.rho >= threshold)) return null;
  const detectLag = minLag + detectPeak.position;

  // 2. Track.
  const block = options.blockSamples ?? blockLengthFor(content, sampleRate);
  const track = trackBlocks(reference, capture, sampleRate, start, end, block, { reference: probeStart, capture: detectLag }, detectPeak.rho);

  // 3. Fit, then check every block against the fit: a narrowband block (a sweep's top octaves) can be tracked one
  // carrier cycle off the truth after a gap, the track then misses the gap entirely. Blocks the fit does not
  // explain are searched again widely, without the track's prediction, and the fit is redone.
  let fit = fitTrack(track, block, capture.length);
  if (fit) {
    const corrected = recheckBlocks(reference, capture, sampleRate, start, end, block, fit, track, detectPeak.rho);
    if (corrected) fit = fitTrack(corrected, block, capture.length) ?? fit;
  }
  // 3a. A segment of periodic content (a tone section after a gap inside it) is tracked on the nearest cycle: its
  // offset is only known modulo the period. When its blocks match a neighbour's offset as well as their own, they
  // are moved there (by exactly the offset difference), so the gap sits where it happened.
  if (fit && fit.segments.length > 1) {
    const adopted = adoptNeighbourOffsets(reference, capture, block, fit);
    if (adopted) fit = fitTrack(adopted, block, capture.length) ?? fit;
  }
  let ratio: number;
  let segments: AlignmentSegment[];
  if (fit) {
    ratio = fit.ratio;
    segments = fit.segments;
  } else {
    ratio = 1;
    segments = [{ captureStart: 0, captureEnd: capture.length, offsetSamples: detectLag - probeStart }];
  }

  // 3b. The reference's first content may sit before the first tracked block (a gap within the first block or
  // two leaves too few blocks to track): look for the head where the first segment does not put it.
  const head = headSegment(reference, capture, sampleRate, start, end, ratio, segments);
  if (head) segments = [head, ...segments.map((s, i) => (i === 0 ? { ...s, captureStart: head.captureEnd } : s))];

  // 4. Confidence from the long window, resampled onto the capture clock. A window straddling a gap matches two
  // places at once and reads as ambiguous (a 10 ms gap halved it), so each single-segment part of the window is
  // judged and the clearest one counts.
  let check: ReturnType<typeof confidenceCheck> = null;
  for (const w of windowsWithinSegments(longStart, longLength, segments, ratio, probeLength)) {
    const c = confidenceCheck(reference, capture, sampleRate, w.start, w.length, ratio, segments, track);
    if (c && (!check || c.rho * c.uniqueness > check.rho * check.uniqueness)) check = c;
  }
  const correlation = Math.max(detectPeak.rho, check?.rho ?? 0);
  const confidence = check ? clamp01(check.rho * check.uniqueness) : clamp01(detectPeak.rho * detect.uniqueness);
  const latencySamples = segments[0]!.offsetSamples;
  return {
    latency: { samples: latencySamples, ms: (latencySamples / sampleRate) * 1000, confidence },
    ratio,
    // driftPpm = (capture clock / reference clock − 1)·1e6 = (ratio − 1)·1e6: positive ⇒ capture holds more samples.
    driftPpm: (ratio - 1) * 1e6,
    segments,
    correlation: clamp01(correlation),
    ambiguityPeriodSamples: check ? check.period : detect.period,
    track: fit ? fit.inliers : track,
    blockSamples: block,
  };
}

/**
 * The reference mapped onto the capture timeline: y[n] = reference((n − offset_s) / ratio) for n in segment s's
 * capture range (windowed-sinc interpolation via readLinear), zero outside the mapped region.
 */
/** Max change of the delay within one constant-delay block, samples. */
const DELAY_STEP = 1e-4;
/** Shorter blocks than this are not worth an FFT each: use per-sample interpolation instead. */
const MIN_DELAY_BLOCK = 4096;

export function alignedReference(reference: Float32Array, segments: readonly AlignmentSegment[], ratio: number, captureLength: number): Float32Array {
  const y = new Float32Array(captureLength);
  const step = 1 / ratio;
  for (const s of segments) {
    const from = Math.max(0, Math.floor(s.captureStart));
    const to = Math.min(captureLength, Math.ceil(s.captureEnd));
    if (to <= from) continue;
    // Capture m shows reference position (m − offset)/ratio, i.e. the reference delayed by
    // d(m) = m − (m − offset)/ratio. Where d moves by less than DELAY_STEP over a block, one constant
    // fractional delay per block (FFT, one kernel) replaces per-sample weights (readLinear, ~10× slower);
    // the error is ≤ DELAY_STEP/2 sample (−78 dB at 20 kHz / 48 kHz). Large drift keeps readLinear.
    const drift = Math.abs(1 - step) * (to - from);
    const blocks = Math.max(1, Math.ceil(drift / DELAY_STEP));
    const blockLength = Math.ceil((to - from) / blocks);
    if (blocks === 1 || blockLength >= MIN_DELAY_BLOCK) {
      for (let b0 = from; b0 < to; b0 += blockLength) {
        const b1 = Math.min(to, b0 + blockLength);
        const mid = (b0 + b1) / 2;
        const d = mid - (mid - s.offsetSamples) * step;
        const s0 = Math.max(0, Math.floor(b0 - d) - 64);
        const s1 = Math.min(reference.length, Math.ceil(b1 - d) + 64);
        if (s1 > s0) constantDelay(reference.subarray(s0, s1), d + s0 - b0, y.subarray(b0, b1));
      }
      continue;
    }
    y.set(readLinear(reference, (from - s.offsetSamples) * step, step, to - from), from);
  }
  return y;
}

/**
 * delay(x, d, length) (sinc.ts: y[n] = x(n − d), same Kaiser-windowed sinc) computed by FFT: integer delays are
 * copies; a fractional one convolves x with the 64-tap kernel obtained by delaying a unit impulse, via overlap-save
 * (float32 FFT rounding ≈ 1e-7 of full scale, far below any SNR we measure). Written into `out` (length = out.length).
 */
function constantDelay(x: Float32Array, d: number, out: Float32Array): void {
  const length = out.length;
  const whole = Math.floor(d);
  const frac = d - whole;
  if (frac === 0 || length < 4096) {
    out.set(delay(x, d, length));
    return;
  }
  // z[n] = impulse(n − frac − 64): the kernel, nonzero for n ∈ [33, 96].
  const impulse = new Float32Array(160);
  impulse[64] = 1;
  const z = delay(impulse, frac);
  // y[n] = Σ_t K[t]·x[n − whole + 31 − t] with K = z[33…96]; as a correlation with R[u] = K[63 − u]:
  // y[n] = Σ_u R[u]·x[(n − whole − 32) + u] = c[n − whole − 32].
  const r = new Float32Array(64);
  for (let u = 0; u < 64; u++) r[u] = z[96 - u]!;
  const first = -whole - 32;
  crossCorrelateRange(x, r, first, first + length - 1, out);
}

// ---------------------------------------------------------------------------------------------------------------
// Detection and uniqueness

interface SearchResult {
  index: number;
  rho: Float32Array | null;
  peak: number;
  uniqueness: number;
  period: number | null;
}

/**
 * Normalised cross-correlation ρ[k] = c[k] / √(E_probe · E_capture[k, k+N)) over lags [minLag, maxLag]. Windows
 * quieter than 60 dB below the loudest searched window get ρ = 0 (FFT rounding there is not a match).
 * Returns the peak index and, when `keep`, the ρ array (for sub-sample refinement and uniqueness).
 */
function normalizedSearch(capture: Float32Array, probe: Float32Array, minLag: number, maxLag: number, keep: boolean, sampleRate = 0): SearchResult {
  const corr = crossCorrelateRange(capture, probe, minLag, maxLag);
  const rho = corr.values;
  const energy = slidingEnergy(capture, minLag, probe.length, rho.length);
  const probeEnergy = energyAt(probe, 0, probe.length);
  const gate = maxOf(energy) * 1e-6;
  const { index, best } = normalizeInPlace(rho, energy, probeEnergy, gate);
  const u = sampleRate > 0 ? uniqueness(rho, index, sampleRate) : { uniqueness: 1, period: null };
  return { index, rho: keep ? rho : null, peak: best, uniqueness: u.uniqueness, period: u.period };
}

function maxOf(x: Float32Array): number {
  let m = 0;
  for (let i = 0; i < x.length; i++) if (x[i]! > m) m = x[i]!;
  return m;
}

/**
 * ρ[i] = c[i] / √(E_probe · E[i]) in place (0 where E[i] ≤ gate); returns the index of the first maximum ρ > 0
 * (0 when none is positive) and that maximum in float64 (0 when none).
 */
function normalizeInPlace(rho: Float32Array, energy: Float32Array, probeEnergy: number, gate: number): { index: number; best: number } {
  let best = 0;
  let index = 0;
  for (let i = 0; i < rho.length; i++) {
    const e = energy[i]!;
    const v = e > gate && e > 0 ? rho[i]! / Math.sqrt(probeEnergy * e) : 0;
    rho[i] = v;
    if (v > best) {
      best = v;
      index = i;
    }
  }
  return { index, best };
}

/**
 * 1 − (highest value outside the main lobe) / peak. The main lobe ends at the first zero crossing on each side,
 * but at least MIN_LOBE_SECONDS (the sinc sidelobes of a fractional-delay, band-limited peak, ≈ 1/(π·k), belong to
 * the peak, not to a competitor) and at most MAX_LOBE_SECONDS. When the competing value is ≥ half the peak (a
 * periodic reference), period = the shortest lag that repeats it (the competitor may be a multiple), else null.
 */
function uniqueness(values: Float32Array, index: number, sampleRate: number): { uniqueness: number; period: number | null } {
  const peak = values[index]!;
  if (!(peak > 0)) return { uniqueness: 0, period: null };
  const minLobe = Math.max(2, Math.round(MIN_LOBE_SECONDS * sampleRate));
  const maxLobe = Math.max(minLobe, Math.round(MAX_LOBE_SECONDS * sampleRate));
  let right = 1;
  while (right < maxLobe && index + right < values.length && values[index + right]! > 0) right++;
  let left = 1;
  while (left < maxLobe && index - left >= 0 && values[index - left]! > 0) left++;
  const lobe = Math.max(left, right); // one side may be cut short by the array edge
  right = Math.max(minLobe, right);
  left = Math.max(minLobe, left);
  let second = 0;
  let at = -1;
  for (let i = 0; i < values.length; i++) {
    if (i > index - left && i < index + right) continue;
    if (values[i]! > second) {
      second = values[i]!;
      at = i;
    }
  }
  let period: number | null = null;
  if (second >= 0.5 * peak && at >= 0) {
    // The competitor may sit at any multiple of the period: the period is the nearest local maximum beyond the
    // zero-crossing lobe that reaches 80 % of the competitor, searched on the side of the competitor.
    const dir = at > index ? 1 : -1;
    period = Math.abs(at - index);
    for (let d = lobe + 1; d < period; d++) {
      const j = index + dir * d;
      const v = values[j]!;
      if (v >= 0.8 * second && v >= values[j - 1]! && v >= values[j + 1]!) {
        period = d;
        break;
      }
    }
  }
  return { uniqueness: clamp01(1 - second / peak), period };
}

/** Sub-sample peak of a band-limited sequence: golden-section search of its sinc interpolation within ±1 sample. */
function refinePeak(values: Float32Array, index: number): { position: number; rho: number } {
  const f = (t: number): number => sampleAt(values, t);
  let a = index - 1;
  let b = index + 1;
  const g = (Math.sqrt(5) - 1) / 2;
  let x1 = b - g * (b - a);
  let x2 = a + g * (b - a);
  let f1 = f(x1);
  let f2 = f(x2);
  for (let it = 0; it < 40 && b - a > 1e-4; it++) {
    if (f1 < f2) {
      a = x1;
      x1 = x2;
      f1 = f2;
      x2 = a + g * (b - a);
      f2 = f(x2);
    } else {
      b = x2;
      x2 = x1;
      f2 = f1;
      x1 = b - g * (b - a);
      f1 = f(x1);
    }
  }
  const t = (a + b) / 2;
  const v = f(t);
  // Never report less than the sampled peak itself (the interpolation can undershoot at the array edges).
  return values[index]! >= v ? { position: index, rho: values[index]! } : { position: t, rho: v };
}

/**
 * The highest sinc-interpolated local maximum within ±PEAK_REACH samples of `index`. A narrowband correlation
 * has many carrier-cycle peaks of nearly equal height under its envelope; sampled at integer lags the highest one
 * is chosen by its sampling phase (1 − cos(π·f/fs·…): 16 % at 8 kHz / 44.1 kHz), so each is refined.
 */
function bestPeakNear(values: Float32Array, index: number): { position: number; rho: number } {
  let best = refinePeak(values, index);
  for (let i = Math.max(1, index - PEAK_REACH); i < Math.min(values.length - 1, index + PEAK_REACH + 1); i++) {
    if (i === index || !(values[i]! >= values[i - 1]! && values[i]! > values[i + 1]!) || !(values[i]! > 0.5 * best.rho)) continue;
    const p = refinePeak(values, i);
    if (p.rho > best.rho) best = p;
  }
  return best;
}
const PEAK_REACH = 16;

/** Sinc-interpolated peak value of the local maximum of `values` reached by climbing from `index` (at most 8 samples). */
function localPeakNear(values: Float32Array, index: number): number {
  let i = Math.max(0, Math.min(values.length - 1, index));
  for (let step = 0; step < 8; step++) {
    if (i > 0 && values[i - 1]! > values[i]!) i--;
    else if (i + 1 < values.length && values[i + 1]! > values[i]!) i++;
    else break;
  }
  return refinePeak(values, i).rho;
}

/** Normalised autocorrelation uniqueness of x (1 = one sharp peak, 0 = periodic). */
function intrinsicUniqueness(x: Float32Array, sampleRate: number): number {
  const n = fftSize(2 * x.length);
  const fft = realFft(n);
  const spectrum = fft.forward(x);
  const r = fft.inverse(multiplySpectra(spectrum, spectrum, true));
  if (!(r[0]! > 0)) return 0;
  // Lags 0…N/2 (the autocorrelation is symmetric); the far half has too little overlap to matter.
  const half = r.subarray(0, Math.max(3, Math.floor(x.length / 2)));
  return uniqueness(half, 0, sampleRate).uniqueness;
}

/**
 * Start of the `length`-sample window within [from, to) whose autocorrelation is least ambiguous: the first one
 * when it is unique enough (≥ 0.7), else the best of up to 24 evenly spaced candidates with real energy.
 */
function leastAmbiguousWindow(x: Float32Array, from: number, to: number, length: number, sampleRate: number): number {
  if (to - from <= length) return from;
  const head = x.subarray(from, from + length);
  const headUnique = intrinsicUniqueness(head, sampleRate);
  if (headUnique >= 0.7) return from;
  const headEnergy = energyAt(x, from, length);
  const span = to - from - length;
  const count = Math.min(24, Math.max(1, Math.floor(span / Math.max(1, Math.floor(length / 2)))));
  let best = from;
  let bestU = headUnique;
  for (let i = 1; i <= count; i++) {
    const s = from + Math.round((span * i) / count);
    if (energyAt(x, s, length) < 0.1 * headEnergy) continue;
    const u = intrinsicUniqueness(x.subarray(s, s + length), sampleRate);
    if (u > bestU + 0.05) {
      bestU = u;
      best = s;
    }
  }
  return best;
}

// ---------------------------------------------------------------------------------------------------------------
// Lag track

function blockLengthFor(content: number, sampleRate: number): number {
  let b = 2 ** Math.round(Math.log2(0.085 * sampleRate));
  // Short references: at least two blocks when possible, never below 256 samples.
  while (b > 256 && b * 2 > content) b /= 2;
  return Math.max(32, b);
}

const hannCache = new Map<number, Float32Array>();
function hann(n: number): Float32Array {
  let w = hannCache.get(n);
  if (!w) {
    w = new Float32Array(n);
    for (let i = 0; i < n; i++) w[i] = 0.5 - 0.5 * Math.cos((2 * Math.PI * (i + 0.5)) / n);
    hannCache.set(n, w);
  }
  return w;
}

interface Refined {
  /** Residual delay of the capture block relative to the reference block, samples (capture later = positive). */
  delta: number;
  coherence: number;
  /** Power-weighted mean-square angular frequency, rad²/sample². */
  omega2: number;
  /** Fraction of the reference block's power in the bins the estimate uses (below 0.85 × Nyquist). */
  inBand: number;
}

/**
 * Phase-slope delay between reference block [r0, r0+B) and capture block [c0, c0+B), both Hann-windowed:
 * C(ω) ≈ R(ω)·e^(−iωδ) ⇒ arg(C·R*) = −ωδ; δ = −Σ w·φ·ω / Σ w·ω² with w = |C·R*| (≈ inverse phase variance),
 * after a wrap-free integer first estimate from the peak of the correlation envelope. Callers keep |δ| ≲ 0.5 sample so the
 * two windows overlap as much as possible.
 */
function phaseSlope(
  reference: Float32Array,
  r0: number,
  capture: Float32Array,
  c0: number,
  b: number,
  scratch: Scratch,
  hint: number | null,
): Refined | null {
  const w = hann(b);
  const rb = scratch.ref;
  const cb = scratch.cap;
  if (r0 >= 0 && r0 + b <= reference.length && c0 >= 0 && c0 + b <= capture.length) {
    for (let n = 0; n < b; n++) {
      const wn = w[n]!;
      rb[n] = reference[r0 + n]! * wn;
      cb[n] = capture[c0 + n]! * wn;
    }
  } else {
    for (let n = 0; n < b; n++) {
      const i = r0 + n;
      const j = c0 + n;
      rb[n] = i >= 0 && i < reference.length ? reference[i]! * w[n]! : 0;
      cb[n] = j >= 0 && j < capture.length ? capture[j]! * w[n]! : 0;
    }
  }
  const fft = realFft(b);
  const R = fft.forward(rb, scratch.refSpectrum);
  const C = fft.forward(cb, scratch.capSpectrum);
  const dw = (2 * Math.PI) / b;
  // Bins above 0.85 × Nyquist are left out: interpolators and anti-alias filters (ours: flat to 0.9 × Nyquist) do
  // not delay that band with linear phase, which biased the estimate by ~0.01 sample on white noise.
  const top = Math.floor(0.85 * (b / 2));
  const S = scratch.cross;
  let powerC = 0;
  let powerR = 0;
  for (let k = 1; k < top; k++) {
    const rr = R[2 * k]!, ri = R[2 * k + 1]!, cr = C[2 * k]!, ci = C[2 * k + 1]!;
    S[2 * k] = cr * rr + ci * ri;
    S[2 * k + 1] = ci * rr - cr * ri;
    powerC += cr * cr + ci * ci;
    powerR += rr * rr + ri * ri;
  }
  // Stage 1, wrap-free: the integer τ ∈ [−4, 4] maximising the correlation ENVELOPE |Σ S_k·e^(+iω_k·τ)| (analytic
  // signal of the cross-correlation). A narrowband block (a sweep's top octave) has a correlation whose carrier
  // repeats every few samples; its envelope does not, so the fine stage below starts on the right cycle.
  const envelope = scratch.envelope;
  let maxEnvelope = 0;
  // Every 4th bin suffices: the sum then aliases only at |τ| = B/4, far outside ±4.
  const stride = 4;
  for (let tau = -4; tau <= 4; tau++) {
    const stepR = Math.cos(dw * stride * tau), stepI = Math.sin(dw * stride * tau);
    let zr = Math.cos(dw * tau), zi = Math.sin(dw * tau); // e^(iω_1·τ)
    let er = 0, ei = 0;
    for (let k = 1; k < top; k += stride) {
      const sr = S[2 * k]!, si = S[2 * k + 1]!;
      er += sr * zr - si * zi;
      ei += sr * zi + si * zr;
      const nr = zr * stepR - zi * stepI;
      zi = zr * stepI + zi * stepR;
      zr = nr;
    }
    envelope[tau + 4] = er * er + ei * ei;
    maxEnvelope = Math.max(maxEnvelope, envelope[tau + 4]!);
  }
  // A broadband block has one sharp envelope peak. A narrowband one has a flat envelope top (several cycles within
  // 10 % of the peak amplitude, i.e. 81 % of its power): then the cycle nearest the track's prediction (`hint`) wins.
  let delta0 = 0;
  let bestScore = -Infinity;
  for (let tau = -4; tau <= 4; tau++) {
    const e = envelope[tau + 4]!;
    const score = hint === null ? e : e >= 0.81 * maxEnvelope ? -Math.abs(tau - hint) : -Infinity;
    if (score > bestScore) {
      bestScore = score;
      delta0 = tau;
    }
  }
  // Stage 2, precise: residual phase after removing δ0, weighted least squares through the origin.
  let num = 0;
  let den = 0;
  let sumMag = 0;
  const rotR = Math.cos(dw * delta0), rotI = Math.sin(dw * delta0);
  let c = rotR, s = rotI; // e^(iω_k·δ0) by recurrence
  for (let k = 1; k < top; k++) {
    if (k > 1) {
      const nc = c * rotR - s * rotI;
      s = c * rotI + s * rotR;
      c = nc;
    }
    const omega = k * dw;
    const sr = S[2 * k]!, si = S[2 * k + 1]!;
    const mag = Math.sqrt(sr * sr + si * si);
    if (mag === 0) continue;
    // arg(S·e^(+iωδ0)): the phase left after removing δ0.
    const phase = Math.atan2(si * c + sr * s, sr * c - si * s);
    num += mag * phase * omega;
    den += mag * omega * omega;
    sumMag += mag;
  }
  if (!(den > 0) || !(powerC > 0) || !(powerR > 0)) return null;
  let powerAll = powerR;
  for (let k = top; k < b / 2; k++) powerAll += R[2 * k]! * R[2 * k]! + R[2 * k + 1]! * R[2 * k + 1]!;
  return { delta: delta0 - num / den, coherence: Math.min(1, sumMag / Math.sqrt(powerC * powerR)), omega2: den / sumMag, inBand: powerR / powerAll };
}

interface Scratch {
  ref: Float32Array;
  cap: Float32Array;
  refSpectrum: Float32Array;
  capSpectrum: Float32Array;
  cross: Float64Array;
  envelope: Float64Array;
}

/** Best integer lag by float64 normalised correlation at lags k0−K…k0+K (capture energy slid, not re-summed). */
function localSearch(reference: Float32Array, r0: number, capture: Float32Array, k0: number, b: number, k: number, refEnergy: number): { lag: number; rho: number } {
  let best = -Infinity;
  let lag = k0;
  // ±2 lags with every sample in range (the usual case): the five dot products in one pass, each summed in the
  // same order as dotAt (so the same float64 values).
  const dots = k === 2 && k0 - 2 >= 0 && k0 + 2 + b <= capture.length && r0 >= 0 && r0 + b <= reference.length ? dots5(capture, k0 - 2, reference, r0, b) : null;
  let e = energyAt(capture, k0 - k, b);
  for (let d = -k; d <= k; d++) {
    const at = k0 + d;
    if (d > -k) {
      const out = at - 1;
      const inn = at + b - 1;
      if (out >= 0 && out < capture.length) e -= capture[out]! * capture[out]!;
      if (inn >= 0 && inn < capture.length) e += capture[inn]! * capture[inn]!;
    }
    if (!(e > 0)) continue;
    const rho = (dots ? dots[d + 2]! : dotAt(capture, at, reference, r0, b)) / Math.sqrt(e * refEnergy);
    if (rho > best) {
      best = rho;
      lag = at;
    }
  }
  return { lag, rho: best };
}

const dotScratch = new Float64Array(5);

/** Σ a[a0 + d + n]·b[b0 + n], n = 0…length−1, for d = 0…4, float64, every index in range (caller checks). */
function dots5(a: Float32Array, a0: number, b: Float32Array, b0: number, length: number): Float64Array {
  let s0 = 0, s1 = 0, s2 = 0, s3 = 0, s4 = 0;
  let x0 = a[a0]!, x1 = a[a0 + 1]!, x2 = a[a0 + 2]!, x3 = a[a0 + 3]!;
  for (let n = 0; n < length; n++) {
    const x4 = a[a0 + n + 4]!;
    const y = b[b0 + n]!;
    s0 += x0 * y;
    s1 += x1 * y;
    s2 += x2 * y;
    s3 += x3 * y;
    s4 += x4 * y;
    x0 = x1;
    x1 = x2;
    x2 = x3;
    x3 = x4;
  }
  dotScratch[0] = s0;
  dotScratch[1] = s1;
  dotScratch[2] = s2;
  dotScratch[3] = s3;
  dotScratch[4] = s4;
  return dotScratch;
}

/**
 * Reference block [r0, r0 + b) as it appears on the capture clock: q[m] = reference(r0 + m / ratio) (readLinear).
 * Wide searches use it: a sweep block correlated without the drift peaks (envelope) ε·L away from its true lag
 * (the drift's pitch shift equals a time shift along the sweep; L = T / ln(f1/f0), 0.23 ms at 200 ppm for an
 * 8 s 20 Hz…20 kHz sweep), three carrier cycles at 12 kHz.
 */
function onCaptureClock(reference: Float32Array, r0: number, b: number, ratio: number): Float32Array {
  return ratio === 1 ? reference.subarray(r0, r0 + b) : readLinear(reference, r0, 1 / ratio, b);
}

function trackBlocks(
  reference: Float32Array,
  capture: Float32Array,
  sampleRate: number,
  start: number,
  end: number,
  b: number,
  anchor0: { reference: number; capture: number },
  detectRho: number,
): TrackPoint[] {
  const blocks: number[] = [];
  const energies: number[] = [];
  let maxEnergy = 0;
  for (let r0 = start; r0 + b <= end; r0 += b) {
    const e = energyAt(reference, r0, b);
    blocks.push(r0);
    energies.push(e);
    if (e > maxEnergy) maxEnergy = e;
  }
  if (blocks.length === 0 && end - start >= 32) {
    blocks.push(start);
    energies.push((maxEnergy = energyAt(reference, start, b)));
  }
  const scratch: Scratch = { ref: new Float32Array(b), cap: new Float32Array(b), refSpectrum: new Float32Array(b), capSpectrum: new Float32Array(b), cross: new Float64Array(b), envelope: new Float64Array(9) };
  const half = (b - 1) / 2;
  // ±2 lags around a prediction that is usually within 0.1 sample; a best lag on the edge re-centres the search.
  const K = 2;
  const wide = Math.max(4 * b, Math.round(0.5 * sampleRate));
  // A block matches when its correlation is at least 40 % of the detection probe's (lower ⇒ zero-fill, click, gap
  // inside the block, or the wrong place) and clearly above chance for B samples (≈ 8/√B).
  const accept = Math.max(0.4 * detectRho, 8 / Math.sqrt(b), 0.1);
  const points: TrackPoint[] = [];
  const startIndex = Math.max(0, Math.min(blocks.length - 1, Math.floor((anchor0.reference - start) / b)));
  const slopes: number[] = [];

  const runPass = (from: number, to: number, dir: 1 | -1, ratioInit: number): number => {
    let anchor = { ...anchor0 };
    let ratioEst = ratioInit;
    let failures = 0;
    let last: TrackPoint | null = null;
    const recentRho: number[] = [];
    for (let j = from; dir > 0 ? j < to : j > to; j += dir) {
      const r0 = blocks[j]!;
      const eRef = energies[j]!;
      if (!(eRef > maxEnergy * 1e-4)) continue; // too little energy to locate (−40 dB below the loudest block)
      const pred = anchor.capture + (r0 + half - anchor.reference) * ratioEst - half;
      if (pred + b <= 0 || pred >= capture.length) continue;
      let k0 = Math.round(pred);
      let found = localSearch(reference, r0, capture, k0, b, K, eRef);
      for (let step = 0; step < 3 && found.rho >= accept && Math.abs(found.lag - k0) === K; step++) {
        k0 = found.lag;
        found = localSearch(reference, r0, capture, k0, b, K, eRef);
      }
      let viaLocal = true;
      // Sub-sample capture position of the block (as `pred`: centre's position − half) from a wide search with a
      // drift-compensated probe, whose peak is the block START's position c(r0) = c(r0 + half) − half·ratio.
      // It picks the carrier cycle of a narrowband block when the prediction is not trusted.
      let wideAt: number | null = null;
      // Well below the recent blocks' correlation: possibly one carrier cycle off after a gap in narrowband
      // content (the local search only looks ±2 lags around the prediction). A wide search decides.
      const typical = recentRho.length >= 3 ? median(recentRho.slice(-8)) : -Infinity;
      if (found.rho >= accept && found.rho < typical - 0.1) {
        const s = normalizedSearch(capture, onCaptureClock(reference, r0, b, ratioEst), k0 - wide, k0 + wide, true, sampleRate);
        // Only a unique peak counts: a periodic block (a tone) matches every cycle equally. Peaks are compared
        // sub-sample (sinc-interpolated ρ): at integer lags a high carrier at a fractional delay reads low
        // (cos(ω·0.5) ≈ 0.7 at 12 kHz / 48 kHz) and a neighbouring cycle can win by its sampling phase alone.
        if (s.peak > found.rho + 0.05 && s.uniqueness >= 0.3) {
          const best = bestPeakNear(s.rho!, s.index);
          const here = localPeakNear(s.rho!, Math.round(pred - half * (ratioEst - 1)) - (k0 - wide));
          if (best.rho > here + 0.05) {
            found = { lag: k0 - wide + s.index, rho: s.peak };
            wideAt = k0 - wide + best.position + half * (ratioEst - 1);
            viaLocal = false;
          }
        } else if (s.uniqueness < 0.3) {
          // A few cycles of a low tone (a sweep's first second) match ±tens of samples off almost as well, and
          // every cycle alike: a probe LONG_PROBE_BLOCKS blocks long, ahead in the pass's direction (away from
          // a gap just passed), carries enough of the sweep to be unique.
          const longLength = LONG_PROBE_BLOCKS * b;
          const rs = dir > 0 ? r0 : r0 + b - longLength;
          if (rs >= start && rs + longLength <= end) {
            const shift = (rs - r0) * ratioEst; // capture distance from block start to probe start
            const kl = k0 + Math.round(shift);
            const sl = normalizedSearch(capture, onCaptureClock(reference, rs, longLength, ratioEst), kl - wide, kl + wide, true, sampleRate);
            // Not judged by uniqueness (a 40 Hz main lobe is wider than the uniqueness lobe): the best peak must
            // beat the current position clearly. A pure tone matches every cycle alike, so it never moves.
            if (sl.peak >= 0.9 * typical) {
              const best = bestPeakNear(sl.rho!, sl.index);
              const here = localPeakNear(sl.rho!, Math.round(pred - half * (ratioEst - 1) + shift) - (kl - wide));
              if (best.rho > here + 0.05) {
                const at = kl - wide + best.position - shift; // block start's capture position
                const moved = localSearch(reference, r0, capture, Math.round(at), b, K, eRef);
                found = { lag: Math.round(at), rho: moved.rho };
                wideAt = at + half * (ratioEst - 1);
                viaLocal = false;
              }
            }
          }
        }
      }
      if (!(found.rho >= accept)) {
        viaLocal = false;
        const probe = onCaptureClock(reference, r0, b, ratioEst);
        let s = normalizedSearch(capture, probe, k0 - wide, k0 + wide, true);
        let lag = k0 - wide + s.index;
        let at = s.peak > 0 ? k0 - wide + bestPeakNear(s.rho!, s.index).position : lag;
        at += half * (ratioEst - 1);
        if (!(s.peak >= accept) && failures >= 2 && (failures - 2) % 8 === 0) {
          // Repeated failures: the capture may have jumped further than ±0.5 s; search all of it.
          const lo = -Math.floor(b / 2);
          s = normalizedSearch(capture, probe, lo, capture.length - Math.ceil(b / 2), false);
          lag = lo + s.index;
          at = lag + half * (ratioEst - 1);
        }
        if (!(s.peak >= accept)) {
          failures++;
          continue;
        }
        // A block found far from its prediction but matching clearly worse than its recent neighbours straddles a
        // gap: its peak (partial overlap, broadened envelope) may sit cycles off on narrowband content, and the
        // next blocks would inherit that cycle. It is left out; the next clean block is searched afresh.
        if (s.peak < typical - 0.1) {
          failures++;
          continue;
        }
        found = { lag, rho: s.peak };
        wideAt = at;
      }
      // The prediction picks the cycle of narrowband blocks, but only when it is recent and the block was found
      // where predicted (after a wide search the track has jumped and the prediction is stale).
      const trusted = viaLocal && last !== null && Math.abs(r0 + half - last.reference) <= 4 * b;
      const hintAt = trusted ? pred : wideAt;
      let refined = phaseSlope(reference, r0, capture, found.lag, b, scratch, hintAt !== null ? hintAt - found.lag : null);
      if (refined && Math.abs(refined.delta) > 0.5) {
        found.lag += Math.round(refined.delta);
        refined = phaseSlope(reference, r0, capture, found.lag, b, scratch, hintAt !== null ? hintAt - found.lag : null);
      }
      // A block whose content lies mostly above the estimate's band (a sweep's last ≈ 80 ms at 44.1 kHz) is
      // neither evidence nor a failure: the device's interpolator bends that band's phase.
      if (refined && refined.inBand < MIN_IN_BAND) continue;
      if (!refined || Math.abs(refined.delta) > 1) {
        failures++;
        continue;
      }
      failures = 0;
      recentRho.push(found.rho);
      const c2 = Math.min(refined.coherence * refined.coherence, 0.999999);
      const point: TrackPoint = {
        reference: r0 + half,
        capture: found.lag + half + refined.delta,
        correlation: refined.coherence,
        weight: (c2 / (1 - c2)) * refined.omega2,
      };
      points.push(point);
      if (last) {
        const slope = (point.capture - last.capture) / (point.reference - last.reference);
        if (Math.abs(slope - 1) < 2e-3) {
          slopes.push(slope);
          ratioEst = median(slopes.slice(-9));
        }
      }
      last = point;
      anchor = { reference: point.reference, capture: point.capture };
    }
    return ratioEst;
  };
  const ratioForward = runPass(startIndex, blocks.length, 1, 1);
  slopes.length = 0;
  runPass(startIndex - 1, -1, -1, ratioForward);
  points.sort((p, q) => p.reference - q.reference);
  return points;
}

/**
 * Blocks whose normalised correlation with the capture, at the place the fit maps them, is below RECHECK_RHO
 * although they carry energy: each is searched again over ±0.5 s (no prediction, so no cycle preference) and,
 * when found clearly elsewhere (ρ ≥ 0.9 and ≥ 0.6 of the detection peak), its track point is replaced. Returns the
 * corrected track, or null when every block is explained (the usual case: one dot product per block).
 */
function recheckBlocks(
  reference: Float32Array,
  capture: Float32Array,
  sampleRate: number,
  start: number,
  end: number,
  b: number,
  fit: Fit,
  track: TrackPoint[],
  detectRho: number,
): TrackPoint[] | null {
  const half = (b - 1) / 2;
  let maxEnergy = 0;
  for (let r0 = start; r0 + b <= end; r0 += b) maxEnergy = Math.max(maxEnergy, energyAt(reference, r0, b));
  const mapped = (r: number): number => {
    // The segment whose capture range holds the mapped position (segments share the ratio).
    for (const seg of fit.segments) {
      const c = seg.offsetSamples + r * fit.ratio;
      if (c >= seg.captureStart && c < seg.captureEnd) return c;
    }
    return fit.segments[fit.segments.length - 1]!.offsetSamples + r * fit.ratio;
  };
  const replaced = new Map<number, TrackPoint>();
  const scratch: Scratch = { ref: new Float32Array(b), cap: new Float32Array(b), refSpectrum: new Float32Array(b), capSpectrum: new Float32Array(b), cross: new Float64Array(b), envelope: new Float64Array(9) };
  const wide = Math.max(4 * b, Math.round(0.5 * sampleRate));
  for (let r0 = start; r0 + b <= end; r0 += b) {
    const eRef = energyAt(reference, r0, b);
    if (!(eRef > maxEnergy * 1e-4)) continue;
    const c0 = Math.round(mapped(r0 + half) - half);
    if (c0 < 0 || c0 + b > capture.length) continue;
    const eCap = energyAt(capture, c0, b);
    if (!(eCap > 0)) continue;
    const rho = dotAt(capture, c0, reference, r0, b) / Math.sqrt(eCap * eRef);
    if (rho >= RECHECK_RHO) continue;
    const probe = onCaptureClock(reference, r0, b, fit.ratio);
    const found = normalizedSearch(capture, probe, c0 - wide, c0 + wide, true, sampleRate);
    const lag = c0 - wide + found.index;
    if (found.uniqueness < 0.3) continue; // periodic block: every cycle matches, the search cannot decide
    // The integer-lag ρ of a high carrier at a fractional delay reads low (cos(ω·0.5) ≈ 0.3 at 19 kHz / 48 kHz):
    // judge the fit's own, sub-sample position (sinc-interpolated ρ), and the competitor by its sub-sample peak,
    // or a neighbouring carrier cycle wins by its sampling phase alone.
    // The probe is on the capture clock: its peak is the block START's position c(r0), not c(r0 + half) − half.
    const atFit = sampleAt(found.rho!, mapped(r0) - (c0 - wide));
    if (atFit >= RECHECK_RHO) continue;
    const peak = bestPeakNear(found.rho!, found.index);
    if (!(peak.rho > atFit + 0.05)) continue;
    // Found where the fit puts it (a high block at a fractional lag reads low at the integer lag), or nowhere
    // clearly: the track's own point stands.
    if (!(found.peak >= 0.9 && found.peak >= 0.6 * detectRho) || Math.abs(lag - c0) <= 1 || found.peak <= rho + 0.05) continue;
    const refined = phaseSlope(reference, r0, capture, lag, b, scratch, c0 - wide + peak.position + half * (fit.ratio - 1) - lag);
    if (!refined || Math.abs(refined.delta) > 1 || refined.inBand < MIN_IN_BAND) continue;
    const c2 = Math.min(refined.coherence * refined.coherence, 0.999999);
    replaced.set(r0 + half, { reference: r0 + half, capture: lag + half + refined.delta, correlation: refined.coherence, weight: (c2 / (1 - c2)) * refined.omega2 });
  }
  if (replaced.size === 0) return null;
  const kept = track.filter((p) => !replaced.has(p.reference));
  kept.push(...replaced.values());
  kept.sort((p, q) => p.reference - q.reference);
  return kept;
}

/**
 * Track points of segments whose blocks (all but a quarter) match a neighbouring segment's offset (the later one tried first)
 * as well as its own (ρ within ADOPT_TOLERANCE, best of ±1 lag): moved onto that offset. Returns
 * the new track, or null when no segment is ambiguous.
 */
function adoptNeighbourOffsets(reference: Float32Array, capture: Float32Array, b: number, fit: Fit): TrackPoint[] | null {
  const half = (b - 1) / 2;
  const segs = fit.segments;
  const segmentOf = (p: TrackPoint): number => {
    for (let g = 0; g < segs.length; g++) if (p.capture >= segs[g]!.captureStart && p.capture < segs[g]!.captureEnd) return g;
    return -1;
  };
  const owner = fit.inliers.map(segmentOf);
  // Whether the blocks match `d` samples away as well as where they are (all but a quarter when `most`, else half).
  const matchesShifted = (pts: TrackPoint[], d: number, most: boolean): boolean => {
    const agreeing = pts.filter((p) => {
      const r0 = Math.round(p.reference - half);
      if (r0 < 0 || r0 + b > reference.length) return false;
      const eRef = energyAt(reference, r0, b);
      const own = localSearch(reference, r0, capture, Math.round(p.capture - half), b, 1, eRef).rho;
      const alt = localSearch(reference, r0, capture, Math.round(p.capture - half + d), b, 1, eRef).rho;
      return own > 0.5 && alt >= own - ADOPT_TOLERANCE;
    }).length;
    return most ? agreeing >= pts.length - Math.floor((pts.length + 1) / 4) : 2 * agreeing >= pts.length;
  };
  const moved = new Map<TrackPoint, number>();
  // A segment that moved is no target, a target does not move (two ambiguous neighbours would swap).
  const role: ('moved' | 'target' | undefined)[] = segs.map(() => undefined);
  for (let g = 0; g < segs.length; g++) {
    const pts = fit.inliers.filter((_, i) => owner[i] === g);
    if (pts.length === 0 || role[g] === 'target') continue;
    for (const h of [g + 1, g - 1]) {
      if (h < 0 || h >= segs.length || role[h] === 'moved') continue;
      const d = segs[h]!.offsetSamples - segs[g]!.offsetSamples;
      if (Math.abs(d) < 2) continue;
      // A block straddling the gap matches neither way: a quarter of the blocks may disagree. The target must be
      // anchored by content that matches only its own offset (in a pure sine every segment is ambiguous).
      if (!matchesShifted(pts, d, true)) continue;
      const targetPts = fit.inliers.filter((_, i) => owner[i] === h);
      if (targetPts.length === 0 || matchesShifted(targetPts, -d, false)) continue;
      for (const p of pts) moved.set(p, d);
      role[g] = 'moved';
      role[h] = 'target';
      break;
    }
  }
  if (moved.size === 0) return null;
  // Shifted by exactly the offset difference, the points keep their residuals (and weights) on the new line.
  return fit.inliers.map((p) => (moved.has(p) ? { ...p, capture: p.capture + moved.get(p)! } : p));
}

/** ρ margin within which a block "matches another offset as well as its own" (adoptNeighbourOffsets). */
const ADOPT_TOLERANCE = 0.02;

/** Length of the probe, in blocks, that re-locates a low-frequency block which matches worse than its neighbours. */
const LONG_PROBE_BLOCKS = 4;

/** Blocks with less of their power than this below 0.85 × Nyquist (phaseSlope's band) are not tracked. */
const MIN_IN_BAND = 0.7;

/** A block the fit maps to a place where it correlates below this is re-searched (clean blocks read ≥ 0.95). */
const RECHECK_RHO = 0.7;

// ---------------------------------------------------------------------------------------------------------------
// Fit: common ratio, per-segment offsets

interface Fit {
  ratio: number;
  segments: AlignmentSegment[];
  inliers: TrackPoint[];
}

function fitTrack(all: TrackPoint[], b: number, captureLength: number): Fit | null {
  if (all.length === 0) return null;
  // Blocks far less coherent than typical (clicks, partial zero-fill, a gap inside the block) are not evidence.
  const medCoh = median(all.map((p) => p.correlation));
  const points = all.filter((p) => p.correlation >= 0.7 * medCoh);
  if (points.length === 0) return null;

  // Initial ratio: median of consecutive slopes (steps at gaps are a minority).
  const slopes: number[] = [];
  for (let i = 1; i < points.length; i++) {
    const dr = points[i]!.reference - points[i - 1]!.reference;
    if (dr > 0) slopes.push((points[i]!.capture - points[i - 1]!.capture) / dr);
  }
  const ratio0 = slopes.length > 0 ? median(slopes) : 1;
  const offsets = points.map((p) => p.capture - ratio0 * p.reference);

  // Segmentation: a point starts a new segment when it leaves the current offset by > STEP_SAMPLES and the next
  // (up to two) points agree with it; otherwise it is an outlier.
  let groups: number[][] = [];
  let current: number[] | null = null;
  const agreeing = (i: number, need: number): boolean => {
    for (let j = 1; j <= need; j++) if (Math.abs(offsets[i + j]! - offsets[i]!) > STEP_SAMPLES) return false;
    return true;
  };
  // A new segment needs the next two points to agree. A fully coherent point may start one with less: the
  // first point on its own (audio before an early gap: the latency is that segment's offset), or any point
  // whose next one agrees (a short stretch between two gaps).
  const confirmed = (i: number): boolean => {
    if (agreeing(i, Math.min(2, points.length - 1 - i))) return true;
    if (points[i]!.correlation < 0.9 * medCoh) return false;
    return i === 0 || (i + 1 < points.length && agreeing(i, 1));
  };
  for (let i = 0; i < points.length; i++) {
    if (current) {
      const recent = median(current.slice(-5).map((k) => offsets[k]!));
      if (Math.abs(offsets[i]! - recent) <= STEP_SAMPLES) {
        current.push(i);
        continue;
      }
    }
    if (confirmed(i)) {
      current = [i];
      groups.push(current);
    }
  }
  if (groups.length === 0) return null;

  // Weighted least squares with robust rejection; weights capped at 1000× the median so no single block dominates.
  const medW = median(points.map((p) => p.weight));
  const weight = points.map((p) => Math.max(1e-12 * medW, Math.min(p.weight, 1000 * medW)));
  let ratio = ratio0;
  let offsetsFit: number[] = [];
  for (let iter = 0; iter < 4; iter++) {
    const solved = solve(points, weight, groups);
    ratio = solved.ratio;
    offsetsFit = solved.offsets;
    // Residuals standardised by √weight; reject beyond 6 robust sigmas (and never below 0.005 samples).
    const z: number[] = [];
    for (let g = 0; g < groups.length; g++) for (const i of groups[g]!) z.push(Math.abs(residual(points[i]!, ratio, offsetsFit[g]!)) * Math.sqrt(weight[i]!));
    const scale = 1.4826 * median(z) || 1e-12;
    let removed = false;
    groups = groups.map((grp, g) =>
      grp.filter((i) => {
        const res = Math.abs(residual(points[i]!, ratio, offsetsFit[g]!));
        const keep = res <= 0.005 || (res * Math.sqrt(weight[i]!)) / scale <= 6;
        if (!keep) removed = true;
        return keep;
      }),
    );
    // Merge neighbours whose offsets agree (a split caused by an outlier), drop emptied groups.
    const merged: number[][] = [];
    const mergedOffsets: number[] = [];
    for (let g = 0; g < groups.length; g++) {
      if (groups[g]!.length === 0) continue;
      const prev = merged.length - 1;
      if (prev >= 0 && Math.abs(offsetsFit[g]! - mergedOffsets[prev]!) < STEP_SAMPLES) {
        merged[prev]!.push(...groups[g]!);
        removed = true;
      } else {
        merged.push(groups[g]!);
        mergedOffsets.push(offsetsFit[g]!);
      }
    }
    groups = merged;
    if (!removed && iter > 0) break;
  }
  const solved = solve(points, weight, groups);
  ratio = solved.ratio;
  offsetsFit = solved.offsets;

  // Capture ranges: boundaries halfway between the last block of one segment and the first of the next.
  const halfBlock = b / 2;
  const segments: AlignmentSegment[] = groups.map((grp, g) => ({ captureStart: 0, captureEnd: captureLength, offsetSamples: offsetsFit[g]! }));
  for (let g = 0; g + 1 < groups.length; g++) {
    const lastPoint = points[groups[g]![groups[g]!.length - 1]!]!;
    const firstNext = points[groups[g + 1]![0]!]!;
    const boundary = Math.round((lastPoint.capture + halfBlock + firstNext.capture - halfBlock) / 2);
    const at = Math.max(segments[g]!.captureStart, Math.min(captureLength, boundary));
    segments[g]!.captureEnd = at;
    segments[g + 1]!.captureStart = at;
  }
  const inliers = groups.flat().sort((a, c) => a - c).map((i) => points[i]!);
  return { ratio, segments, inliers };
}

function residual(p: TrackPoint, ratio: number, offset: number): number {
  return p.capture - (offset + ratio * p.reference);
}

/** Weighted LS of c = o_g + ratio·r: ratio from within-group centred sums; o_g = c̄_g − ratio·r̄_g. */
function solve(points: TrackPoint[], weight: number[], groups: number[][]): { ratio: number; offsets: number[] } {
  const means = groups.map((grp) => {
    let sw = 0, sr = 0, sc = 0;
    for (const i of grp) {
      sw += weight[i]!;
      sr += weight[i]! * points[i]!.reference;
      sc += weight[i]! * points[i]!.capture;
    }
    return { r: sr / sw, c: sc / sw };
  });
  let num = 0;
  let den = 0;
  groups.forEach((grp, g) => {
    for (const i of grp) {
      const dr = points[i]!.reference - means[g]!.r;
      num += weight[i]! * dr * (points[i]!.capture - means[g]!.c);
      den += weight[i]! * dr * dr;
    }
  });
  // A lone block cannot tell the drift: assume none.
  const ratio = den > 0 ? num / den : 1;
  return { ratio, offsets: means.map((m) => m.c - ratio * m.r) };
}

// ---------------------------------------------------------------------------------------------------------------
// Confidence

/** Length of the head probe, seconds: short enough to fit before an early gap, long enough to be unique. */
const HEAD_SECONDS = 0.02;
/** How far from the first segment's prediction the head may be found (the largest gap or insertion looked for). */
const HEAD_REACH_SECONDS = 0.25;

/**
 * A segment for the reference's head when the head is found clearly (ρ ≥ 0.9, unique) at another offset than
 * the first segment predicts: audio was lost (or inserted) before the track's first block. The new segment ends
 * where the first one's head image would begin; dropout detection refines the boundary to the sample.
 */
function headSegment(
  reference: Float32Array,
  capture: Float32Array,
  sampleRate: number,
  start: number,
  end: number,
  ratio: number,
  segments: readonly AlignmentSegment[],
): AlignmentSegment | null {
  const first = segments[0]!;
  const length = Math.min(end - start, Math.round(HEAD_SECONDS * sampleRate));
  if (length < 64) return null;
  const predicted = first.offsetSamples + start * ratio;
  const reach = Math.round(HEAD_REACH_SECONDS * sampleRate);
  const lo = Math.max(-Math.floor(length / 2), Math.floor(predicted) - reach);
  const hi = Math.min(capture.length - length, Math.ceil(predicted) + reach);
  if (hi <= lo) return null;
  const probe = reference.subarray(start, start + length);
  const found = normalizedSearch(capture, probe, lo, hi, true, sampleRate);
  // A 20 ms probe of low-frequency-heavy content (pink noise) has high side peaks, so global uniqueness is only
  // required to be moderate; the decisive test is that the first segment's own prediction matches poorly.
  const atPredicted = found.rho![Math.round(predicted) - lo] ?? 0;
  if (!(found.peak >= 0.9) || found.uniqueness < 0.2 || atPredicted > 0.5) return null;
  const at = lo + refinePeak(found.rho!, found.index).position;
  if (Math.abs(at - predicted) <= STEP_SAMPLES) return null;
  // The head's own map; it must end before the first segment's region starts mattering.
  const offsetSamples = at - start * ratio;
  const boundary = Math.round(Math.min(at, predicted) + length * ratio);
  if (boundary <= 0 || boundary >= first.captureEnd) return null;
  return { captureStart: 0, captureEnd: boundary, offsetSamples };
}

/**
 * The parts of the reference window [start, start + length) that single segments map (segment g maps the
 * reference range [(captureStart − offset)/ratio, (captureEnd − offset)/ratio)), each at least `minLength`
 * long; the whole window when it lies in one segment or no part is long enough.
 */
function windowsWithinSegments(
  start: number,
  length: number,
  segments: readonly AlignmentSegment[],
  ratio: number,
  minLength: number,
): { start: number; length: number }[] {
  if (segments.length < 2) return [{ start, length }];
  const parts: { start: number; length: number }[] = [];
  for (const seg of segments) {
    const from = Math.max(start, Math.ceil((seg.captureStart - seg.offsetSamples) / ratio));
    const to = Math.min(start + length, Math.floor((seg.captureEnd - seg.offsetSamples) / ratio));
    if (to - from >= minLength) parts.push({ start: from, length: to - from });
  }
  return parts.length > 0 ? parts : [{ start, length }];
}

function confidenceCheck(
  reference: Float32Array,
  capture: Float32Array,
  sampleRate: number,
  longStart: number,
  longLength: number,
  ratio: number,
  segments: AlignmentSegment[],
  track: TrackPoint[],
): { rho: number; uniqueness: number; period: number | null } | null {
  // Predicted capture position of the window start, from the nearest track point (or the first segment).
  let predicted = segments[0]!.offsetSamples + longStart * ratio;
  let bestDistance = Infinity;
  for (const p of track) {
    const d = Math.abs(p.reference - longStart);
    if (d < bestDistance) {
      bestDistance = d;
      predicted = p.capture + (longStart - p.reference) * ratio;
    }
  }
  // The window as it should appear on the capture clock: q[m] = reference(longStart + m / ratio).
  const length = Math.max(32, Math.round(longLength * ratio));
  const probe = readAlong(reference, longStart, 1 / ratio, length);
  const span = Math.floor(longLength / 2);
  const k0 = Math.floor(predicted);
  if (k0 + span + length <= 0 || k0 - span >= capture.length) return null;
  const s = normalizedSearch(capture, probe, k0 - span, k0 + span, true, sampleRate);
  if (!(s.peak > 0)) return null;
  const peak = refinePeak(s.rho!, s.index);
  return { rho: Math.min(1, peak.rho), uniqueness: s.uniqueness, period: s.period };
}

/**
 * y[n] = x(offset + n·step), n = 0…length−1 (readLinear). When the map's delay moves by at most DELAY_STEP over the
 * whole span (tiny drift), one constant fractional delay taken at the span's middle replaces the per-sample weights
 * (FFT, as in alignedReference; error ≤ DELAY_STEP/2 sample, −78 dB at 20 kHz / 48 kHz).
 */
function readAlong(x: Float32Array, offset: number, step: number, length: number): Float32Array {
  if (!(Math.abs(step - 1) * length <= DELAY_STEP)) return readLinear(x, offset, step, length);
  // y[n] ≈ x(n − d) with d = −(offset + mid·(step − 1)).
  const mid = (length - 1) / 2;
  const d = -(offset + mid * (step - 1));
  const y = new Float32Array(length);
  const s0 = Math.max(0, Math.floor(-d) - 64);
  const s1 = Math.min(x.length, Math.ceil(length - d) + 64);
  if (s1 > s0) constantDelay(x.subarray(s0, s1), d + s0, y);
  return y;
}

// ---------------------------------------------------------------------------------------------------------------

function maxAbs(x: Float32Array): number {
  let m = 0;
  for (let i = 0; i < x.length; i++) {
    const v = Math.abs(x[i]!);
    if (v > m) m = v;
  }
  return m;
}

function firstAbove(x: Float32Array, level: number): number {
  for (let i = 0; i < x.length; i++) if (Math.abs(x[i]!) > level) return i;
  return 0;
}

function lastAbove(x: Float32Array, level: number): number {
  for (let i = x.length - 1; i >= 0; i--) if (Math.abs(x[i]!) > level) return i;
  return x.length - 1;
}

function median(values: number[]): number {
  if (values.length === 0) return NaN;
  const s = values.slice().sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

function clamp01(x: number): number {
  return x < 0 ? 0 : x > 1 ? 1 : x;
}
