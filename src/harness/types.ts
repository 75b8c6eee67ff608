/** Suites, criteria and case results: the harness's vocabulary. */
import type { Audio } from '../audio.js';
import type { AnalysisResult, Dropout } from '../analysis/types.js';

/** Acceptance criteria. Defaults: latency < 100 ms (max over repeats), 0 dropouts. */
export interface Criteria {
  /** Max write→delivery latency over all repeats, ms (strictly less than). */
  maxLatencyMs: number;
  /** Max dropouts found over the whole run. */
  maxDropouts: number;
  /** Max capture buffer (delivery − device time) p99, ms. */
  maxCaptureBufferMsP99?: number;
  /** Minimum SNR of every case that measures it, dB. */
  minSnrDb?: number;
  /** Max |gain| error, dB. */
  maxGainErrorDb?: number;
  /** Max THD+N at 997 Hz, dB (negative). */
  maxThdnDb?: number;
  /** Max |drift|, ppm. */
  maxDriftPpm?: number;
  /** Max overruns (loopcheck's own queues). */
  maxOverruns?: number;
}

export const DEFAULT_CRITERIA: Criteria = { maxLatencyMs: 100, maxDropouts: 0 };

export type MetricName = 'latency' | 'dropouts' | 'gain' | 'snr' | 'thdn' | 'drift' | 'frequencyResponse' | 'impulseResponse';

/** Declarative suite (suites/*.suite.ts). */
export interface SuiteDefinition {
  name: string;
  description: string;
  /** Builds the stimulus at the device's rate. `durationSeconds` comes from --duration when the suite uses it. */
  signal: (sampleRate: number, options: { durationSeconds?: number | undefined }) => Audio;
  /** Separate captures of the signal. */
  repeats: number;
  metrics: MetricName[];
  /** Which criteria this suite is judged on (others are reported, not judged). */
  criteria: (keyof Criteria)[];
}

/** Metrics of one case (one repeat of one suite), all optional as suites measure different things. */
export interface CaseMetrics {
  /** Write→delivery latency, median over the stimulus's frames (src/harness/latency.ts), ms. */
  latencyMs?: number | null;
  /** p99 and max over the stimulus's frames, ms. */
  latencyMsP99?: number | null;
  latencyMsMax?: number | null;
  /** Frame 0 alone: a stimulus's first frame into an idle stream (the sink's next tick), ms. */
  latencyMsFirstFrame?: number | null;
  latencySamples?: number | null;
  latencyConfidence?: number | null;
  dropouts?: Dropout[];
  dropoutCount?: number;
  gainDb?: number | null;
  snrDb?: number | null;
  thdnDb?: number | null;
  driftPpm?: number | null;
  bitExact?: boolean;
  captureBufferMsP50?: number | null;
  captureBufferMsP99?: number | null;
  /** The server's own reported record latency (PulseAudio), p50 / p99, ms. */
  serverLatencyMsP50?: number | null;
  serverLatencyMsP99?: number | null;
  overruns?: number;
  underruns?: number;
  discontinuities?: number;
}

export interface CaseFailure {
  criterion: keyof Criteria | 'signalFound' | 'error';
  message: string;
  /** Measured value and limit, when the failure is numeric. */
  measured?: number | null;
  limit?: number;
}

export interface CaseResult {
  suite: string;
  name: string;
  passed: boolean;
  metrics: CaseMetrics;
  failures: CaseFailure[];
  durationMs: number;
  /** Full analysis, for plots (not serialised wholesale into report.json). */
  analysis?: AnalysisResult;
  /** Reference and aligned capture excerpts for the HTML plots. */
  plots?: CasePlots;
  /** Per chunk: delivery − device time, ms (for the run's percentiles; not serialised). */
  captureBufferMs?: number[];
  /** Per chunk: the server's reported latency, ms, when known (not serialised). */
  serverLatencyMs?: number[];
}

export interface CasePlots {
  sampleRate: number;
  /** Around each dropout: capture and aligned reference, equal length. */
  dropoutWindows?: { atSeconds: number; capture: Float32Array; reference: Float32Array; startSeconds: number }[];
}
