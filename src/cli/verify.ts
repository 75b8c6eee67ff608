/**
 * `loopcheck verify`: runs the suites on a backend, writes report.json, junit.xml and report.html,
 * prints a summary, and exits 0 (all criteria met), 1 (a criterion failed), 2 (usage/setup) or
 * 130/143 (interrupted; a partial report is still written).
 */
import path from 'node:path';
import { BUILTIN_SUITES } from '../../suites/index.js';
import { getBackend } from '../backends/index.js';
import { parseImpairments } from '../backends/impairments.js';
import { LoopcheckError } from '../errors.js';
import { loadCriteria } from '../harness/criteria.js';
import { runSuites } from '../harness/runner.js';
import { selectSuites } from '../harness/suites.js';
import { DEFAULT_CRITERIA } from '../harness/types.js';
import { consoleSummary } from '../report/console.js';
import { REPORTERS, writeReports } from '../report/index.js';
import { appendStepSummary } from '../report/markdown.js';
import { createProgress, shouldShowProgress } from '../report/progress.js';
import { listenForInterrupt, type CommandIo } from './io.js';
import { formatHelp, numberOption, parse, requireWasapiFor } from './options.js';

const HELP = formatHelp({
  usage: 'loopcheck verify [--suite NAME…] [--criteria FILE] [--buffer-ms N] [--impair k=v,…] [--out DIR]',
  summary:
    'Plays known signals through the render device, records them back through loopback and judges them.\n' +
    'Default criteria: latency < 100 ms (max over repeats), 0 dropouts. With no audio device (or\n' +
    '--backend virtual) it runs on a SIMULATED device and says so in every output.\n' +
    'Exit 0 all criteria met; 1 a criterion failed; 2 usage or setup error; 130 interrupted (partial report).',
  options: [
    ['--suite NAME', `run only this suite (repeatable): ${BUILTIN_SUITES.map((s) => s.name).join(', ')}`],
    ['--criteria FILE', 'JSON criteria, e.g. {"maxLatencyMs": 50, "maxDropouts": 0}'],
    ['--buffer-ms N', 'requested device buffer, ms'],
    ['--exclusive', 'exclusive mode (wasapi with --device ID of a capture endpoint: never for loopback)'],
    ['--render-period-ms N', 'wasapi: the render stream\'s engine period (IAudioClient3); Windows allows only its [min, max]'],
    ['--impair k=v,…', 'virtual device impairments: latencyMs, jitterMs, dropouts, dropoutMs, zeroFills, clicks, noiseDb, gainDb, driftPpm, seed'],
    ['--duration S', 'length of the dropouts stimulus, seconds (default 10)'],
    ['--realtime', 'run the virtual device in real time'],
    ['--out DIR', 'where report.json, junit.xml, report.html go (default reports)'],
  ],
});

const SIMULATED_BANNER =
  '*** SIMULATED: no real audio device was measured (virtual backend). Use --backend pulse|wasapi for real audio. ***';

export async function verify(argv: string[], io: CommandIo): Promise<number> {
  const { values } = parse('verify', argv, {
    suite: { type: 'string', multiple: true },
    criteria: { type: 'string' },
    'buffer-ms': { type: 'string' },
    exclusive: { type: 'boolean', default: false },
    'render-period-ms': { type: 'string' },
    impair: { type: 'string' },
    duration: { type: 'string' },
    realtime: { type: 'boolean', default: false },
    out: { type: 'string', default: 'reports' },
  });
  if (values.help) {
    io.stdout.write(HELP);
    return 0;
  }
  const suites = selectSuites(BUILTIN_SUITES, values.suite ?? []);
  const criteria = values.criteria ? await loadCriteria(values.criteria) : { ...DEFAULT_CRITERIA };
  const bufferMs = numberOption('verify', 'buffer-ms', values['buffer-ms'], { min: 1, max: 2000 });
  const durationSeconds = numberOption('verify', 'duration', values.duration, { min: 1, max: 3600 });
  const impair = values.impair !== undefined ? parseImpairments(values.impair) : undefined;
  const backendName = values.backend ?? 'auto';
  if (impair && backendName !== 'virtual' && backendName !== 'auto') {
    throw new LoopcheckError('INVALID_ARGUMENT', `verify: --impair applies to the virtual backend only, not "${backendName.slice(0, 40)}"`, {
      hint: 'drop --impair, or use --backend virtual',
    });
  }
  // --exclusive exists on wasapi only (and there not for loopback, which openLoopback refuses with
  // FORMAT_UNSUPPORTED): refuse it elsewhere (exit 2) instead of silently measuring shared mode.
  if (values.exclusive) requireWasapiFor('verify', (await getBackend(backendName)).name, ['--exclusive']);
  const renderPeriodMs = numberOption('verify', 'render-period-ms', values['render-period-ms'], { min: 1, max: 1000 });
  if (renderPeriodMs !== undefined) requireWasapiFor('verify', (await getBackend(backendName)).name, ['--render-period-ms']);
  const outDir = path.resolve(values.out!);
  // Human text goes to stdout unless --json claims it for the report.
  const say = (line: string): void => void (values.json ? io.stderr : io.stdout).write(`${line}\n`);

  // Signals: the first SIGINT/SIGTERM aborts the run (the runner gives up waiting, even mid-stimulus), the cases
  // captured so far are analysed and a partial report is written; exit 130 (SIGINT) / 143 (SIGTERM). A second
  // signal exits at once. The listener stays until the reports are written, so a signal never kills a
  // half-written file.
  const interrupt = listenForInterrupt(
    io,
    'stopping after the current step and writing a partial report (Ctrl-C again to quit now)',
    'interrupted again, exiting without finishing the report',
  );

  const progress = createProgress({
    stream: io.stderr,
    total: suites.reduce((n, s) => n + s.repeats, 0),
    label: 'verify',
    // Runs shorter than ~2 s need no progress line; every real-device run is longer.
    enabled: !values.json && shouldShowProgress(io.stderr, suites.reduce((n, s) => n + s.repeats, 0) * 1000),
  });
  let report;
  try {
    report = await runSuites({
      backend: backendName,
      device: values.device,
      bufferMs,
      exclusive: values.exclusive,
      renderPeriodMs,
      impair,
      realtime: values.realtime,
      suites,
      criteria,
      durationSeconds,
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
  if (report.simulated) say(SIMULATED_BANNER);
  let files: string[];
  try {
    files = await writeReports(report, outDir);
    await appendStepSummary(report, io.env);
  } finally {
    interrupt.dispose();
  }
  if (values.json) io.stdout.write(REPORTERS.json.render(report));
  else io.stdout.write(consoleSummary(report, { color: Boolean(io.stdout.isTTY) && !io.env.NO_COLOR }));
  say(`reports: ${files.map((f) => path.relative(process.cwd(), f) || f).join(', ')}`);
  const signalName = interrupt.received();
  if (signalName) {
    // Interrupted by the user (or a CI timeout): 130 / 143 even when the last step happened to complete.
    io.stderr.write(`loopcheck: ${signalName}: interrupted; ${report.interrupted ? 'partial' : 'complete'} report with ${report.cases.length} case(s) in ${path.relative(process.cwd(), outDir) || outDir}\n`);
    return signalName === 'SIGTERM' ? 143 : 130;
  }
  if (report.interrupted) {
    io.stderr.write(`loopcheck: ${report.error ?? 'interrupted'}\n`);
    return 1;
  }
  return report.passed ? 0 : 1;
}
