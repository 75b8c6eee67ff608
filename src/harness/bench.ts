/**
 * Buffer-size benchmark: for each requested buffer size (and share mode) open a fresh render+loopback session
 * through `runSuites`, run the latency stimulus N times and a short steady stimulus for dropouts, and reduce the
 * report to one row. The recommendation is the smallest buffer with zero dropouts and latency p99 strictly below
 * the latency criterion.
 *
 * Conventions:
 * - latencyMs* are per-frame write → delivery latencies (design.md, src/harness/latency.ts) of the latency-suite
 *   repeats only: latencyMsMedian = median of the repeats' per-frame medians; latencyMsP99 = the worst repeat's
 *   per-frame p99; latencyMsMax = the largest per-frame value of any repeat. Percentiles are type 7
 *   (dsp/stats.ts).
 * - captureBufferMsP99 = p99 over every chunk of the run of (delivery − device time of the chunk's first frame).
 * - cpuPercent = process CPU time (user + system, all threads of this process: JS, native pump threads and any
 *   `--load` workers) during the capture phase ÷ wall time of that phase × 100. 100 = one core busy. The
 *   analysis that follows each capture is excluded (it is loopcheck's own post-processing, not streaming cost).
 */
import { Worker } from 'node:worker_threads';
import type { SuiteDefinition, Criteria } from './types.js';
import { DEFAULT_CRITERIA } from './types.js';
import { runSuites } from './runner.js';
import { percentile } from '../dsp/stats.js';
import { LoopcheckError } from '../errors.js';
import type { Report } from '../report/types.js';
import { VERSION } from '../version.js';

export type ShareMode = 'shared' | 'exclusive';

export interface BenchRow {
  bufferMs: number;
  mode: ShareMode;
  /** The buffer the backend granted (the capture stream's bufferMs), ms. */
  grantedBufferMs: number;
  latencyMsMedian: number | null;
  latencyMsP99: number | null;
  latencyMsMax: number | null;
  captureBufferMsP99: number | null;
  /** The server's own reported record latency p99 (PulseAudio), ms; null where the backend has none. */
  serverLatencyMsP99: number | null;
  dropouts: number;
  overruns: number;
  underruns: number;
  cpuPercent: number | null;
  /** Cases that failed for a reason other than the measured numbers (signal not found, error). */
  errors: string[];
}

export interface BenchRecommendation {
  bufferMs: number | null;
  mode: ShareMode | null;
  reason: string;
}

export interface BenchResult {
  tool: 'loopcheck';
  kind: 'bench';
  version: string;
  simulated: boolean;
  backend: string;
  device: { id: string; name: string };
  repeat: number;
  dropoutSeconds: number;
  load: number;
  criteria: { maxLatencyMs: number; maxDropouts: number };
  notes: string[];
  rows: BenchRow[];
  recommendation: BenchRecommendation;
  environment: Report['environment'] | null;
  startedAt: string;
  durationMs: number;
  interrupted: boolean;
}

export interface BenchOptions {
  backend: string;
  device?: string | undefined;
  buffersMs: readonly number[];
  modes: readonly ShareMode[];
  repeat: number;
  /** Length of the steady (dropouts) stimulus, seconds. */
  dropoutSeconds: number;
  load: number;
  latencySuite: SuiteDefinition;
  dropoutSuite: SuiteDefinition;
  criteria?: Criteria;
  realtime?: boolean | undefined;
  signal?: AbortSignal | undefined;
  /** done / total in "steps" (one per captured or analysed case over the whole bench). */
  onProgress?: ((done: number, total: number, note: string) => void) | undefined;
  log?: ((line: string) => void) | undefined;
}

/** Backends with an exclusive mode (design.md: WASAPI render/capture endpoints). */
export function supportedModes(backend: string): ShareMode[] {
  return backend === 'wasapi' ? ['shared', 'exclusive'] : ['shared'];
}

const CMD = 'bench';

/** `5,10,20` → [5, 10, 20] (sorted ascending, duplicates removed). Each 1 ≤ ms ≤ 2000. */
export function parseBufferList(text: string): number[] {
  const parts = text.split(',').map((s) => s.trim());
  if (parts.length === 0 || parts.some((p) => p === '')) {
    throw new LoopcheckError('INVALID_ARGUMENT', `${CMD}: --buffers must be a comma-separated list of milliseconds, got "${text.slice(0, 40)}"`, {
      hint: 'e.g. --buffers 5,10,20,50,100',
    });
  }
  const values = parts.map((p) => {
    const v = Number(p);
    if (!Number.isFinite(v) || v < 1 || v > 2000) {
      throw new LoopcheckError('INVALID_ARGUMENT', `${CMD}: --buffers: each size must be a number from 1 to 2000 ms, got "${p.slice(0, 20)}"`, {
        hint: 'e.g. --buffers 5,10,20,50,100',
      });
    }
    return v;
  });
  return [...new Set(values)].sort((a, b) => a - b);
}

/** `shared,exclusive` → modes; rejects unknown names and modes the backend does not have. */
export function parseModes(text: string, backend: string): ShareMode[] {
  const names = [...new Set(text.split(',').map((s) => s.trim()))];
  const known: ShareMode[] = ['shared', 'exclusive'];
  const modes: ShareMode[] = [];
  for (const n of names) {
    if (!known.includes(n as ShareMode)) {
      throw new LoopcheckError('INVALID_ARGUMENT', `${CMD}: --modes: unknown mode "${n.slice(0, 20)}"`, { hint: 'use shared, exclusive or shared,exclusive' });
    }
    modes.push(n as ShareMode);
  }
  const supported = supportedModes(backend);
  const missing = modes.filter((m) => !supported.includes(m));
  if (missing.length > 0) {
    throw new LoopcheckError('INVALID_ARGUMENT', `${CMD}: backend "${backend.slice(0, 20)}" has no ${missing.join('/')} mode (only ${supported.join(', ')})`, {
      hint: `use --modes ${supported.join(',')}${backend === 'wasapi' ? '' : ', or --backend wasapi for exclusive mode'}`,
    });
  }
  return modes;
}

/** Reduces one run's report (latency suite + dropouts suite) to a bench row. */
export function benchRowFromReport(report: Report, bufferMs: number, mode: ShareMode, cpuPercent: number | null, latencySuiteName: string, dropoutSuiteName: string): BenchRow {
  const latencyCases = report.cases.filter((c) => c.suite === latencySuiteName);
  const finite = (pick: (m: Report['cases'][number]['metrics']) => number | null | undefined): number[] =>
    latencyCases.map((c) => pick(c.metrics)).filter((v): v is number => typeof v === 'number' && Number.isFinite(v));
  const latencies = finite((m) => m.latencyMs);
  const p99s = finite((m) => m.latencyMsP99 ?? m.latencyMs);
  const maxes = finite((m) => m.latencyMsMax ?? m.latencyMs);
  const dropouts = report.cases.filter((c) => c.suite === dropoutSuiteName).reduce((n, c) => n + (c.metrics.dropoutCount ?? c.metrics.dropouts?.length ?? 0), 0);
  const errors = report.cases.flatMap((c) => c.failures.filter((f) => f.criterion === 'signalFound' || f.criterion === 'error').map((f) => `${c.name}: ${f.message}`));
  if (report.error) errors.push(report.error);
  return {
    bufferMs,
    mode,
    grantedBufferMs: report.format.bufferMs,
    latencyMsMedian: percentile(latencies, 50),
    latencyMsP99: p99s.length ? Math.max(...p99s) : null,
    latencyMsMax: maxes.length ? Math.max(...maxes) : null,
    captureBufferMsP99: report.summary.captureBufferMsP99,
    serverLatencyMsP99: report.summary.serverLatencyMsP99 ?? null,
    dropouts,
    overruns: report.cases.reduce((n, c) => n + (c.metrics.overruns ?? 0), 0),
    underruns: report.cases.reduce((n, c) => n + (c.metrics.underruns ?? 0), 0),
    cpuPercent,
    errors,
  };
}

/**
 * The smallest buffer (then shared before exclusive) with no dropouts, no case errors and latency p99 strictly
 * below `maxLatencyMs`; `bufferMs: null` with the reason when no row qualifies.
 */
export function recommendBuffer(rows: readonly BenchRow[], maxLatencyMs: number): BenchRecommendation {
  const ok = rows
    .filter((r) => r.dropouts === 0 && r.errors.length === 0 && r.latencyMsP99 !== null && r.latencyMsP99 < maxLatencyMs)
    .sort((a, b) => a.bufferMs - b.bufferMs || (a.mode === b.mode ? 0 : a.mode === 'shared' ? -1 : 1));
  const best = ok[0];
  if (best) {
    return {
      bufferMs: best.bufferMs,
      mode: best.mode,
      reason: `smallest buffer with 0 dropouts and latency p99 ${best.latencyMsP99!.toFixed(2)} ms < ${maxLatencyMs} ms`,
    };
  }
  if (rows.length === 0) return { bufferMs: null, mode: null, reason: 'no buffer size was measured' };
  return { bufferMs: null, mode: null, reason: `no buffer size had 0 dropouts and latency p99 < ${maxLatencyMs} ms: try larger buffers or less load` };
}

// ---- CPU load ------------------------------------------------------------------------------------------------

/** Busy loop until the deadline (epoch ms) or until the main thread posts 'stop'. */
const BURN_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
let stop = false;
parentPort.on('message', () => { stop = true; });
function burn() {
  const end = Date.now() + 50;
  let x = 0;
  while (Date.now() < end) x = Math.sqrt(x + 1.5) * 1.0000001;
  if (!stop && Date.now() < workerData.deadline) setImmediate(burn); else process.exit(0);
}
burn();
`;

export interface CpuLoad {
  readonly workers: number;
  stop(): Promise<void>;
}

/**
 * Starts `n` CPU-burning worker threads that stop by themselves after `maxMs` (a bound even if the caller
 * crashes before `stop()`); `stop()` terminates them at once.
 */
export function startCpuLoad(n: number, maxMs: number): CpuLoad {
  const deadline = Date.now() + maxMs;
  const workers = Array.from({ length: n }, () => {
    const w = new Worker(BURN_SOURCE, { eval: true, workerData: { deadline } });
    w.unref();
    w.on('error', () => {});
    return w;
  });
  return {
    workers: n,
    async stop() {
      await Promise.all(workers.map((w) => w.terminate().catch(() => 0)));
    },
  };
}

// ---- the run -------------------------------------------------------------------------------------------------

function cpuMsSince(start: NodeJS.CpuUsage): number {
  const d = process.cpuUsage(start);
  return (d.user + d.system) / 1000;
}

/** Runs the benchmark. Setup errors (unknown backend/device) throw; a Ctrl-C returns the rows measured so far. */
export async function runBench(options: BenchOptions): Promise<BenchResult> {
  const startedAt = new Date();
  const t0 = performance.now();
  const criteria = options.criteria ?? DEFAULT_CRITERIA;
  const latencySuite: SuiteDefinition = { ...options.latencySuite, repeats: options.repeat };
  const suites = [latencySuite, options.dropoutSuite];
  const stepsPerRun = 2 * (latencySuite.repeats + options.dropoutSuite.repeats);
  const combos = options.modes.flatMap((mode) => options.buffersMs.map((bufferMs) => ({ bufferMs, mode })));
  const total = stepsPerRun * combos.length;
  // A bound for the load workers: generous per run (stimuli + tails + analysis), capped at 30 min.
  const load = options.load > 0 ? startCpuLoad(options.load, Math.min(30 * 60_000, combos.length * (60_000 + 4000 * (options.repeat + options.dropoutSeconds)))) : null;
  const rows: BenchRow[] = [];
  let last: Report | null = null;
  let interrupted = false;
  try {
    for (const [i, { bufferMs, mode }] of combos.entries()) {
      if (options.signal?.aborted) {
        interrupted = true;
        break;
      }
      let cpuStart = process.cpuUsage();
      let wallStart = performance.now();
      let cpuPercent: number | null = null;
      let capturing = false;
      const report = await runSuites({
        backend: options.backend,
        device: options.device,
        bufferMs,
        exclusive: mode === 'exclusive',
        realtime: options.realtime,
        suites,
        criteria,
        durationSeconds: options.dropoutSeconds,
        signal: options.signal,
        log: options.log,
        onProgress: (done, _total, note) => {
          if (!capturing && note.startsWith('capturing')) {
            // Capture phase starts with the first stimulus (session open and lead-in excluded).
            capturing = true;
            cpuStart = process.cpuUsage();
            wallStart = performance.now();
          } else if (capturing && cpuPercent === null && !note.startsWith('capturing')) {
            const wall = performance.now() - wallStart;
            cpuPercent = wall > 0 ? (100 * cpuMsSince(cpuStart)) / wall : null;
          }
          options.onProgress?.(i * stepsPerRun + done, total, `${bufferMs} ms ${mode}: ${note}`);
        },
      });
      last = report;
      rows.push(benchRowFromReport(report, bufferMs, mode, cpuPercent, latencySuite.name, options.dropoutSuite.name));
      if (report.interrupted) {
        interrupted = true;
        break;
      }
    }
  } finally {
    await load?.stop();
  }
  const notes: string[] = [];
  const unsupported = (['shared', 'exclusive'] as const).filter((m) => !supportedModes(last?.backend ?? options.backend).includes(m));
  if (unsupported.length) notes.push(`backend ${last?.backend ?? options.backend} has only shared mode; exclusive was not measured`);
  if (last?.simulated) notes.push('SIMULATED: the virtual backend was measured, not a real device; latency is the simulated latencyMs, the capture buffer follows the simulated period');
  if (options.load > 0) notes.push(`${options.load} CPU-burning worker thread(s) ran during the runs; cpuPercent includes them`);
  return {
    tool: 'loopcheck',
    kind: 'bench',
    version: VERSION,
    simulated: last?.simulated ?? options.backend === 'virtual',
    backend: last?.backend ?? options.backend,
    device: last?.device ?? { id: options.device ?? '', name: options.device ?? '' },
    repeat: options.repeat,
    dropoutSeconds: options.dropoutSeconds,
    load: options.load,
    criteria: { maxLatencyMs: criteria.maxLatencyMs, maxDropouts: 0 },
    notes,
    rows,
    recommendation: recommendBuffer(rows, criteria.maxLatencyMs),
    environment: last?.environment ?? null,
    startedAt: startedAt.toISOString(),
    durationMs: performance.now() - t0,
    interrupted,
  };
}
