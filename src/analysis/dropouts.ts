/**
 * Dropout detection: compares a capture with the reference mapped onto the capture's timeline by an
 * `Alignment` (align.ts) and reports where audio was lost (`gap`), zeroed (`silence`) or disturbed (`click`).
 *
 * Conventions (design.md):
 * - Positions are capture samples; `atSeconds` = capture sample index of the dropout's first sample / sampleRate.
 * - Within a segment, the capture position of reference sample r is `offsetSamples + r·ratio`, so the aligned
 *   reference is A[m] = reference((m − offsetSamples) / ratio) (band-limited sinc interpolation, dsp/sinc.ts).
 * - gap: the next segment's offset is LOWER by the frames lost; durationMs = (offsetA − offsetB) / sampleRate.
 *   Inserted audio (next offset HIGHER, e.g. a render underrun that played silence and then went on late) is
 *   reported over the inserted span with durationMs = (offsetB − offsetA) / sampleRate, as `silence` when the
 *   inserted samples are ~zero (RMS ≤ −20 dB re the aligned level around them, or ≤ the noise floor) and as
 *   `gap` otherwise (foreign or repeated audio: the timeline still shifts). A repeated block equals the audio
 *   before it, so which copy is "the inserted one" is ambiguous: the position may be off by the inserted length.
 *   The inserted span belongs to no segment (the right segment starts where it ends).
 * - silence: a run of capture samples with |x| ≤ ZERO_EPS (2^−15, one 16-bit LSB) where the aligned reference has
 *   energy; durationMs = run length. A disturbed stretch whose capture energy is ≥ 20 dB below the expected
 *   energy (zeros plus added noise) is reported as silence too.
 * - click: residual e[m] = capture[m] − g·A[m] (g = least-squares gain over the aligned, dropout-free region)
 *   with |e| > max(K_NOISE·σ_local, K_LEVEL·level_local, ABS_FLOOR), where σ_local = 1.4826 · median|e| over
 *   5 ms blocks (max over ±2 blocks) and level_local = RMS of g·A over 5 ms. So a click is found when it stands
 *   7× above the local robust noise floor and above −20 dB re the local signal RMS (a 0.1 spike on a −6 dBFS
 *   sine, RMS 0.354, is 2.8× above). Exceedances closer than 1 ms form one click; durationMs = first…last.
 *
 * Alignment segment boundaries are only block-accurate: each boundary is re-found here to the sample by
 * minimising Σ_{m<s} (x − g·A_left)² + Σ_{m≥s+I} (x − g·A_right)² (I = inserted frames, 0 for a gap).
 * Only the aligned region counts: capture samples whose reference position lies inside the reference.
 * Cost: one 64-tap sinc pass over the capture (align.ts `alignedReference`) plus ~6 linear passes (block medians
 * by quickselect): O(N).
 */
import { LoopcheckError } from '../errors.js';
import { delay, readLinear } from '../dsp/sinc.js';
import { alignedReference } from './align.js';
import type { Alignment, AlignmentSegment, Dropout, DropoutAnalysis, DropoutKind } from './types.js';

/** |x| at or below this is a "zero" sample: one LSB of 16-bit PCM (−90.3 dBFS). */
export const ZERO_EPS = 2 ** -15;
/** Click threshold: residual above this many robust noise σ (1.4826·median|e|) … */
export const K_NOISE = 7;
/** … and above this fraction of the local aligned-reference RMS (−20 dB) … */
export const K_LEVEL = 0.1;
/** … and above this absolute level (−80 dBFS). */
export const ABS_FLOOR = 1e-4;

const BLOCK_MS = 5;
const SIGMA_SPAN_BLOCKS = 2;
const ENV_MS = 5;
const CLICK_MERGE_MS = 1;
const MIN_ZERO_RUN_MS = 0.25;
const MIN_ZERO_RUN_SAMPLES = 4;
/** Guard around a refined split where the splice itself may leave a residual (not a click). */
const SPLIT_GUARD_MS = 2;
/** Margin added around every dropout in `excluded`. */
const EXCLUDE_MARGIN_MS = 1;
/** Boundary search half-width, capture samples: alignment boundaries are ±4096 accurate. */
const SEARCH_HALF = 8192;
/** Offsets closer than this (samples) are the same timeline: no gap reported. */
const MIN_OFFSET_STEP = 0.5;
/** Faded-run detection (noisy zero-fills): window length, … */
const FADE_WINDOW_MS = 0.25;
/** … capture energy below this fraction of the expected energy (−13 dB) … */
const FADE_ENERGY_RATIO = 0.05;
/** … where the expected energy is this far above the noise floor (26 dB) … */
const FADE_SNR_RATIO = 400;
/** … merged across holes this long (zero crossings of low tones) … */
const FADE_HOLE_MS = 1;
/** … and reported from this length on. */
const MIN_FADED_RUN_MS = 1;
/** Energy ratio (amplitude −20 dB) under which a stretch counts as silent. */
const SILENT_AMPLITUDE_RATIO = 0.1;

type Range = [number, number];

function invalid(message: string, hint: string): LoopcheckError {
  return new LoopcheckError('INVALID_ARGUMENT', message, { hint });
}

function validate(reference: Float32Array, capture: Float32Array, sampleRate: number, alignment: Alignment): void {
  if (!Number.isFinite(sampleRate) || sampleRate <= 0) {
    throw invalid(`sampleRate must be a positive number of Hz, got ${sampleRate}`, 'pass the capture sample rate, e.g. 48000');
  }
  if (reference.length === 0 || capture.length === 0) {
    throw invalid(
      `reference (${reference.length} samples) and capture (${capture.length} samples) must both be non-empty`,
      'pass the reference signal and the recorded capture',
    );
  }
  if (!Number.isFinite(alignment.ratio) || alignment.ratio <= 0) {
    throw invalid(`alignment.ratio must be a positive finite number, got ${alignment.ratio}`, 'use the ratio from align()');
  }
  if (alignment.segments.length === 0) {
    throw invalid('alignment has no segments', 'align the capture first (align()); without a signal there is nothing to check');
  }
  for (const s of alignment.segments) {
    if (!Number.isFinite(s.captureStart) || !Number.isFinite(s.captureEnd) || !Number.isFinite(s.offsetSamples) || s.captureEnd < s.captureStart) {
      throw invalid(
        `alignment segment {captureStart: ${s.captureStart}, captureEnd: ${s.captureEnd}, offsetSamples: ${s.offsetSamples}} is not a finite range`,
        'use the segments from align(): finite numbers with captureStart ≤ captureEnd',
      );
    }
  }
}

/**
 * A[start + n] = reference((start + n − offset)/ratio), n = 0…length−1, around a boundary (the whole capture is
 * mapped by align.ts's `alignedReference`). Without drift (ratio 1) `delay` applies one kernel to the span.
 */
function alignedSpan(reference: Float32Array, offset: number, ratio: number, start: number, length: number): Float32Array {
  if (ratio === 1) return delay(reference, offset - start, length);
  return readLinear(reference, (start - offset) / ratio, 1 / ratio, length);
}

/** Capture range [first, last+1) whose reference position (m − offset)/ratio lies in [0, referenceLength − 1]. */
function imageRange(offset: number, ratio: number, referenceLength: number, captureLength: number): Range {
  const first = Math.max(0, Math.ceil(offset - 1e-9));
  const last = Math.min(captureLength - 1, Math.floor(offset + (referenceLength - 1) * ratio + 1e-9));
  return [first, last + 1];
}

interface Boundary {
  /** Refined: left map holds for m < split; right map for m ≥ split + inserted. */
  split: number;
  inserted: number;
  /** offsetRight − offsetLeft, capture samples. */
  delta: number;
}

/**
 * Finds the exact split between two maps in [lo, hi): argmin_k PL[k] + SR[k + inserted] (see header).
 * Ties (e.g. silent reference) go to the candidate nearest the nominal boundary.
 */
function refineSplit(
  reference: Float32Array,
  capture: Float32Array,
  ratio: number,
  gain: number,
  left: number,
  right: number,
  lo: number,
  hi: number,
  nominal: number,
  inserted: number,
): { split: number; aLeft: Float32Array; aRight: Float32Array } {
  const len = hi - lo;
  const aLeft = alignedSpan(reference, left, ratio, lo, len);
  const aRight = alignedSpan(reference, right, ratio, lo, len);
  if (len <= inserted) return { split: Math.max(lo, Math.min(hi - inserted, nominal)), aLeft, aRight };
  const pl = new Float64Array(len + 1);
  for (let j = 0; j < len; j++) {
    const e = capture[lo + j]! - gain * aLeft[j]!;
    pl[j + 1] = pl[j]! + e * e;
  }
  const sr = new Float64Array(len + 1);
  for (let j = len - 1; j >= 0; j--) {
    const e = capture[lo + j]! - gain * aRight[j]!;
    sr[j] = sr[j + 1]! + e * e;
  }
  const tol = 1e-12 * (pl[len]! + sr[0]!) + 1e-30;
  let best = Infinity;
  let bestK = 0;
  for (let k = 0; k + inserted <= len; k++) {
    const c = pl[k]! + sr[k + inserted]!;
    const s = lo + k;
    if (c < best - tol || (c <= best + tol && Math.abs(s - nominal) < Math.abs(lo + bestK - nominal))) {
      best = Math.min(best, c);
      bestK = k;
    }
  }
  return { split: lo + bestK, aLeft, aRight };
}

/** Sorted, merged union of ranges. */
function mergeRanges(ranges: Range[]): Range[] {
  const sorted = ranges.filter((r) => r[1] > r[0]).sort((a, b) => a[0] - b[0]);
  const out: Range[] = [];
  for (const r of sorted) {
    const last = out[out.length - 1];
    if (last && r[0] <= last[1]) last[1] = Math.max(last[1], r[1]);
    else out.push([r[0], r[1]]);
  }
  return out;
}

const bitsToFloat = new Float32Array(1);
const floatBits = new Int32Array(bitsToFloat.buffer);

/** The float32 value of IEEE-754 bit pattern `b`. */
function floatOfBits(b: number): number {
  floatBits[0] = b;
  return bitsToFloat[0]!;
}

/**
 * Median of the non-negative float32 values whose bit patterns are bits[0…n) (int32 order = float order for
 * non-negative floats; the mean of the two middle values for even n). Reorders the array.
 */
function medianOfAbsBits(bits: Int32Array, n: number): number {
  if (n % 2 === 1) return floatOfBits(selectKthInt(bits, n, (n - 1) >> 1));
  const upper = selectKthInt(bits, n, n >> 1);
  let lower = -1;
  for (let i = 0; i < n >> 1; i++) if (bits[i]! > lower) lower = bits[i]!;
  return 0.5 * (floatOfBits(lower) + floatOfBits(upper));
}

/** The k-th smallest of values[0…n) by quickselect (reorders the array; O(n) on average). */
function selectKthInt(values: Int32Array, n: number, k: number): number {
  let lo = 0;
  let hi = n - 1;
  while (hi > lo) {
    const pivot = values[(lo + hi) >> 1]!;
    let i = lo;
    let j = hi;
    while (i <= j) {
      while (values[i]! < pivot) i++;
      while (values[j]! > pivot) j--;
      if (i <= j) {
        const t = values[i]!;
        values[i] = values[j]!;
        values[j] = t;
        i++;
        j--;
      }
    }
    if (k <= j) hi = j;
    else if (k >= i) lo = i;
    else return values[k]!;
  }
  return values[k]!;
}

/**
 * Detects gaps, zero-fills and clicks in `capture` against `reference`, given the alignment from align.ts.
 * Returns the dropouts sorted by position, the segments with their boundaries refined to the sample, and the
 * capture ranges level metrics should leave out. Thresholds and conventions: see the file header.
 */
export function detectDropouts(
  reference: Float32Array,
  capture: Float32Array,
  sampleRate: number,
  alignment: Alignment,
): DropoutAnalysis {
  validate(reference, capture, sampleRate, alignment);
  const ratio = alignment.ratio;
  const nc = capture.length;
  const nr = reference.length;
  const ms = (v: number): number => Math.max(1, Math.round((v * sampleRate) / 1000));
  const segs: AlignmentSegment[] = alignment.segments
    .map((s) => ({ ...s }))
    .sort((a, b) => a.captureStart - b.captureStart);

  // 1. Aligned reference along the nominal segments; preliminary gain away from the uncertain boundaries.
  const aligned = alignedReference(reference, segs, ratio, nc);
  const nominal: number[] = [];
  for (let i = 0; i + 1 < segs.length; i++) nominal.push(Math.round((segs[i]!.captureEnd + segs[i + 1]!.captureStart) / 2));
  const uncertain = mergeRanges(
    nominal.map((b, i) => {
      const d = Math.abs(segs[i + 1]!.offsetSamples - segs[i]!.offsetSamples);
      return [b - SEARCH_HALF - d, b + SEARCH_HALF + d] as Range;
    }),
  );
  const nominalValid = validMask(segs, ratio, nr, nc);
  let g0 = leastSquaresGain(capture, aligned, nominalValid, uncertain);
  if (g0 === null) g0 = leastSquaresGain(capture, aligned, nominalValid, []) ?? 1;

  // 2. Refine each boundary to the sample and patch the aligned reference around it.
  const boundaries: Boundary[] = [];
  let prevLimit = 0;
  for (let i = 0; i + 1 < segs.length; i++) {
    const a = segs[i]!;
    const b = segs[i + 1]!;
    const delta = b.offsetSamples - a.offsetSamples;
    const inserted = delta > 0 ? Math.round(delta) : 0;
    const nom = nominal[i]!;
    const reach = SEARCH_HALF + Math.ceil(Math.abs(delta));
    const loMid = i > 0 ? Math.ceil((nominal[i - 1]! + nom) / 2) : -Infinity;
    const hiMid = i + 2 < segs.length ? Math.floor((nom + nominal[i + 1]!) / 2) : Infinity;
    const lo = Math.max(0, prevLimit, a.captureStart, loMid, nom - reach);
    const hi = Math.min(nc, b.captureEnd, hiMid, nom + reach);
    if (hi <= lo) {
      const split = Math.max(0, Math.min(nc, nom));
      boundaries.push({ split, inserted, delta });
      prevLimit = split + inserted;
      continue;
    }
    const { split, aLeft, aRight } = refineSplit(reference, capture, ratio, g0, a.offsetSamples, b.offsetSamples, lo, hi, nom, inserted);
    for (let m = lo; m < hi; m++) {
      aligned[m] = m < split ? aLeft[m - lo]! : m < split + inserted ? 0 : aRight[m - lo]!;
    }
    boundaries.push({ split, inserted, delta });
    prevLimit = split + inserted;
  }
  boundaries.forEach((bd, i) => {
    segs[i]!.captureEnd = bd.split;
    segs[i + 1]!.captureStart = Math.min(bd.split + bd.inserted, segs[i + 1]!.captureEnd);
  });
  const valid = validMask(segs, ratio, nr, nc);

  const dropouts: Dropout[] = [];
  const excluded: Range[] = [];
  const guard = ms(SPLIT_GUARD_MS);
  const margin = ms(EXCLUDE_MARGIN_MS);
  const splitGuards: Range[] = [];
  const timelineEvents: { at: number; frames: number; delta: number; inserted: number }[] = [];
  for (const bd of boundaries) {
    splitGuards.push([bd.split - guard, bd.split + bd.inserted + guard]);
    if (Math.abs(bd.delta) < MIN_OFFSET_STEP) continue;
    timelineEvents.push({ at: bd.split, frames: Math.abs(bd.delta), delta: bd.delta, inserted: bd.inserted });
    excluded.push([bd.split - margin, bd.split + bd.inserted + margin]);
  }

  // 3. Candidate zero runs inside the aligned region: exact zeros, and stretches faded into the noise floor
  // (zeros with noise added after them, as when an analogue stage follows the dropout).
  const minRun = Math.max(MIN_ZERO_RUN_SAMPLES, ms(MIN_ZERO_RUN_MS));
  const exactZeroRuns = findZeroRuns(capture, valid, minRun);
  const zeroRuns = mergeRanges([
    ...exactZeroRuns,
    // Exact zeros fade too: the two detectors overlap on a clean zero-fill, and the merge keeps one range
    // (a noisy one has a few samples above ZERO_EPS that break the exact runs into pieces).
    ...findFadedRuns(capture, aligned, valid, g0, ms(FADE_WINDOW_MS), ms(MIN_FADED_RUN_MS), splitGuards),
  ]);

  // 4. Final gain over the aligned region without zero runs and splices; residual.
  const gain = leastSquaresGain(capture, aligned, valid, mergeRanges([...zeroRuns, ...splitGuards])) ?? g0;
  const residual = residualOf(capture, aligned, valid, gain);

  // 5. Local robust noise floor σ (per 5 ms block, max over ±2 blocks) and local level (RMS of g·A over 5 ms).
  const quiet = valid.slice();
  for (const [s, e] of [...zeroRuns, ...splitGuards]) quiet.fill(0, Math.max(0, s), Math.max(0, Math.min(nc, e)));
  const sigmaByBlock = localSigma(residual, quiet, ms(BLOCK_MS));
  const sigmaBlock = ms(BLOCK_MS);
  const sigma = (m: number): number => sigmaByBlock[Math.min(sigmaByBlock.length - 1, Math.floor(m / sigmaBlock))]!;
  const level = new LocalLevel(aligned, gain, ms(ENV_MS));
  const levelAt = (m: number): number => level.at(m);

  // 6. Zero-fills: trim ends where nothing was expected anyway; keep runs where the reference had energy.
  const silentRanges: Range[] = [];
  for (const [s0, e0] of zeroRuns) {
    const trimLevel = (m: number): number => Math.max(4 * ZERO_EPS, 3 * sigma(m));
    let s = s0;
    let e = e0;
    while (s < e && Math.abs(gain * aligned[s]!) <= trimLevel(s)) s++;
    while (e > s && Math.abs(gain * aligned[e - 1]!) <= trimLevel(e - 1)) e--;
    if (e - s < minRun) continue;
    let energy = 0;
    for (let m = s; m < e; m++) energy += (gain * aligned[m]!) ** 2;
    const rms = Math.sqrt(energy / (e - s));
    if (rms < 10 * Math.max(ZERO_EPS, sigma((s + e) >> 1))) continue;
    dropouts.push({ atSeconds: s / sampleRate, durationMs: ((e - s) / sampleRate) * 1000, kind: 'silence' });
    silentRanges.push([s0, e0]);
    excluded.push([s - margin, e + margin]);
  }

  // 7. Timeline events from the segment offsets.
  for (const ev of timelineEvents) {
    let kind: DropoutKind = 'gap';
    if (ev.inserted > 0) {
      const s = ev.at;
      const e = Math.min(nc, ev.at + ev.inserted);
      let energy = 0;
      for (let m = s; m < e; m++) energy += capture[m]! ** 2;
      const rmsInserted = e > s ? Math.sqrt(energy / (e - s)) : 0;
      const around = Math.max(levelAt(Math.max(0, s - 1)), levelAt(Math.min(nc - 1, e)));
      const floor = Math.max(SILENT_AMPLITUDE_RATIO * around, 4 * sigma(Math.max(0, s - 1)), ZERO_EPS);
      if (rmsInserted <= floor) kind = 'silence';
    }
    dropouts.push({ atSeconds: ev.at / sampleRate, durationMs: (ev.frames / sampleRate) * 1000, kind });
  }

  // 8. Clicks (and noisy silences): residual exceedances outside zero-fills and splices, merged within 1 ms.
  const skip = new Uint8Array(nc);
  for (const [s, e] of [...silentRanges.map(([s, e]) => [s - margin, e + margin] as Range), ...splitGuards]) {
    skip.fill(1, Math.max(0, s), Math.max(0, Math.min(nc, e)));
  }
  const mergeGap = ms(CLICK_MERGE_MS);
  let clusterStart = -1;
  let clusterEnd = -1;
  const flush = (): void => {
    if (clusterStart < 0) return;
    const n = clusterEnd - clusterStart + 1;
    let capEnergy = 0;
    let expEnergy = 0;
    for (let m = clusterStart; m <= clusterEnd; m++) {
      capEnergy += capture[m]! ** 2;
      expEnergy += (gain * aligned[m]!) ** 2;
    }
    const silent = n >= ms(1) && capEnergy < SILENT_AMPLITUDE_RATIO ** 2 * expEnergy;
    dropouts.push({ atSeconds: clusterStart / sampleRate, durationMs: (n / sampleRate) * 1000, kind: silent ? 'silence' : 'click' });
    excluded.push([clusterStart - margin, clusterEnd + 1 + margin]);
    clusterStart = -1;
  };
  const exceed = exceedances(residual, valid, skip, sigmaByBlock, sigmaBlock);
  for (let q = 0; q < exceed.length; q++) {
    const m = exceed[q]!;
    if (Math.abs(residual[m]!) <= K_LEVEL * levelAt(m)) continue;
    if (clusterStart >= 0 && m - clusterEnd > mergeGap) flush();
    if (clusterStart < 0) clusterStart = m;
    clusterEnd = m;
  }
  flush();

  dropouts.sort((a, b) => a.atSeconds - b.atSeconds);
  const clipped = mergeRanges(excluded.map(([s, e]) => [Math.max(0, s), Math.min(nc, e)] as Range));
  return { dropouts, segments: segs, excluded: clipped, alignedReference: aligned };
}

/** 1 where a segment covers the capture sample and its reference position lies inside the reference. */
function validMask(segs: AlignmentSegment[], ratio: number, nr: number, nc: number): Uint8Array {
  const valid = new Uint8Array(nc);
  for (const s of segs) {
    const [i0, i1] = imageRange(s.offsetSamples, ratio, nr, nc);
    const a = Math.max(i0, Math.ceil(s.captureStart));
    const b = Math.min(i1, Math.ceil(s.captureEnd));
    if (b > a) valid.fill(1, a, b);
  }
  return valid;
}

/** g = Σ x·A / Σ A² over valid samples outside `skip` (sorted, merged); null when Σ A² is ~0. */
function leastSquaresGain(capture: Float32Array, aligned: Float32Array, valid: Uint8Array, skip: Range[]): number | null {
  const n = capture.length;
  let xa = 0;
  let aa = 0;
  // Sums in ascending m over the samples outside `skip`, run by run.
  let m = 0;
  for (let k = 0; k <= skip.length && m < n; k++) {
    // Ranges may have fractional ends: sample m is skipped when start ≤ m < end, so runs end at ceil(start)
    // and resume at ceil(end) (a fractional m would index nothing and silently skip everything after).
    const runEnd = k < skip.length ? Math.min(n, Math.max(m, Math.ceil(skip[k]![0]))) : n;
    for (; m < runEnd; m++) {
      if (!valid[m]) continue;
      const a = aligned[m]!;
      xa += capture[m]! * a;
      aa += a * a;
    }
    if (k < skip.length) m = Math.max(m, Math.ceil(skip[k]![1]));
  }
  return aa > 1e-12 ? xa / aa : null;
}

/**
 * σ per block k (block = ⌊m / block⌋) = max over blocks k−2…k+2 of 1.4826 · median |e| in block k (blocks of `block` samples, counting only
 * samples with use[m] = 1). Blocks with fewer than a quarter usable samples borrow from their neighbours.
 */
function localSigma(residual: Float32Array, use: Uint8Array, block: number): Float64Array {
  const n = residual.length;
  const blocks = Math.ceil(n / block);
  const raw = new Float64Array(blocks).fill(NaN);
  // |e| as IEEE-754 bit patterns: for non-negative floats the int32 order equals the float order, and
  // bits & 0x7fffffff is |e| exactly (−0 → +0), so the block median is selected on integers (no float
  // conversions in the hot loop) and converted back unchanged.
  const bits = new Int32Array(residual.buffer, residual.byteOffset, n);
  const scratch = new Int32Array(block);
  const all: number[] = [];
  for (let k = 0; k < blocks; k++) {
    let c = 0;
    for (let m = k * block, end = Math.min(n, m + block); m < end; m++) if (use[m]) scratch[c++] = bits[m]! & 0x7fffffff;
    if (c >= block / 4) {
      raw[k] = 1.4826 * medianOfAbsBits(scratch, c);
      all.push(raw[k]!);
    }
  }
  const fallback = all.length > 0 ? all.sort((a, b) => a - b)[all.length >> 1]! : 0;
  const spread = new Float64Array(blocks);
  for (let k = 0; k < blocks; k++) {
    let v = -Infinity;
    for (let j = Math.max(0, k - SIGMA_SPAN_BLOCKS); j <= Math.min(blocks - 1, k + SIGMA_SPAN_BLOCKS); j++) {
      if (!Number.isNaN(raw[j]!)) v = Math.max(v, raw[j]!);
    }
    spread[k] = v === -Infinity ? fallback : v;
  }
  return spread;
}

/**
 * level(m) = RMS of gain·A over the `window` samples centred on m (prefix sums, O(N)). The prefix sums are built on
 * the first query: a capture without click candidates or inserted audio never needs them.
 */
class LocalLevel {
  private prefix: Float64Array | null = null;
  private readonly half: number;

  constructor(
    private readonly aligned: Float32Array,
    private readonly gain: number,
    window: number,
  ) {
    this.half = window >> 1;
  }

  at(m: number): number {
    const n = this.aligned.length;
    let prefix = this.prefix;
    if (prefix === null) {
      prefix = new Float64Array(n + 1);
      const aligned = this.aligned;
      const gain = this.gain;
      for (let i = 0; i < n; i++) prefix[i + 1] = prefix[i]! + (gain * aligned[i]!) ** 2;
      this.prefix = prefix;
    }
    const a = Math.max(0, m - this.half);
    const b = Math.min(n, m + this.half + 1);
    return Math.sqrt(Math.max(0, prefix[b]! - prefix[a]!) / (b - a));
  }
}

/** Runs [start, end) of ≥ minRun valid capture samples with |x| ≤ ZERO_EPS. */
function findZeroRuns(capture: Float32Array, valid: Uint8Array, minRun: number): Range[] {
  const nc = capture.length;
  const zeroRuns: Range[] = [];
  for (let m = 0; m < nc; ) {
    if (!valid[m] || Math.abs(capture[m]!) > ZERO_EPS) {
      m++;
      continue;
    }
    let e = m;
    while (e < nc && valid[e] && Math.abs(capture[e]!) <= ZERO_EPS) e++;
    if (e - m >= minRun) zeroRuns.push([m, e]);
    m = e;
  }
  return zeroRuns;
}

/**
 * Stretches where the capture fell to the noise floor although the aligned reference had energy: windows of
 * FADE_WINDOW_MS whose capture energy is below FADE_ENERGY_RATIO (−13 dB) of the expected g·A energy, where the
 * expected energy stands ≥ 26 dB above the noise floor (median residual energy per window), merged across
 * holes of ≤ 1 ms (zero crossings of low tones), at least `minRun` long, and with both ends moved to the sample
 * that best separates "capture ≈ g·A" from "capture ≈ 0". Ranges in `skip` are left out.
 */
function findFadedRuns(capture: Float32Array, aligned: Float32Array, valid: Uint8Array, gain: number, window: number, minRun: number, skip: Range[]): Range[] {
  const nc = capture.length;
  const w = Math.max(8, window);
  const nw = Math.floor(nc / w);
  const ec = new Float64Array(nw);
  const ee = new Float64Array(nw);
  const er = new Float64Array(nw);
  const usable = new Uint8Array(nw);
  const skipped = new Uint8Array(nc);
  for (const [a, b] of skip) skipped.fill(1, Math.max(0, Math.floor(a)), Math.max(0, Math.min(nc, Math.ceil(b))));
  const residualEnergies: number[] = [];
  for (let k = 0; k < nw; k++) {
    let c = 0, e = 0, r = 0, ok = 1;
    for (let m = k * w; m < (k + 1) * w; m++) {
      if (!valid[m] || skipped[m]) {
        ok = 0;
        break;
      }
      const x = capture[m]!;
      const a = gain * aligned[m]!;
      c += x * x;
      e += a * a;
      r += (x - a) * (x - a);
    }
    if (!ok) continue;
    usable[k] = 1;
    ec[k] = c;
    ee[k] = e;
    er[k] = r;
    if (e > 0) residualEnergies.push(r);
  }
  if (residualEnergies.length === 0) return [];
  const energies = Float32Array.from(residualEnergies);
  const noise = Math.max(medianOfAbsBits(new Int32Array(energies.buffer), energies.length), w * ZERO_EPS * ZERO_EPS);
  const silent = (k: number): boolean => usable[k] === 1 && ee[k]! > FADE_SNR_RATIO * noise && ec[k]! < FADE_ENERGY_RATIO * ee[k]!;
  const maxHole = Math.max(1, Math.round((FADE_HOLE_MS / FADE_WINDOW_MS)));
  const runs: Range[] = [];
  for (let k = 0; k < nw; ) {
    if (!silent(k)) {
      k++;
      continue;
    }
    let last = k;
    let j = k + 1;
    while (j < nw && j - last <= maxHole + 1) {
      if (!usable[j]) break;
      if (silent(j)) last = j;
      j++;
    }
    const start = refineFadeEdge(capture, aligned, gain, k * w, w, true);
    const end = refineFadeEdge(capture, aligned, gain, (last + 1) * w, w, false);
    if (end - start >= minRun) runs.push([start, end]);
    k = last + 1;
  }
  return runs;
}

/**
 * The sample near `at` (±w) where the capture switches between matching g·A and being ~0: minimises
 * Σ_{m<s} (x − g·A)² + Σ_{m≥s} x² for a run start (`starting`), the mirror image for a run end.
 */
function refineFadeEdge(capture: Float32Array, aligned: Float32Array, gain: number, at: number, w: number, starting: boolean): number {
  const lo = Math.max(0, at - w);
  const hi = Math.min(capture.length, at + w);
  let best = at;
  let bestCost = Infinity;
  for (let s = lo; s <= hi; s++) {
    let cost = 0;
    for (let m = lo; m < hi; m++) {
      const x = capture[m]!;
      const matchSide = starting ? m < s : m >= s;
      cost += matchSide ? (x - gain * aligned[m]!) ** 2 : x * x;
    }
    if (cost < bestCost) {
      bestCost = cost;
      best = s;
    }
  }
  return best;
}

/** e[m] = capture[m] − gain·aligned[m] where valid, else 0. */
function residualOf(capture: Float32Array, aligned: Float32Array, valid: Uint8Array, gain: number): Float32Array {
  const nc = capture.length;
  const residual = new Float32Array(nc);
  for (let m = 0; m < nc; m++) if (valid[m]) residual[m] = capture[m]! - gain * aligned[m]!;
  return residual;
}

/**
 * Capture positions (ascending) where a valid, unskipped residual exceeds ABS_FLOOR and K_NOISE·σ of its block: the
 * click candidates, before the (costlier) local-level test.
 */
function exceedances(residual: Float32Array, valid: Uint8Array, skip: Uint8Array, sigmaByBlock: Float64Array, sigmaBlock: number): number[] {
  const out: number[] = [];
  const nc = residual.length;
  for (let k = 0, m0 = 0; m0 < nc; k++, m0 += sigmaBlock) {
    // Block k = ⌊m / sigmaBlock⌋ holds m ∈ [k·sigmaBlock, (k+1)·sigmaBlock).
    const threshold = K_NOISE * sigmaByBlock[k]!;
    for (let m = m0, end = Math.min(nc, m0 + sigmaBlock); m < end; m++) {
      if (!valid[m] || skip[m]) continue;
      const r = Math.abs(residual[m]!);
      if (r <= ABS_FLOOR || r <= threshold) continue;
      out.push(m);
    }
  }
  return out;
}
