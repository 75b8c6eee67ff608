/**
 * Runs suites on a backend: opens one render+loopback session, keeps the capture running for the whole
 * run (so the device is warm and nothing is missed), and for every case plays the stimulus, waits for
 * its image to come back, analyses the case's recording and judges it. Returns a Report; a failure
 * mid-run (device lost, Ctrl-C) still returns a Report, marked interrupted, with the cases completed.
 */
import os from 'node:os';
import type { Audio } from '../audio.js';
import { frameCount } from '../audio.js';
import { analyze } from '../analysis/index.js';
import type { AnalysisResult } from '../analysis/types.js';
import { getBackend } from '../backends/index.js';
import type { CaptureChunk, LoopbackSession, PlayResult, Recording } from '../backends/types.js';
import { percentile } from '../dsp/stats.js';
import { isLoopcheckError, LoopcheckError } from '../errors.js';
import { native } from '../native.js';
import { RecordingBuilder } from '../recording.js';
import type { Report, ReportSummary } from '../report/types.js';
import { VERSION } from '../version.js';
import { judgeCase, judgeSummary } from './judge.js';
import { frameLatency } from './latency.js';
import type { CaseMetrics, CasePlots, CaseResult, Criteria, MetricName, SuiteDefinition } from './types.js';
import { DEFAULT_CRITERIA } from './types.js';

export interface RunOptions {
  backend?: string;
  device?: string | undefined;
  bufferMs?: number | undefined;
  exclusive?: boolean | undefined;
  /** The render stream's device period, ms (wasapi; see OpenOptions.renderPeriodMs). */
  renderPeriodMs?: number | undefined;
  impair?: Record<string, number> | undefined;
  realtime?: boolean | undefined;
  suites: readonly SuiteDefinition[];
  criteria?: Criteria;
  /** Length of suites that take one (dropouts), seconds. */
  durationSeconds?: number | undefined;
  /** Aborts the run between steps; the report is then partial and marked interrupted. */
  signal?: AbortSignal | undefined;
  onProgress?: ((done: number, total: number, note: string) => void) | undefined;
  log?: ((line: string) => void) | undefined;
}

/** Time given to the capture before the first stimulus (the pulse null sink's first data can take ~1 s). */
const LEAD_IN_MS = 300;
/** Window kept around each dropout for the report's zoomed waveform, ms each side. */
const DROPOUT_WINDOW_MS = 15;

/** Routes capture chunks to the current case's recording while the capture runs for the whole session. */
class CaseRecorder {
  private current: RecordingBuilder | null = null;
  error: unknown = null;
  chunks = 0;
  private readonly done: Promise<void>;

  constructor(private readonly session: LoopbackSession) {
    this.done = (async () => {
      try {
        for await (const chunk of session.capture) this.push(chunk);
      } catch (e) {
        this.error = e;
      }
    })();
  }

  private push(chunk: CaptureChunk): void {
    this.chunks++;
    this.current?.push(chunk);
  }

  begin(): void {
    const f = this.session.capture.format;
    this.current = new RecordingBuilder(f.channels, f.sampleRate);
  }

  end(): Recording {
    const b = this.current;
    this.current = null;
    if (!b) throw new LoopcheckError('INTERNAL', 'CaseRecorder.end() without begin()');
    return b.build();
  }

  /** The recording of a case cut short (device lost, Ctrl-C), if it holds any audio. */
  takePartial(): Recording | null {
    const b = this.current;
    this.current = null;
    return b && b.frames > 0 ? b.build() : null;
  }

  async finish(): Promise<void> {
    await this.session.capture.stop();
    await this.done;
  }
}

function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw new LoopcheckError('INTERRUPTED', 'interrupted');
}

/** Resolves with `work`, or rejects INTERRUPTED as soon as `signal` aborts (Ctrl-C mid-stimulus acts at once). */
async function untilAborted<T>(work: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (!signal) return work;
  throwIfAborted(signal);
  let onAbort: (() => void) | undefined;
  const aborted = new Promise<never>((_, reject) => {
    onAbort = () => reject(new LoopcheckError('INTERRUPTED', 'interrupted'));
    signal.addEventListener('abort', onAbort, { once: true });
  });
  try {
    return await Promise.race([work, aborted]);
  } finally {
    signal.removeEventListener('abort', onAbort!);
    work.catch(() => {}); // the abandoned play may still settle (or fail when the session closes)
  }
}

/** Waits `ms` on the session clock, giving up early when aborted or when the capture failed. */
async function waitOn(session: LoopbackSession, recorder: CaseRecorder, ms: number, signal: AbortSignal | undefined): Promise<void> {
  const step = Math.min(ms, 100);
  for (let waited = 0; waited < ms; waited += step) {
    throwIfAborted(signal);
    if (recorder.error) throw recorder.error;
    await session.wait(Math.min(step, ms - waited));
  }
  if (recorder.error) throw recorder.error;
}

function channelOf(audio: Audio, c: number): Float32Array {
  return audio.channels[Math.min(c, audio.channels.length - 1)]!;
}

function dropoutWindows(reference: Audio, recording: Recording, analysis: AnalysisResult): CasePlots['dropoutWindows'] {
  const alignment = analysis.alignment;
  if (!alignment || analysis.dropouts.length === 0) return [];
  const rate = recording.audio.sampleRate;
  const cap = channelOf(recording.audio, analysis.channel);
  const ref = channelOf(reference, 0);
  const half = Math.round((DROPOUT_WINDOW_MS / 1000) * rate);
  return analysis.dropouts.slice(0, 20).map((d) => {
    const at = Math.round(d.atSeconds * rate);
    const start = Math.max(0, at - half);
    const end = Math.min(cap.length, at + half + Math.round((d.durationMs / 1000) * rate));
    // The reference as the first segment's map places it (so a gap shows as the capture running ahead).
    const seg = alignment.segments.find((s) => at >= s.captureStart && at < s.captureEnd) ?? alignment.segments[0]!;
    const refWindow = new Float32Array(end - start);
    for (let m = start; m < end; m++) {
      const r = Math.round((m - seg.offsetSamples) / alignment.ratio);
      refWindow[m - start] = r >= 0 && r < ref.length ? ref[r]! : 0;
    }
    return { atSeconds: d.atSeconds, startSeconds: start / rate, capture: cap.slice(start, end), reference: refWindow };
  });
}

/** One played stimulus and what came back, kept until the capture is over. */
interface CapturedCase {
  suite: SuiteDefinition;
  name: string;
  stimulus: Audio;
  recording: Recording;
  play: PlayResult;
  captureMs: number;
  /** Cut short by `error` (device lost, Ctrl-C): analysed for what it holds, reported as failed. */
  incomplete?: string;
}

async function captureCase(
  session: LoopbackSession,
  recorder: CaseRecorder,
  suite: SuiteDefinition,
  name: string,
  stimulus: Audio,
  criteria: Criteria,
  signal: AbortSignal | undefined,
): Promise<CapturedCase> {
  const t0 = performance.now();
  recorder.begin();
  // Some capture before the stimulus, so a capture path that is late still shows its first sample.
  await waitOn(session, recorder, 50, signal);
  const play = await untilAborted(session.render.play(stimulus), signal);
  // Tail: the last stimulus frame must come back through the loopback; allow 3× the latency limit.
  const tailMs = Math.max(500, 3 * criteria.maxLatencyMs);
  await waitOn(session, recorder, tailMs, signal);
  return { suite, name, stimulus, recording: recorder.end(), play, captureMs: performance.now() - t0 };
}

/**
 * Analyses one captured case and judges it. Runs after the capture has stopped: analysis is
 * synchronous and would otherwise hold up chunk delivery (inflating write→delivery latency and
 * overrunning the native queue).
 */
function analyzeCase(c: CapturedCase, criteria: Criteria): CaseResult {
  const t0 = performance.now();
  const { suite, stimulus, recording, play } = c;
  const wantsFidelity = suite.metrics.some((m) => m === 'thdn' || m === 'frequencyResponse' || m === 'impulseResponse');
  const analysis = analyze(stimulus, recording.audio, { fidelity: wantsFidelity });

  const metrics: CaseMetrics = {};
  const m = new Set(suite.metrics);
  const latencyFrames = analysis.latency?.samples ?? null;
  if (m.has('latency') && !c.incomplete) {
    // write→delivery (design.md) of every stimulus frame on a 1 ms grid, up to the first dropout.
    const firstDropout = analysis.dropouts[0];
    const lat = latencyFrames === null ? null : frameLatency({
      deliveries: recording.deliveries,
      sampleRate: recording.audio.sampleRate,
      alignedFrame: latencyFrames,
      driftPpm: analysis.driftPpm,
      stimulusFrames: frameCount(stimulus),
      firstDropoutFrame: firstDropout ? firstDropout.atSeconds * recording.audio.sampleRate : null,
      writeTime: play.writeTime,
      writeMarks: play.writeMarks,
    });
    metrics.latencyMs = lat?.medianMs ?? null;
    metrics.latencyMsP99 = lat?.p99Ms ?? null;
    metrics.latencyMsMax = lat?.maxMs ?? null;
    metrics.latencyMsFirstFrame = lat?.firstFrameMs ?? null;
    metrics.latencySamples = latencyFrames;
    metrics.latencyConfidence = analysis.latency?.confidence ?? null;
  }
  if (m.has('dropouts')) {
    metrics.dropouts = analysis.dropouts;
    metrics.dropoutCount = analysis.dropouts.length;
  }
  if (m.has('gain')) metrics.gainDb = analysis.gainDb;
  if (m.has('snr')) metrics.snrDb = analysis.snrDb;
  if (m.has('drift')) metrics.driftPpm = analysis.driftPpm;
  if (m.has('thdn')) metrics.thdnDb = analysis.thdnDb ?? null;
  if (analysis.bitExact !== undefined) metrics.bitExact = analysis.bitExact;
  metrics.captureBufferMsP50 = percentile(recording.captureBufferMs, 50);
  metrics.captureBufferMsP99 = percentile(recording.captureBufferMs, 99);
  if (recording.serverLatencyMs?.length) {
    metrics.serverLatencyMsP50 = percentile(recording.serverLatencyMs, 50);
    metrics.serverLatencyMsP99 = percentile(recording.serverLatencyMs, 99);
  }
  metrics.overruns = recording.overruns;
  metrics.underruns = play.underruns;
  metrics.discontinuities = recording.discontinuities;

  const failures = c.incomplete
    ? [{ criterion: 'error' as const, message: `incomplete: ${c.incomplete}` }]
    : analysis.signalFound
      ? judgeCase(metrics, criteria, suite.criteria)
      : [{ criterion: 'signalFound' as const, message: 'the stimulus was not found in the capture' }];

  const plots: CasePlots = { sampleRate: recording.audio.sampleRate, dropoutWindows: dropoutWindows(stimulus, recording, analysis) };
  return {
    suite: suite.name,
    name: c.name,
    passed: failures.length === 0,
    metrics,
    failures,
    durationMs: c.captureMs + (performance.now() - t0),
    analysis,
    plots,
    captureBufferMs: recording.captureBufferMs,
    serverLatencyMs: recording.serverLatencyMs ?? [],
  };
}

/**
 * The server's own reported latency next to loopcheck's capture buffer (delivery − device time), so the delay
 * loopcheck adds (pump batching, queue, event loop) is visible: captureBufferMsP99 − serverLatencyMsP99.
 */
function serverLatencySummary(cases: CaseResult[]): Partial<ReportSummary> {
  const server = cases.flatMap((c) => c.serverLatencyMs ?? []);
  if (server.length === 0) return {};
  return { serverLatencyMsP50: percentile(server, 50), serverLatencyMsP99: percentile(server, 99) };
}

function summarise(cases: CaseResult[], suites: readonly SuiteDefinition[]): ReportSummary {
  const measures = (suiteName: string, metric: MetricName): boolean =>
    suites.find((s) => s.name === suiteName)?.metrics.includes(metric) ?? false;
  // Latency over every case that measured it: the max is what maxLatencyMs judges.
  const latencies = cases
    .map((c) => c.metrics.latencyMs)
    .filter((v): v is number => typeof v === 'number');
  const allBuffers = cases.flatMap((c) => c.captureBufferMs ?? []);
  const snrs = cases.map((c) => c.metrics.snrDb).filter((v): v is number => typeof v === 'number');
  const exact = cases.map((c) => c.metrics.bitExact).filter((v): v is boolean => typeof v === 'boolean');
  return {
    latencyMs: percentile(latencies, 50),
    latencyMsMax: latencies.length ? Math.max(...latencies) : null,
    latencyMsMin: latencies.length ? Math.min(...latencies) : null,
    latencyMsMedian: percentile(latencies, 50),
    dropouts: cases.filter((c) => measures(c.suite, 'dropouts')).reduce((n, c) => n + (c.metrics.dropoutCount ?? 0), 0),
    captureBufferMsP50: percentile(allBuffers, 50),
    captureBufferMsP99: percentile(allBuffers, 99),
    ...serverLatencySummary(cases),
    snrDbMin: snrs.length ? Math.min(...snrs) : null,
    overruns: cases.reduce((n, c) => n + (c.metrics.overruns ?? 0), 0),
    bitExact: exact.length ? exact.every(Boolean) : null,
  };
}

/** The native addon's version for report.json; a real backend ran through the addon, so it is loaded already. */
function addonVersion(): { addon?: string } {
  try {
    return { addon: native().version() };
  } catch {
    return {}; // a report without the stamp beats no report
  }
}

/** Runs the suites and returns the report (never throws for a failure mid-run; setup errors do throw). */
export async function runSuites(options: RunOptions): Promise<Report> {
  const startedAt = new Date();
  const t0 = performance.now();
  const criteria = options.criteria ?? DEFAULT_CRITERIA;
  const log = options.log ?? (() => {});
  const backend = await getBackend(options.backend ?? 'auto', { log });
  const session = await backend.openLoopback({
    device: options.device,
    bufferMs: options.bufferMs,
    exclusive: options.exclusive,
    renderPeriodMs: options.renderPeriodMs,
    impair: options.impair,
    realtime: options.realtime,
  });
  const recorder = new CaseRecorder(session);
  const captured: CapturedCase[] = [];
  let error: unknown = null;
  // Progress counts each case twice: once captured, once analysed.
  const total = 2 * options.suites.reduce((n, s) => n + s.repeats, 0);
  let current: { suite: SuiteDefinition; name: string; stimulus: Audio; startedAt: number } | null = null;
  try {
    await waitOn(session, recorder, LEAD_IN_MS, options.signal);
    for (const suite of options.suites) {
      const stimulus = suite.signal(session.capture.format.sampleRate, { durationSeconds: options.durationSeconds });
      for (let r = 0; r < suite.repeats; r++) {
        const name = suite.repeats > 1 ? `${suite.name} #${r + 1}` : suite.name;
        options.onProgress?.(captured.length, total, `capturing ${name}`);
        current = { suite, name, stimulus, startedAt: performance.now() };
        captured.push(await captureCase(session, recorder, suite, name, stimulus, criteria, options.signal));
        current = null;
      }
    }
  } catch (e) {
    error = e;
    // What the case in progress captured before the failure is kept and analysed (gaps, level, where it
    // stopped), marked incomplete: a lost device still leaves a partial report of the audio it delivered.
    const partial = current ? recorder.takePartial() : null;
    if (current && partial) {
      const why = isLoopcheckError(e) ? e.toLine() : String(e);
      captured.push({ ...current, recording: partial, play: { writeTime: NaN, framesWritten: 0, underruns: 0 }, captureMs: performance.now() - current.startedAt, incomplete: why });
    }
  } finally {
    try {
      await recorder.finish();
    } catch (e) {
      error ??= e;
    }
    await session.close().catch(() => {});
  }
  if (error !== null && !isLoopcheckError(error)) throw error;

  // Every case captured before a failure is analysed: a lost device or Ctrl-C still reports them.
  const cases: CaseResult[] = [];
  for (const c of captured) {
    options.onProgress?.(captured.length + cases.length, total, `analysing ${c.name}`);
    try {
      cases.push(analyzeCase(c, criteria));
    } catch (e) {
      // A capture cut short can be too short to analyse: report the case as failed, say why, keep the run.
      if (!c.incomplete || !isLoopcheckError(e)) throw e;
      cases.push({ suite: c.suite.name, name: c.name, passed: false, metrics: {}, durationMs: c.captureMs, failures: [{ criterion: 'error', message: `incomplete: ${c.incomplete}; ${e.toLine()}` }] });
    }
  }
  options.onProgress?.(total, total, 'done');

  const summary = summarise(cases, options.suites);
  const summaryFailures = judgeSummary(summary, criteria);
  const interrupted = error !== null;
  const format = session.capture.format;
  const report: Report = {
    tool: 'loopcheck',
    version: VERSION,
    passed: !interrupted && cases.length > 0 && cases.every((c) => c.passed) && summaryFailures.length === 0,
    simulated: session.simulated,
    interrupted,
    ...(error ? { error: (error as LoopcheckError).toLine() } : {}),
    backend: session.backend,
    device: { id: session.device.id, name: session.device.name },
    format: { sampleRate: format.sampleRate, channels: format.channels, sampleFormat: format.sampleFormat, bufferMs: session.capture.bufferMs },
    criteria,
    summary,
    cases,
    environment: {
      os: `${os.type()} ${os.release()} ${os.arch()}`,
      node: process.version,
      hostname: os.hostname(),
      ...(session.simulated ? {} : addonVersion()),
      ...(session.library ? { library: session.library } : {}),
      ...(options.impair ? { impair: options.impair } : {}),
    },
    startedAt: startedAt.toISOString(),
    durationMs: performance.now() - t0,
  };
  return report;
}

