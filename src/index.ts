/**
 * loopcheck's public API. The CLI is built on exactly these functions.
 *
 *   import { openCapture, openRender, listDevices, analyze, runSuites } from 'loopcheck';
 */
export { openCapture, openRender, listDevices } from './capture.js';
export { analyze } from './analysis/index.js';
export { runSuites, type RunOptions } from './harness/runner.js';
export { BUILTIN_SUITES } from '../suites/index.js';
export { defineSuite, selectSuites } from './harness/suites.js';
export { DEFAULT_CRITERIA } from './harness/types.js';
export type { Criteria, SuiteDefinition, CaseResult, CaseMetrics } from './harness/types.js';
export type { AnalysisResult, Dropout, DropoutKind, LatencyEstimate } from './analysis/types.js';
export type { CaptureChunk, ChunkFlags, DeviceInfo, PlayResult, StreamFormat, BackendName } from './backends/types.js';
export type { Audio } from './audio.js';
export type { Report, ReportSummary } from './report/types.js';
export { LoopcheckError, ERROR_CODES, type ErrorCode } from './errors.js';
export { readWav, writeWav, decodeWav, encodeWav, WavStreamWriter } from './wav.js';
export { writeReports } from './report/index.js';
export { VERSION } from './version.js';
