/**
 * Result types of the analysis layer. Units are in the names or the doc comments.
 *
 * DSP conventions (design.md; repeated where they are computed):
 * - Latency positive = capture later than reference, in capture samples; ms = samples / sampleRate · 1000.
 *   It is the alignment of the reference's first sample (before any dropout or drift moves it).
 * - driftPpm = (capture clock / reference clock − 1) · 1e6: positive when the capture holds more samples
 *   for the same content.
 * - gainDb = 20·log10(capture / reference) over the aligned, dropout-free region.
 * - Dropout kinds: `gap` (audio lost, timeline shifts), `silence` (audio replaced by zeros, timeline kept),
 *   `click` (local disturbance, timeline kept). Drift is not a dropout.
 */

export type DropoutKind = 'gap' | 'silence' | 'click';

export interface Dropout {
  /** Position in the capture, seconds from the capture's first sample. */
  atSeconds: number;
  /** Length of the lost / zeroed / disturbed audio, milliseconds. For a gap: the audio that is missing. */
  durationMs: number;
  kind: DropoutKind;
}

export interface LatencyEstimate {
  /** Capture position of the reference's first sample, in capture samples (sub-sample). */
  samples: number;
  ms: number;
  /** 0…1: peak correlation × uniqueness of the peak. Low for periodic references (ambiguous). */
  confidence: number;
}

/** The `analyze --json` contract (design.md). Optional fields are added when computed. */
export interface AnalysisResult {
  signalFound: boolean;
  sampleRate: number;
  channel: number;
  latency: LatencyEstimate | null;
  gainDb: number | null;
  driftPpm: number | null;
  snrDb: number | null;
  dropouts: Dropout[];
  /** True when the aligned capture equals the reference sample for sample (after gain 1, integer lag). */
  bitExact?: boolean;
  thdnDb?: number | null;
  /** The reference→capture map found (segments refined by dropout detection); not part of the JSON contract. */
  alignment?: Alignment;
  frequencyResponse?: FrequencyResponse | null;
  impulseResponse?: ImpulseResponse | null;
  warnings?: string[];
}

export interface FrequencyResponse {
  /** Hz, log-spaced. */
  frequencies: number[];
  /** Magnitude, dB relative to the mean over 200 Hz – 2 kHz (0 dB = flat). */
  magnitudeDb: number[];
  /** Max |magnitudeDb| within the measured band. */
  rippleDb: number;
  bandHz: [number, number];
}

export interface ImpulseResponse {
  sampleRate: number;
  /** Linear impulse response, peak-normalised to 1, starting `preSamples` before the peak. */
  samples: Float32Array;
  preSamples: number;
}

/**
 * Piecewise map from reference to capture. Within a segment, the capture position of reference sample r
 * is `offsetSamples + r · ratio`. A `gap` moves the next segment's offset down by the frames lost; inserted
 * audio moves it up. Zero-fills and clicks do not change it.
 */
export interface AlignmentSegment {
  /** Capture sample range [captureStart, captureEnd) this segment's map applies to. */
  captureStart: number;
  captureEnd: number;
  /** Capture position of reference sample 0 under this segment's map (for the first segment: the latency). */
  offsetSamples: number;
}

export interface Alignment {
  latency: LatencyEstimate;
  /** Capture samples per reference sample: 1 + driftPpm·1e−6, shared by all segments. */
  ratio: number;
  driftPpm: number;
  segments: AlignmentSegment[];
  /** Peak normalised correlation of the coarse search, 0…1. */
  correlation: number;
}

/** What dropout detection returns besides the dropouts themselves. */
export interface DropoutAnalysis {
  dropouts: Dropout[];
  /** Segments with gap positions refined to the sample. */
  segments: AlignmentSegment[];
  /** Capture ranges [start, end) to leave out of level metrics (gain, SNR, THD+N). */
  excluded: [number, number][];
  /** The reference mapped onto the capture along the refined segments (as alignedReference), when computed. */
  alignedReference?: Float32Array;
}
