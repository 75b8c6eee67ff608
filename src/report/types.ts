/** The report model every Reporter renders, and the Reporter interface (one small class per format). */
import type { CaseResult, Criteria } from '../harness/types.js';

export interface ReportSummary {
  /** Median write→delivery latency over every case that measured it, ms. */
  latencyMs: number | null;
  /** Max of the same: the number judged against maxLatencyMs. */
  latencyMsMax: number | null;
  latencyMsMin?: number | null;
  latencyMsMedian?: number | null;
  dropouts: number;
  captureBufferMsP50: number | null;
  captureBufferMsP99: number | null;
  /** PulseAudio's own reported record latency p50 / p99, ms: the part of captureBufferMs that is the server's. */
  serverLatencyMsP50?: number | null;
  serverLatencyMsP99?: number | null;
  snrDbMin: number | null;
  overruns?: number;
  bitExact?: boolean | null;
}

export interface Report {
  tool: 'loopcheck';
  version: string;
  passed: boolean;
  /** True on the virtual backend: no real audio device was measured. */
  simulated: boolean;
  /** True when the run was cut short (Ctrl-C, device lost): the report is partial. */
  interrupted: boolean;
  /** Why the run stopped early, one line, when it did. */
  error?: string;
  backend: string;
  device: { id: string; name: string };
  format: { sampleRate: number; channels: number; sampleFormat: string; bufferMs: number };
  criteria: Criteria;
  summary: ReportSummary;
  cases: CaseResult[];
  /** `addon`: the native addon's version, when the backend ran through it (not on virtual). */
  /** `library`: the audio library behind a native backend, e.g. "libpulse 16.1.0" or "WASAPI (Wine 10.0)". */
  environment: { os: string; node: string; hostname: string; addon?: string; library?: string; impair?: Record<string, number> };
  startedAt: string;
  durationMs: number;
}

export interface Reporter {
  /** Short name, e.g. "json". */
  readonly name: string;
  /** File name inside the output directory, e.g. "report.json". */
  readonly fileName: string;
  render(report: Report): string;
}
