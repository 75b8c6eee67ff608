/**
 * `loopcheck bench`: measures latency, capture buffer, dropouts and CPU per buffer size (and share mode where the
 * backend has one), writes bench.json and bench.html, prints a table and a recommendation. Exit 0 when a buffer
 * size qualifies, 1 when none does, 2 on usage/setup errors, 130/143 when interrupted (partial files written).
 */
import path from 'node:path';
import { mkdir } from 'node:fs/promises';
import latencySuite from '../../suites/latency.suite.js';
import dropoutSuite from '../../suites/dropouts.suite.js';
import { LoopcheckError } from '../errors.js';
import { loadCriteria } from '../harness/criteria.js';
import { parseBufferList, parseModes, runBench, type BenchResult } from '../harness/bench.js';
import { DEFAULT_CRITERIA } from '../harness/types.js';
import { renderBenchHtml } from '../report/bench-html.js';
import { escapeTerminal } from '../report/escape.js';
import { formatNumber, roundForJson } from '../report/format.js';
import { writeFileAtomic } from '../report/index.js';
import { createProgress, shouldShowProgress } from '../report/progress.js';
import { listenForInterrupt, type CommandIo } from './io.js';
import { formatHelp, numberOption, parse } from './options.js';

const HELP = formatHelp({
  usage: 'loopcheck bench [--buffers 5,10,20,50,100] [--repeat N] [--modes shared,exclusive] [--load N] [--out DIR]',
  summary:
    'For each buffer size: opens real streams, plays the latency stimulus N times and a steady stimulus for\n' +
    'dropouts, and records latency (median, p99), capture buffer p99, dropouts, overruns/underruns and CPU.\n' +
    'Recommends the smallest buffer with 0 dropouts and latency p99 below the limit (default 100 ms).\n' +
    'Exclusive mode exists on wasapi only (pulse and virtual: shared). Writes bench.json and bench.html.\n' +
    'Exit 0 a buffer size qualifies; 1 none does; 2 usage or setup error; 130 interrupted.',
  options: [
    ['--buffers LIST', 'buffer sizes to try, ms (default 5,10,20,50,100)'],
    ['--repeat N', 'latency stimulus repeats per size (default 5)'],
    ['--modes LIST', 'shared (default), exclusive or shared,exclusive (wasapi only)'],
    ['--load N', 'run N CPU-burning worker threads during the runs (default 0)'],
    ['--duration S', 'length of the steady stimulus for dropouts, seconds (default 3)'],
    ['--criteria FILE', 'JSON criteria; maxLatencyMs is the limit for the recommendation'],
    ['--realtime', 'run the virtual device in real time'],
    ['--out DIR', 'where bench.json and bench.html go (default reports/bench)'],
  ],
});

/** bench.json: the result with numbers rounded (roundForJson: non-finite → null). */
export function benchJson(result: BenchResult): string {
  return `${JSON.stringify(result, (_k, v: unknown) => (typeof v === 'number' ? roundForJson(v) : v), 2)}\n`;
}

/** The console table: one line per row, then the recommendation. */
export function benchTable(result: BenchResult): string {
  const head = ['buffer ms', 'mode', 'granted', 'lat med', 'lat p99', 'capbuf p99', 'dropouts', 'over', 'under', 'cpu %'];
  const lines = result.rows.map((r) => [
    formatNumber(r.bufferMs),
    r.mode,
    formatNumber(r.grantedBufferMs),
    formatNumber(r.latencyMsMedian),
    formatNumber(r.latencyMsP99),
    formatNumber(r.captureBufferMsP99),
    String(r.dropouts),
    String(r.overruns),
    String(r.underruns),
    formatNumber(r.cpuPercent),
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i]!.length)));
  const fmt = (cells: string[]) => cells.map((c, i) => (i === 1 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  const out = [
    `loopcheck bench — backend ${escapeTerminal(result.backend)}${result.simulated ? ' (SIMULATED)' : ''}, device ${escapeTerminal(result.device.name)}`,
    fmt(head),
    ...lines.map(fmt),
    ...result.rows.flatMap((r) => r.errors.map((er) => `  ${formatNumber(r.bufferMs)} ms: ${escapeTerminal(er)}`)),
    ...result.notes.map((n) => `note: ${escapeTerminal(n)}`),
    result.recommendation.bufferMs === null
      ? `recommendation: none — ${escapeTerminal(result.recommendation.reason)}`
      : `recommendation: ${formatNumber(result.recommendation.bufferMs)} ms (${result.recommendation.mode}) — ${escapeTerminal(result.recommendation.reason)}`,
  ];
  return `${out.join('\n')}\n`;
}

export async function bench(argv: string[], io: CommandIo): Promise<number> {
  const { values } = parse('bench', argv, {
    buffers: { type: 'string', default: '5,10,20,50,100' },
    repeat: { type: 'string' },
    modes: { type: 'string', default: 'shared' },
    load: { type: 'string' },
    duration: { type: 'string' },
    criteria: { type: 'string' },
    realtime: { type: 'boolean', default: false },
    out: { type: 'string', default: path.join('reports', 'bench') },
  });
  if (values.help) {
    io.stdout.write(HELP);
    return 0;
  }
  const backend = values.backend ?? 'auto';
  const buffersMs = parseBufferList(values.buffers!);
  // auto resolves to wasapi only on Windows; elsewhere shared is the only mode.
  const modes = parseModes(values.modes!, backend === 'auto' && process.platform === 'win32' ? 'wasapi' : backend);
  const repeat = numberOption('bench', 'repeat', values.repeat, { min: 1, max: 100, integer: true }) ?? 5;
  const load = numberOption('bench', 'load', values.load, { min: 0, max: 64, integer: true }) ?? 0;
  const dropoutSeconds = numberOption('bench', 'duration', values.duration, { min: 1, max: 600 }) ?? 3;
  const criteria = values.criteria ? await loadCriteria(values.criteria) : { ...DEFAULT_CRITERIA };
  const outDir = path.resolve(values.out!);
  try {
    await mkdir(outDir, { recursive: true });
  } catch (cause) {
    throw new LoopcheckError('INVALID_FILE', `bench: cannot create --out ${values.out!.slice(0, 80)}: ${(cause as Error).message}`, { hint: 'choose a writable --out directory', cause });
  }
  const say = (line: string): void => void (values.json ? io.stderr : io.stdout).write(`${line}\n`);

  const interrupt = listenForInterrupt(
    io,
    'stopping after the current step and writing partial results (Ctrl-C again to quit now)',
    'interrupted again, exiting now',
  );
  const steps = 2 * (repeat + 1) * buffersMs.length * modes.length;
  const progress = createProgress({ stream: io.stderr, total: steps, label: 'bench', enabled: !values.json && shouldShowProgress(io.stderr, steps * 1000) });
  let result: BenchResult;
  try {
    result = await runBench({
      backend,
      device: values.device,
      buffersMs,
      modes,
      repeat,
      load,
      dropoutSeconds,
      latencySuite,
      dropoutSuite,
      criteria,
      realtime: values.realtime,
      signal: interrupt.signal,
      onProgress: (done, _total, note) => progress.tick(done, note),
      log: (line) => say(line),
    });
  } catch (e) {
    interrupt.dispose();
    throw e;
  } finally {
    progress.done();
  }
  const jsonPath = path.join(outDir, 'bench.json');
  const htmlPath = path.join(outDir, 'bench.html');
  const json = benchJson(result);
  try {
    await writeFileAtomic(jsonPath, json);
    await writeFileAtomic(htmlPath, renderBenchHtml(result));
  } catch (cause) {
    throw new LoopcheckError('INVALID_FILE', `bench: cannot write to ${values.out!.slice(0, 80)}: ${(cause as Error).message}`, { hint: 'choose a writable --out directory', cause });
  } finally {
    interrupt.dispose();
  }
  if (values.json) io.stdout.write(json);
  else io.stdout.write(benchTable(result));
  say(`bench: ${[jsonPath, htmlPath].map((f) => path.relative(process.cwd(), f) || f).join(', ')}`);
  const signalName = interrupt.received();
  if (signalName) return signalName === 'SIGTERM' ? 143 : 130;
  return result.recommendation.bufferMs === null ? 1 : 0;
}
