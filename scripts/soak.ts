/**
 * Soak: `node --expose-gc --import tsx scripts/soak.ts MINUTES [options]` (scripts/soak.sh is the entry point).
 *
 * Opens one render + loopback session and keeps it busy for MINUTES: a steady stimulus is played back to back in
 * windows (`--window-s`, a pool of 4 seeded steady stimuli so neighbouring windows differ), every window's capture
 * is analysed (latency, dropouts) in a worker thread — analysis is synchronous and would otherwise hold up chunk
 * delivery on the main thread (docs/decisions.md) — and every `--sample-s` seconds one row is sampled:
 * RSS, heapUsed (main thread, after a forced GC when --expose-gc is on, so it is retained memory), overruns,
 * discontinuities, dropouts and write → delivery latency. Outputs: DIR/soak.csv, DIR/soak.svg, DIR/soak.json.
 *
 * Exit 0 within thresholds; 1 when RSS grew more than `--max-rss-growth-mb` after the warm-up (median of the last
 * third of the samples − median of the first third at or after `--warmup-s`, at least 3 each) or overruns exceeded `--max-overruns` (or dropouts
 * `--max-dropouts`, when given); 2 on a usage or setup error; 130 on Ctrl-C (the outputs so far are written).
 *
 * The soak's own memory is flat by construction: stimuli are built once, each window records channel 0 into a
 * buffer from a fixed pool that the analyser hands back, so what grows is loopcheck's (capture, analysis).
 * Windows with dropouts (the first 10) are kept as DIR/window-K-stimulus-S.wav for a look at the evidence.
 *
 * Latency per window = frameDeliveryTime(aligned frame 0 of the stimulus) − write time of that frame
 * (design.md "Timing model"), the figure `verify` reports.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import { analyze } from '../src/analysis/index.js';
import type { Audio } from '../src/audio.js';
import { getBackend } from '../src/backends/index.js';
import type { CaptureChunk, Delivery, LoopbackSession, PlayResult } from '../src/backends/types.js';
import { percentile } from '../src/dsp/stats.js';
import { isLoopcheckError, LoopcheckError } from '../src/errors.js';
import { frameDeliveryTime } from '../src/recording.js';
import { linePlot } from '../src/report/svg.js';
import { STEADY_LEAD_IN_SECONDS, steadyStimulus } from '../src/signals/verification.js';
import { writeWav } from '../src/wav.js';

/** Distinct stimuli cycled through (neighbours never equal, so a window's alignment is unique). */
const POOL = 4;
const poolSeed = (i: number): number => 7001 + i;
/** Frames of the steady stimulus's lead-in silence. */
const leadFrames = (sampleRate: number): number => Math.round(STEADY_LEAD_IN_SECONDS * sampleRate);
/** Capture kept after a window's last frame was handed to the device: covers latency + render queue, ms. */
const TAIL_MS = 400;
/** Windows waiting for the analyser beyond this are skipped (counted), so a slow machine cannot grow memory. */
const MAX_PENDING = 3;
/** Capture slack of a window's buffer beyond stimulus + tail, s (play() returning late, scheduling). */
const SLACK_SECONDS = 1;

interface WindowJob {
  k: number;
  stimulus: number;
  sampleRate: number;
  /** Channel 0 of the window's capture in `buffer[0, length)`; the buffer comes back with the result. */
  buffer: Float32Array;
  length: number;
}

interface WindowResult {
  k: number;
  signalFound: boolean;
  latencySamples: number | null;
  dropouts: { atSeconds: number; durationMs: number; kind: string }[];
  /** The window's capture, written when it had dropouts (the first few), for a look at the evidence. */
  wav: string | null;
  heapUsedMb: number;
  /** The analyser's external memory (the FFT's wasm memory, which only grows) + its ArrayBuffers, MB. */
  externalMb: number;
  buffer: Float32Array;
}

/** Captures of windows with dropouts kept as WAV files in DIR (the first ones only). */
const MAX_EVIDENCE_WAVS = 10;

/* ─────────────────────────────── the analyser (worker thread) ─────────────────────────────── */

function runAnalyser(): void {
  const { windowSeconds, sampleRate, out: dir } = workerData as { windowSeconds: number; sampleRate: number; out: string };
  // The reference is the stimulus after its lead-in silence: the previous window's last frames (still arriving
  // when this window's recording starts) overlap that silence, and analysis would call them a click.
  const lead = leadFrames(sampleRate);
  const refs = Array.from({ length: POOL }, (_, i) => steadyStimulus(sampleRate, windowSeconds, { seed: poolSeed(i) }).channels[0]!.subarray(lead));
  let evidence = 0;
  parentPort!.postMessage('ready');
  parentPort!.on('message', async (job: WindowJob) => {
    const ref: Audio = { sampleRate: job.sampleRate, channels: [refs[job.stimulus]!] };
    const capture: Audio = { sampleRate: job.sampleRate, channels: [job.buffer.subarray(0, job.length)] };
    const r = analyze(ref, capture, { fidelity: false });
    let wav: string | null = null;
    if ((r.dropouts.length > 0 || !r.signalFound) && evidence < MAX_EVIDENCE_WAVS) {
      evidence++;
      wav = path.join(dir, `window-${job.k}-stimulus-${job.stimulus}.wav`);
      await mkdir(dir, { recursive: true });
      await writeWav(wav, capture);
    }
    const out: WindowResult = {
      k: job.k,
      signalFound: r.signalFound,
      // Capture position of the stimulus's frame 0 (the lead-in's first frame), as `verify` reports it.
      latencySamples: r.latency ? r.latency.samples - lead : null,
      dropouts: r.dropouts.map((d) => ({ atSeconds: d.atSeconds, durationMs: d.durationMs, kind: d.kind })),
      wav,
      heapUsedMb: 0,
      externalMb: 0,
      buffer: job.buffer,
    };
    // Collect the window's garbage now, so the main thread's RSS sample (taken when the analyser is idle) sees
    // retained memory only.
    (globalThis as { gc?: () => void }).gc?.();
    const m = process.memoryUsage();
    out.heapUsedMb = m.heapUsed / 2 ** 20;
    out.externalMb = m.external / 2 ** 20;
    parentPort!.postMessage(out, [job.buffer.buffer as ArrayBuffer]);
  });
}

/* ─────────────────────────────── the soak (main thread) ─────────────────────────────── */

interface Options {
  minutes: number;
  backend: string;
  device: string | undefined;
  bufferMs: number | undefined;
  out: string;
  windowSeconds: number;
  sampleSeconds: number;
  warmupSeconds: number;
  maxRssGrowthMb: number;
  maxOverruns: number;
  maxDropouts: number | null;
}

const USAGE =
  'usage: scripts/soak.sh MINUTES [--backend auto|virtual|pulse|wasapi] [--device ID] [--buffer-ms N] [--out DIR]\n' +
  '       [--window-s 5] [--sample-s 10] [--warmup-s 30] [--max-rss-growth-mb 5] [--max-overruns 0] [--max-dropouts N]';

function usageError(message: string): LoopcheckError {
  return new LoopcheckError('INVALID_ARGUMENT', message, { hint: USAGE.split('\n')[0]! });
}

function num(name: string, text: string | undefined, fallback: number, min: number, max: number): number {
  if (text === undefined) return fallback;
  const v = Number(text);
  if (text.trim() === '' || !Number.isFinite(v) || v < min || v > max) throw usageError(`--${name} must be a number from ${min} to ${max}, got ${JSON.stringify(text)}`);
  return v;
}

function parseOptions(argv: string[]): Options {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        backend: { type: 'string' },
        device: { type: 'string' },
        'buffer-ms': { type: 'string' },
        out: { type: 'string' },
        'window-s': { type: 'string' },
        'sample-s': { type: 'string' },
        'warmup-s': { type: 'string' },
        'max-rss-growth-mb': { type: 'string' },
        'max-overruns': { type: 'string' },
        'max-dropouts': { type: 'string' },
      },
    });
  } catch (e) {
    throw usageError((e as Error).message.split('\n')[0]!);
  }
  const { values, positionals } = parsed;
  if (positionals.length !== 1) throw usageError('give the length of the soak in minutes, e.g. scripts/soak.sh 2');
  const o: Options = {
    minutes: num('MINUTES', positionals[0], 0, 0.05, 24 * 60),
    backend: values.backend ?? 'auto',
    device: values.device,
    bufferMs: values['buffer-ms'] === undefined ? undefined : num('buffer-ms', values['buffer-ms'], 0, 1, 2000),
    // soak.sh runs from the repository root; a given --out is relative to where soak.sh was called.
    out: values.out === undefined ? path.join('reports', 'soak') : path.resolve(process.env.LOOPCHECK_SOAK_CWD ?? '.', values.out),
    windowSeconds: num('window-s', values['window-s'], 5, 1, 60),
    sampleSeconds: num('sample-s', values['sample-s'], 10, 1, 600),
    warmupSeconds: num('warmup-s', values['warmup-s'], 30, 0, 3600),
    maxRssGrowthMb: num('max-rss-growth-mb', values['max-rss-growth-mb'], 5, 0, 1e6),
    maxOverruns: num('max-overruns', values['max-overruns'], 0, 0, 1e9),
    maxDropouts: values['max-dropouts'] === undefined ? null : num('max-dropouts', values['max-dropouts'], 0, 0, 1e9),
  };
  if (o.minutes * 60 < o.warmupSeconds + 2 * o.sampleSeconds) {
    throw usageError(`${o.minutes} min is too short: the RSS criterion needs the ${o.warmupSeconds} s warm-up plus two ${o.sampleSeconds} s samples`);
  }
  return o;
}

interface Sample {
  tSeconds: number;
  rssMb: number;
  heapUsedMb: number;
  workerHeapUsedMb: number | null;
  workerExternalMb: number | null;
  arrayBuffersMb: number;
  overruns: number;
  discontinuities: number;
  underruns: number;
  windowsAnalysed: number;
  windowsSkipped: number;
  notFound: number;
  dropouts: number;
  /** Median / max write → delivery latency of the windows analysed since the previous sample, ms. */
  latencyMsMedian: number | null;
  latencyMsMax: number | null;
  /** p99 of delivery − device time over the chunks since the previous sample, ms. */
  captureBufferMsP99: number | null;
}

/**
 * A window in flight: channel 0 of the capture while its stimulus plays and for TAIL_MS after, into a buffer from
 * a fixed pool (the analyser hands each back), so the soak's own allocations do not move RSS from window to window.
 */
class WindowRecorder {
  length = 0;
  /** Frames that did not fit the buffer (should stay 0: the buffer has SLACK_SECONDS to spare). */
  truncated = 0;
  readonly deliveries: Delivery[] = [];

  constructor(
    readonly k: number,
    readonly stimulus: number,
    /** When its stimulus started playing, s since the soak started. */
    readonly tSeconds: number,
    readonly buffer: Float32Array,
  ) {}

  push(chunk: CaptureChunk): void {
    const n = Math.min(chunk.frames, this.buffer.length - this.length);
    for (let i = 0, j = 0; i < n; i++, j += chunk.channels) this.buffer[this.length + i] = chunk.samples[j]!;
    this.length += n;
    this.truncated += chunk.frames - n;
    this.deliveries.push({ endFrame: this.length, receivedAt: chunk.receivedAt, deviceTime: chunk.deviceTime });
  }
}

/** What the main thread keeps of a window until its analysis returns. */
interface PendingWindow {
  tSeconds: number;
  deliveries: Delivery[];
  writeTime: number;
  sampleRate: number;
}

/** Least-squares slope of y over x; null under 3 points. */
function slope(x: number[], y: number[]): number | null {
  const n = x.length;
  if (n < 3) return null;
  const mx = x.reduce((a, b) => a + b, 0) / n;
  const my = y.reduce((a, b) => a + b, 0) / n;
  let sxy = 0;
  let sxx = 0;
  for (let i = 0; i < n; i++) {
    sxy += (x[i]! - mx) * (y[i]! - my);
    sxx += (x[i]! - mx) ** 2;
  }
  return sxx > 0 ? sxy / sxx : null;
}

const round = (v: number | null, d = 3): number | null => (v === null || !Number.isFinite(v) ? null : Number(v.toFixed(d)));

/** The analyser is this file in a worker; a worker does not inherit tsx's loader hooks, so it registers them. */
async function startAnalyser(o: Options, sampleRate: number): Promise<Worker> {
  const boot = `import(${JSON.stringify(import.meta.resolve('tsx/esm/api'))}).then((t) => { t.register(); return import(${JSON.stringify(import.meta.url)}); })`;
  const worker = new Worker(boot, { eval: true, workerData: { windowSeconds: o.windowSeconds, sampleRate, out: o.out } });
  await new Promise<void>((resolve, reject) => {
    worker.once('message', () => resolve());
    worker.once('error', reject);
  });
  return worker;
}

/** The stimulus pool, mono (played on every render channel). */
function makeStimuli(sampleRate: number, windowSeconds: number): Float32Array[] {
  return Array.from({ length: POOL }, (_, i) => steadyStimulus(sampleRate, windowSeconds, { seed: poolSeed(i) }).channels[0]!);
}

/** Rate the stimuli and analyser are prepared for before the device is opened (every backend grants it here). */
const EXPECTED_RATE = 48000;

async function soak(o: Options): Promise<number> {
  const log = (line: string): void => void process.stdout.write(`soak: ${line}\n`);
  // Stimuli and analyser are ready before the capture starts: building them takes the main thread for a second
  // or more, which with the capture running overflowed loopcheck's chunk queue (480 overruns in the first 10 s).
  const loadAtStart = os.loadavg().map((x) => Number(x.toFixed(2)));
  let monos = makeStimuli(EXPECTED_RATE, o.windowSeconds);
  let worker = await startAnalyser(o, EXPECTED_RATE);
  let session: LoopbackSession;
  try {
    const backend = await getBackend(o.backend, { log });
    session = await backend.openLoopback({
      device: o.device,
      bufferMs: o.bufferMs,
      // A simulated device runs faster than real time unless paced: a soak is about wall-clock time.
      realtime: backend.name === 'virtual' ? true : undefined,
    });
  } catch (e) {
    await worker.terminate();
    throw e;
  }
  const fmt = session.capture.format;
  log(`${session.backend}${session.simulated ? ' (SIMULATED)' : ''}, device ${JSON.stringify(session.device.name)}, ` +
    `${fmt.sampleRate} Hz × ${fmt.channels} ch, buffer ${session.capture.bufferMs} ms granted; ${o.minutes} min, window ${o.windowSeconds} s`);
  if (fmt.sampleRate !== EXPECTED_RATE) {
    log(`the device runs at ${fmt.sampleRate} Hz: rebuilding the stimuli (overruns while that runs are counted)`);
    monos = makeStimuli(fmt.sampleRate, o.windowSeconds);
    await worker.terminate();
    worker = await startAnalyser(o, fmt.sampleRate);
  }
  const stimuli: Audio[] = monos.map((x) => ({ sampleRate: fmt.sampleRate, channels: Array.from({ length: session.render.format.channels }, () => x) }));
  let workerError: unknown = null;
  worker.on('error', (e) => (workerError = e));

  // Totals and per-period accumulators.
  let overruns = 0;
  let discontinuities = 0;
  let underruns = 0;
  let analysed = 0;
  let skipped = 0;
  let notFound = 0;
  let dropouts = 0;
  const dropoutKinds = { gap: 0, silence: 0, click: 0 };
  let periodBuffers: number[] = [];
  let periodLatencies: number[] = [];
  const allLatencies: number[] = [];
  /** One entry per analysed window (≤ 720 an hour at 5 s windows). */
  const windows: { k: number; tSeconds: number | null; signalFound: boolean; latencyMs: number | null; dropouts: WindowResult['dropouts']; wav?: string }[] = [];
  let workerHeapUsedMb: number | null = null;
  let workerExternalMb: number | null = null;
  const open: WindowRecorder[] = [];
  const pending = new Map<number, PendingWindow>();
  // Open windows (≤ 2: one playing, one in its tail) + MAX_PENDING at the analyser.
  const capacity = Math.ceil((o.windowSeconds + TAIL_MS / 1000 + SLACK_SECONDS) * fmt.sampleRate);
  const free: Float32Array[] = Array.from({ length: 2 + MAX_PENDING }, () => new Float32Array(capacity));
  let truncatedFrames = 0;
  let captureError: unknown = null;

  const consumer = (async () => {
    try {
      for await (const chunk of session.capture as AsyncIterable<CaptureChunk>) {
        overruns += chunk.overruns;
        if (chunk.flags.discontinuity) discontinuities++;
        periodBuffers.push(chunk.receivedAt - chunk.deviceTime);
        for (const w of open) w.push(chunk);
      }
    } catch (e) {
      captureError = e;
    }
  })();

  let drained: (() => void) | null = null;
  worker.on('message', (r: WindowResult) => {
    free.push(r.buffer);
    const p = pending.get(r.k);
    pending.delete(r.k);
    analysed++;
    workerHeapUsedMb = r.heapUsedMb;
    workerExternalMb = r.externalMb;
    if (!r.signalFound) notFound++;
    dropouts += r.dropouts.length;
    for (const d of r.dropouts) dropoutKinds[d.kind as keyof typeof dropoutKinds]++;
    let latencyMs: number | null = null;
    if (p && r.latencySamples !== null) {
      const delivered = frameDeliveryTime(p.deliveries, r.latencySamples, p.sampleRate);
      if (delivered !== null) {
        latencyMs = delivered - p.writeTime;
        periodLatencies.push(latencyMs);
        allLatencies.push(latencyMs);
      }
    }
    windows.push({ k: r.k, tSeconds: p ? round(p.tSeconds, 1) : null, signalFound: r.signalFound, latencyMs: round(latencyMs), dropouts: r.dropouts, ...(r.wav ? { wav: r.wav } : {}) });
    if (r.dropouts.length > 0 || !r.signalFound) {
      log(`window ${r.k}: ${r.signalFound ? r.dropouts.map((d) => `${d.kind} at ${d.atSeconds.toFixed(3)} s (${d.durationMs.toFixed(1)} ms)`).join(', ') : 'stimulus not found'}${r.wav ? ` → ${r.wav}` : ''}`);
    }
    if (pending.size === 0) {
      drained?.();
      if (sampleDue) takeSample();
    }
  });

  const closeWindow = (w: WindowRecorder, play: PlayResult): void => {
    open.splice(open.indexOf(w), 1);
    truncatedFrames += w.truncated;
    pending.set(w.k, { tSeconds: w.tSeconds, deliveries: w.deliveries, writeTime: play.writeTime, sampleRate: fmt.sampleRate });
    const job: WindowJob = { k: w.k, stimulus: w.stimulus, sampleRate: fmt.sampleRate, buffer: w.buffer, length: w.length };
    worker.postMessage(job, [w.buffer.buffer as ArrayBuffer]);
  };

  const samples: Sample[] = [];
  const t0 = performance.now();
  let sampleDue = false;
  function takeSample(): void {
    sampleDue = false;
    (globalThis as { gc?: () => void }).gc?.();
    const m = process.memoryUsage();
    samples.push({
      tSeconds: Math.round((performance.now() - t0) / 1000),
      rssMb: m.rss / 2 ** 20,
      heapUsedMb: m.heapUsed / 2 ** 20,
      workerHeapUsedMb,
      workerExternalMb,
      arrayBuffersMb: m.arrayBuffers / 2 ** 20,
      overruns,
      discontinuities,
      underruns,
      windowsAnalysed: analysed,
      windowsSkipped: skipped,
      notFound,
      dropouts,
      latencyMsMedian: percentile(periodLatencies, 50),
      latencyMsMax: periodLatencies.length ? Math.max(...periodLatencies) : null,
      captureBufferMsP99: percentile(periodBuffers, 99),
    });
    const s = samples[samples.length - 1]!;
    log(`t=${s.tSeconds}s rss ${s.rssMb.toFixed(1)} MB heap ${s.heapUsedMb.toFixed(1)} MB overruns ${overruns} dropouts ${dropouts} ` +
      `latency ${s.latencyMsMedian?.toFixed(1) ?? '-'} ms (windows ${analysed}, skipped ${skipped})`);
    periodBuffers = [];
    periodLatencies = [];
  }
  // Memory is sampled with the analyser idle (right after it returns a window, ≤ 5 s late), after a full GC in
  // both threads: transient analysis buffers would otherwise swing RSS by ~10 MB from sample to sample.
  const sampler = setInterval(() => {
    if (pending.size === 0) return takeSample();
    sampleDue = true;
    setTimeout(() => sampleDue && takeSample(), 5000).unref();
  }, o.sampleSeconds * 1000);

  let interrupted: NodeJS.Signals | null = null;
  const onSignal = (sig: NodeJS.Signals): void => {
    if (interrupted) process.exit(130);
    interrupted = sig;
    log(`${sig}: stopping after this window, writing the outputs (again to quit at once)`);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);

  const deadline = t0 + o.minutes * 60_000;
  let error: unknown = null;
  let lastClose: Promise<void> = Promise.resolve(); // windows close in order: the last one closes last
  try {
    await session.wait(300); // lead-in: the capture runs before the first stimulus
    for (let k = 0; performance.now() < deadline && !interrupted; k++) {
      if (captureError) throw captureError;
      if (workerError) throw workerError;
      // No free buffer: the analyser is MAX_PENDING windows behind; play the window anyway, skip its analysis.
      const buffer = free.pop();
      const w = buffer ? new WindowRecorder(k, k % POOL, (performance.now() - t0) / 1000, buffer) : null;
      if (w) open.push(w);
      else skipped++;
      const play = await session.render.play(stimuli[k % POOL]!);
      underruns += play.underruns;
      // The next window starts playing now; this one keeps recording for the tail, then goes to the analyser.
      if (w) lastClose = new Promise<void>((resolve) => setTimeout(() => (closeWindow(w, play), resolve()), TAIL_MS));
    }
    await lastClose;
    // Let the analyser finish what it has (bounded: MAX_PENDING windows), then the last sample, with the session
    // still open like every other sample.
    if (pending.size > 0 && !workerError) await new Promise<void>((resolve) => ((drained = resolve), setTimeout(resolve, 120_000).unref()));
    if (samples.length === 0 || samples[samples.length - 1]!.tSeconds * 1000 < performance.now() - t0 - 1000) takeSample();
  } catch (e) {
    error = e;
  } finally {
    clearInterval(sampler);
    sampleDue = false;
    await session.capture.stop().catch(() => {});
    await consumer;
    await session.close().catch(() => {});
    await worker.terminate();
  }
  error ??= captureError ?? workerError;
  if (samples.length === 0) takeSample();

  // Verdict: RSS growth after warm-up, overruns, dropouts (when asked). RSS swings by several MB from sample to
  // sample with the phase of the window cycle (recordings growing, analysis buffers returned to the allocator or
  // not), so the growth compares medians: of the first third of the samples after warm-up and of the last
  // third (at least 3 each when there are 6; a 2-minute run at 10 s samples swung ±4 MB with 3-sample medians,
  // so CI samples every 5 s: 6 and 6).
  const after = samples.filter((s) => s.tSeconds >= o.warmupSeconds);
  const edge = Math.min(Math.max(3, Math.floor(after.length / 3)), Math.floor(after.length / 2));
  const median = (xs: number[]): number => percentile(xs, 50)!;
  const rssAtWarmupMb = edge > 0 ? median(after.slice(0, edge).map((s) => s.rssMb)) : null;
  const rssAtEndMb = edge > 0 ? median(after.slice(-edge).map((s) => s.rssMb)) : null;
  const rssGrowthMb = rssAtWarmupMb !== null && rssAtEndMb !== null ? rssAtEndMb - rssAtWarmupMb : null;
  const rssPeakGrowthMb = rssAtWarmupMb !== null ? Math.max(...after.map((s) => s.rssMb)) - rssAtWarmupMb : null;
  const last = samples[samples.length - 1]!;
  const failures: string[] = [];
  if (rssGrowthMb === null) failures.push('the run ended before the warm-up was over: RSS growth not measured');
  else if (rssGrowthMb > o.maxRssGrowthMb) failures.push(`RSS grew ${rssGrowthMb.toFixed(2)} MB after warm-up (limit ${o.maxRssGrowthMb} MB)`);
  if (overruns > o.maxOverruns) failures.push(`${overruns} overruns (limit ${o.maxOverruns})`);
  if (o.maxDropouts !== null && dropouts > o.maxDropouts) failures.push(`${dropouts} dropouts (limit ${o.maxDropouts})`);
  if (analysed === 0) failures.push('no window was analysed');
  if (error) failures.push(`stopped by an error: ${isLoopcheckError(error) ? error.toLine() : String(error)}`);

  const summary = {
    tool: 'loopcheck-soak',
    passed: failures.length === 0 && !interrupted,
    interrupted: interrupted !== null,
    failures,
    backend: session.backend,
    simulated: session.simulated,
    device: session.device,
    format: { sampleRate: fmt.sampleRate, channels: fmt.channels, sampleFormat: fmt.sampleFormat, bufferMs: session.capture.bufferMs },
    options: { ...o },
    durationSeconds: round((performance.now() - t0) / 1000, 1),
    windows: { played: analysed + skipped + pending.size, analysed, skipped, notFound },
    rss: {
      /** Median of the first `samplesPerEnd` samples at or after the warm-up, and of the last ones. */
      atWarmupMb: round(rssAtWarmupMb, 2),
      atEndMb: round(rssAtEndMb, 2),
      samplesPerEnd: edge,
      growthMb: round(rssGrowthMb, 2),
      peakGrowthMb: round(rssPeakGrowthMb, 2),
      slopeMbPerMin: round(slope(after.map((s) => s.tSeconds / 60), after.map((s) => s.rssMb)), 3),
    },
    heapUsedMb: {
      first: round(samples[0]!.heapUsedMb, 2),
      last: round(last.heapUsedMb, 2),
      slopeMbPerMin: round(slope(after.map((s) => s.tSeconds / 60), after.map((s) => s.heapUsedMb)), 3),
    },
    overruns,
    discontinuities,
    underruns,
    truncatedFrames,
    dropouts,
    dropoutKinds,
    latencyMs: {
      median: round(percentile(allLatencies, 50)),
      p99: round(percentile(allLatencies, 99)),
      min: round(allLatencies.length ? Math.min(...allLatencies) : null),
      max: round(allLatencies.length ? Math.max(...allLatencies) : null),
    },
    captureBufferMsP99Max: round(Math.max(...samples.map((s) => s.captureBufferMsP99 ?? -Infinity))),
    gcForced: typeof (globalThis as { gc?: unknown }).gc === 'function',
    mallocMmapThreshold: process.env.MALLOC_MMAP_THRESHOLD_ ?? null,
    /** 1, 5, 15 min load averages (the machine is shared: underruns follow the load). */
    loadAverage: { start: loadAtStart, end: os.loadavg().map((x) => Number(x.toFixed(2))), cpus: os.cpus().length },
    node: process.version,
    startedAt: new Date(Date.now() - (performance.now() - t0)).toISOString(),
  };
  await writeOutputs(o.out, samples, { ...summary, windows }, o);
  log(`${summary.passed ? 'PASS' : interrupted ? 'INTERRUPTED' : 'FAIL'}: rss growth ${summary.rss.growthMb ?? '-'} MB after warm-up, ` +
    `overruns ${overruns}, dropouts ${dropouts}, latency median ${summary.latencyMs.median ?? '-'} ms (max ${summary.latencyMs.max ?? '-'}), ` +
    `windows ${analysed} analysed / ${skipped} skipped → ${path.join(o.out, 'soak.json')}`);
  for (const f of failures) log(`  ${f}`);
  if (interrupted) return 130;
  if (error && !isLoopcheckError(error)) throw error;
  return failures.length === 0 ? 0 : 1;
}

/* ─────────────────────────────── outputs ─────────────────────────────── */

const CSV_COLUMNS: (keyof Sample)[] = [
  'tSeconds', 'rssMb', 'heapUsedMb', 'workerHeapUsedMb', 'workerExternalMb', 'arrayBuffersMb', 'overruns', 'discontinuities', 'underruns',
  'windowsAnalysed', 'windowsSkipped', 'notFound', 'dropouts', 'latencyMsMedian', 'latencyMsMax', 'captureBufferMsP99',
];

function csv(samples: Sample[]): string {
  const cell = (v: number | null): string => (v === null ? '' : Number.isInteger(v) ? String(v) : v.toFixed(3));
  return [CSV_COLUMNS.join(','), ...samples.map((s) => CSV_COLUMNS.map((c) => cell(s[c])).join(','))].join('\n') + '\n';
}

/** Stacked panels (RSS, heap, latency, counts) in one stand-alone SVG. */
function svg(samples: Sample[], o: Options, title: string): string {
  const t = samples.map((s) => s.tSeconds);
  const col = (f: (s: Sample) => number | null): number[] => samples.map((s) => f(s) ?? NaN);
  const warm = [{ axis: 'x' as const, value: o.warmupSeconds, label: 'warm-up' }];
  const width = 720;
  const height = 240;
  const panels = [
    linePlot({
      title: `${title}: RSS`, xLabel: 's', yLabel: 'MB', width, height, referenceLines: warm,
      series: [{ label: 'RSS (process)', x: t, y: col((s) => s.rssMb) }],
    }),
    linePlot({
      title: 'JS heap after GC', xLabel: 's', yLabel: 'MB', width, height, referenceLines: warm,
      series: [
        { label: 'heapUsed (main thread)', x: t, y: col((s) => s.heapUsedMb) },
        { label: 'heapUsed (analyser)', x: t, y: col((s) => s.workerHeapUsedMb) },
      ],
    }),
    linePlot({
      title: 'write → delivery latency per sample period', xLabel: 's', yLabel: 'ms', width, height,
      series: [
        { label: 'median', x: t, y: col((s) => s.latencyMsMedian), style: 'points' },
        { label: 'max', x: t, y: col((s) => s.latencyMsMax), style: 'points' },
        { label: 'capture buffer p99', x: t, y: col((s) => s.captureBufferMsP99), style: 'points' },
      ],
    }),
    linePlot({
      title: 'cumulative counts', xLabel: 's', yLabel: 'count', width, height,
      series: [
        { label: 'overruns', x: t, y: col((s) => s.overruns) },
        { label: 'dropouts', x: t, y: col((s) => s.dropouts) },
        { label: 'underruns', x: t, y: col((s) => s.underruns) },
        { label: 'windows skipped', x: t, y: col((s) => s.windowsSkipped) },
      ],
    }),
  ];
  const body = panels.map((p, i) => `<g transform="translate(0,${i * height})">${p}</g>`).join('');
  return `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${width} ${height * panels.length}" width="${width}" height="${height * panels.length}" ` +
    `font-family="sans-serif"><rect width="100%" height="100%" fill="#fff"/>${body}</svg>\n`;
}

async function writeOutputs(dir: string, samples: Sample[], summary: Record<string, unknown>, o: Options): Promise<void> {
  await mkdir(dir, { recursive: true });
  const granted = (summary.format as { bufferMs: number }).bufferMs;
  const title = `soak ${summary.backend}${summary.simulated ? ' (SIMULATED)' : ''}, ${granted} ms buffer, ${o.minutes} min`;
  await writeFile(path.join(dir, 'soak.csv'), csv(samples));
  await writeFile(path.join(dir, 'soak.svg'), svg(samples, o, title));
  await writeFile(path.join(dir, 'soak.json'), `${JSON.stringify({ ...summary, samples }, null, 2)}\n`);
}

/* ─────────────────────────────── entry ─────────────────────────────── */

if (!isMainThread) {
  runAnalyser();
} else {
  try {
    process.exitCode = await soak(parseOptions(process.argv.slice(2)));
  } catch (e) {
    // Usage and setup errors (no backend, no server) are one line; anything else is a bug: its stack.
    const line = isLoopcheckError(e) ? e.toLine() : `INTERNAL: ${(e as Error)?.stack ?? String(e)}`;
    process.stderr.write(`soak: ${line}\n`);
    process.exitCode = 2;
  }
  // Native streams and the worker are closed; leave even if a stray handle lingers.
  setTimeout(() => process.exit(), 2000).unref();
}
