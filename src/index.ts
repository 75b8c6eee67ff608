/**
 * loopcheck's public API (`import … from 'loopcheck'`). The CLI is built on exactly these functions.
 *
 *   import { openCapture, openRender, listDevices, analyze, runSuites } from 'loopcheck';
 *
 * - openCapture / openRender / listDevices: the capture library (src/capture.ts), the same on every backend.
 * - analyze: compares a capture with its reference (the `loopcheck analyze --json` contract, design.md).
 * - runSuites: the verification harness (`loopcheck verify` without the CLI); writeReports renders its Report.
 * Every failure is a LoopcheckError whose `code` is one of ERROR_CODES. Examples: README.md "Library".
 */
import type { Criteria, SuiteDefinition } from './harness/types.js';
import { runSuites as runHarness, type RunOptions } from './harness/runner.js';
import type { Report } from './report/types.js';

export { openCapture, openRender, listDevices, Capture } from './capture.js';
export type { OpenStreamOptions, PcmOptions, ListDevicesOptions, Render } from './capture.js';
export { analyze, type AnalyzeOptions } from './analysis/index.js';
export type { AnalysisResult, Dropout, DropoutKind, LatencyEstimate } from './analysis/types.js';
export { BUILTIN_SUITES } from '../suites/index.js';
export { defineSuite, selectSuites } from './harness/suites.js';
export { DEFAULT_CRITERIA } from './harness/types.js';
export type { Criteria, SuiteDefinition, MetricName, CaseResult, CaseMetrics, CaseFailure } from './harness/types.js';
export type { CaptureChunk, ChunkFlags, DeviceInfo, PlayResult, StreamFormat, BackendName } from './backends/types.js';
export type { Audio } from './audio.js';
export type { Report, ReportSummary } from './report/types.js';
export { LoopcheckError, ERROR_CODES, isLoopcheckError, type ErrorCode, type LoopcheckErrorOptions } from './errors.js';
export { readWav, writeWav, decodeWav, encodeWav, encodePcm, WavStreamWriter } from './wav.js';
export type { WavFormat, WavDecoded, WavInfo, WavEncodeOptions, WavStreamOptions } from './wav.js';
// Stimuli for custom suites (each a pure `(sampleRate, options) => Audio`; levels in dBFS).
export { exponentialSweep, multitone, sine, whiteNoise, pinkNoise, silence, verificationStimulus } from './signals/index.js';
export type { SweepOptions, MultitoneOptions, SineOptions, NoiseOptions, SilenceOptions, StimulusOptions } from './signals/index.js';
export { writeReports } from './report/index.js';
export { VERSION } from './version.js';

/**
 * Options of runSuites(). The harness's RunOptions, each field documented here for the public API (a change
 * to a field's type in src/harness/runner.ts breaks this declaration, so the two cannot drift apart).
 */
export interface RunSuitesOptions extends RunOptions {
  /** The suites to run, in order: BUILTIN_SUITES, a selectSuites() pick of them, or your own defineSuite()s. */
  suites: readonly SuiteDefinition[];
  /** auto (default) | virtual | pulse | wasapi, as OpenStreamOptions.backend (an explicit name never falls back). */
  backend?: string;
  /** Render device id whose loopback is measured. Default: the default render device. */
  device?: string | undefined;
  /** Requested device buffer, ms (default: pulse and wasapi 50, virtual 10). */
  bufferMs?: number | undefined;
  /** wasapi only: exclusive-mode render stream. */
  exclusive?: boolean | undefined;
  /** Virtual backend only: seeded impairments, e.g. `{ latencyMs: 40, dropouts: 2 }` (keys as OpenStreamOptions.impair). */
  impair?: Record<string, number> | undefined;
  /** Virtual backend only: pace the simulated clock in real time. Default false. */
  realtime?: boolean | undefined;
  /** What each case is judged against. Default DEFAULT_CRITERIA (latency < 100 ms, 0 dropouts). */
  criteria?: Criteria;
  /** Called after every step: cases done, cases in total, what just happened. */
  onProgress?: ((done: number, total: number, note: string) => void) | undefined;
  /** Receives one line per decision worth telling a user (e.g. that `auto` chose the simulated device). */
  log?: ((line: string) => void) | undefined;
}

/**
 * Runs suites on one render device and its loopback and returns the Report (`report.passed`, `report.summary`,
 * `report.cases`). A failure mid-run (device lost, `signal` aborted) still resolves, with `interrupted: true` and
 * the cases completed; setup errors (no such backend or device) reject with a LoopcheckError.
 */
export function runSuites(options: RunSuitesOptions): Promise<Report> {
  return runHarness(options);
}
