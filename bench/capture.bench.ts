/**
 * Capture cost on the pulse backend: for requested buffers of 10, 20 and 50 ms, opens a 48 kHz stereo
 * loopback capture through the public API (`openCapture`, what `record` uses) on the default sink and keeps it
 * running for LOOPCHECK_BENCH_SECONDS (default 30) s while the consumer only counts chunks. Per buffer size:
 *   - CPU: `process.cpuUsage()` delta (user + system, every thread of the process: the native capture and
 *     pump threads and the JS main thread) / wall time, in % of one core. The goal is < 1 %.
 *     An idle row (same process, nothing open, a few seconds) gives the floor the runtime itself costs.
 *     On Linux the CPU is also split per thread from /proc/self/task/<tid>/stat (10 ms tick resolution): the JS
 *     main thread, libpulse's mainloop thread (`threaded-ml`) and the rest (the addon's pump thread, V8/libuv
 *     helpers), so a regression points at the right layer.
 *   - delivery overhead per chunk = receivedAt − deviceTime (ms, backend clock): the time from the device
 *     capturing the chunk's first frame to JS having it; p50 / p99 / max.
 *   - chunks, mean chunk length (ms), frames received vs wall time × 48 kHz, loopcheck overruns, discontinuities.
 * Then a tinybench table of record's per-chunk JS conversion work (downmix + 48→16 kHz + s16), the part of
 * `record -` that runs on the main thread per chunk.
 *
 * No PulseAudio server: prints the reason and returns (nothing to measure). When PULSE_SERVER is unset and
 * scripts/ci/pulse.sh's socket exists ($LOOPCHECK_PULSE_DIR or /tmp/loopcheck-pulse), that server is used.
 * Run: `npx tsx bench/capture.bench.ts` (LOOPCHECK_BENCH_SECONDS=10 for a shorter run).
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { Bench } from 'tinybench';
import { openCapture } from '../src/capture.js';
import { downmix } from '../src/cli/pcm.js';
import { Resampler } from '../src/dsp/resample.js';
import { percentile } from '../src/dsp/stats.js';
import { isLoopcheckError } from '../src/errors.js';
import { encodePcm } from '../src/wav.js';

const RATE = 48000;
const CHANNELS = 2;
const BUFFERS_MS = [10, 20, 50];
/** Idle floor measurement, seconds (capped by the run length). */
const IDLE_SECONDS = 3;

function benchSeconds(): number {
  const raw = process.env.LOOPCHECK_BENCH_SECONDS;
  const s = raw === undefined ? 30 : Number(raw);
  if (!Number.isFinite(s) || s <= 0) throw new Error(`LOOPCHECK_BENCH_SECONDS must be a positive number of seconds, got "${raw}"`);
  return s;
}

/** Uses scripts/ci/pulse.sh's private daemon when no server is configured. */
function usePrivateDaemonIfAny(): void {
  if (process.env.PULSE_SERVER) return;
  const sock = path.join(process.env.LOOPCHECK_PULSE_DIR ?? '/tmp/loopcheck-pulse', 'sock', 'native');
  if (existsSync(sock)) process.env.PULSE_SERVER = `unix:${sock}`;
}

/** CPU % of one core: (user + system µs) / wall µs × 100. */
function cpuPercent(cpu: NodeJS.CpuUsage, wallMs: number): number {
  return ((cpu.user + cpu.system) / (wallMs * 1000)) * 100;
}

/** CPU ticks (user + system) per thread of this process, by role; null when /proc is not there (not Linux). */
function threadTicks(): { main: number; pulse: number; other: number } | null {
  if (!existsSync('/proc/self/task')) return null;
  const out = { main: 0, pulse: 0, other: 0 };
  for (const tid of readdirSync('/proc/self/task')) {
    let stat: string;
    try {
      stat = readFileSync(`/proc/self/task/${tid}/stat`, 'utf8');
    } catch {
      continue; // the thread ended meanwhile
    }
    const name = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
    // Fields after "(comm) ": state is [0], utime [11], stime [12] (proc(5) fields 14 and 15).
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ticks = Number(f[11]) + Number(f[12]);
    if (Number(tid) === process.pid) out.main += ticks;
    else if (name === 'threaded-ml') out.pulse += ticks;
    else out.other += ticks;
  }
  return out;
}

/** % of one core per thread role between two threadTicks() readings (USER_HZ = 100 on Linux). */
function threadPercents(a: ReturnType<typeof threadTicks>, b: ReturnType<typeof threadTicks>, wallMs: number): Pick<Row, 'jsMainPct' | 'pulseMlPct' | 'otherThreadsPct'> {
  if (!a || !b) return { jsMainPct: 'n/a', pulseMlPct: 'n/a', otherThreadsPct: 'n/a' };
  const pct = (d: number): number => Number((((d * 10) / wallMs) * 100).toFixed(2));
  // Threads that ended between the readings take their ticks with them, so "other" can only undercount.
  return { jsMainPct: pct(b.main - a.main), pulseMlPct: pct(b.pulse - a.pulse), otherThreadsPct: pct(Math.max(0, b.other - a.other)) };
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

interface Row {
  requestedMs: number | string;
  grantedMs: number | string;
  seconds: number;
  chunks: number;
  meanChunkMs: number | string;
  framesVsWall: string;
  overruns: number;
  discontinuities: number;
  deliveryP50Ms: number | string;
  deliveryP99Ms: number | string;
  deliveryMaxMs: number | string;
  cpuPctOfCore: number;
  jsMainPct: number | string;
  pulseMlPct: number | string;
  otherThreadsPct: number | string;
}

const round = (x: number | null, digits = 2): number | string => (x === null ? 'n/a' : Number(x.toFixed(digits)));

async function idleRow(seconds: number): Promise<Row> {
  const wall0 = performance.now();
  const cpu0 = process.cpuUsage();
  const t0 = threadTicks();
  await sleep(seconds * 1000);
  const wallMs = performance.now() - wall0;
  const cpu = process.cpuUsage(cpu0);
  const t1 = threadTicks();
  return {
    requestedMs: 'idle',
    grantedMs: '-',
    seconds: Number((wallMs / 1000).toFixed(2)),
    chunks: 0,
    meanChunkMs: '-',
    framesVsWall: '-',
    overruns: 0,
    discontinuities: 0,
    deliveryP50Ms: '-',
    deliveryP99Ms: '-',
    deliveryMaxMs: '-',
    cpuPctOfCore: Number(cpuPercent(cpu, wallMs).toFixed(3)),
    ...threadPercents(t0, t1, wallMs),
  };
}

async function captureRow(bufferMs: number, seconds: number): Promise<Row> {
  const capture = await openCapture({ backend: 'pulse', sampleRate: RATE, channels: CHANNELS, bufferMs });
  const delivery: number[] = [];
  let chunks = 0;
  let frames = 0;
  let overruns = 0;
  let discontinuities = 0;
  // The clock starts at the first chunk: an idle null sink can take 1–2 s to deliver its first data, and that
  // wait is not capture cost.
  let wall0 = 0;
  let cpu0: NodeJS.CpuUsage | null = null;
  let wallMs = 0;
  let cpu: NodeJS.CpuUsage = { user: 0, system: 0 };
  let ticks0: ReturnType<typeof threadTicks> = null;
  let ticks1: ReturnType<typeof threadTicks> = null;
  const stopAt = (): void => {
    wallMs = performance.now() - wall0;
    cpu = process.cpuUsage(cpu0 ?? undefined);
    ticks1 = threadTicks();
    void capture.stop();
  };
  let timer: NodeJS.Timeout | undefined;
  try {
    for await (const chunk of capture) {
      if (cpu0 === null) {
        wall0 = performance.now();
        cpu0 = process.cpuUsage();
        ticks0 = threadTicks();
        timer = setTimeout(stopAt, seconds * 1000);
        continue; // the first chunk carries the start-up backlog; it is not counted
      }
      chunks++;
      frames += chunk.frames;
      overruns += chunk.overruns;
      if (chunk.flags.discontinuity) discontinuities++;
      delivery.push(chunk.receivedAt - chunk.deviceTime);
    }
  } finally {
    clearTimeout(timer);
    await capture.stop().catch(() => {});
  }
  return {
    requestedMs: bufferMs,
    grantedMs: round(capture.bufferMs, 1),
    seconds: Number((wallMs / 1000).toFixed(2)),
    chunks,
    meanChunkMs: chunks ? round((frames / chunks / RATE) * 1000, 2) : 'n/a',
    framesVsWall: `${frames} / ${Math.round((wallMs / 1000) * RATE)}`,
    overruns,
    discontinuities,
    deliveryP50Ms: round(percentile(delivery, 50)),
    deliveryP99Ms: round(percentile(delivery, 99)),
    deliveryMaxMs: round(delivery.length ? Math.max(...delivery) : null),
    cpuPctOfCore: Number(cpuPercent(cpu, wallMs).toFixed(3)),
    ...threadPercents(ticks0, ticks1, wallMs),
  };
}

/** record's per-chunk main-thread work for `record - --format s16 --rate 16000 --channels 1`, one 20 ms chunk. */
async function conversionBench(): Promise<void> {
  const frames = 0.02 * RATE;
  const chunk = new Float32Array(frames * CHANNELS);
  for (let i = 0; i < frames; i++) {
    chunk[2 * i] = 0.5 * Math.sin((2 * Math.PI * 997 * i) / RATE);
    chunk[2 * i + 1] = 0.25 * Math.sin((2 * Math.PI * 440 * i) / RATE);
  }
  const resampler = new Resampler(RATE, 16000, 1);
  const bench = new Bench({ name: 'record per-chunk conversion (20 ms stereo chunk)', time: 1000 });
  bench
    .add('downmix 2→1', () => void downmix(chunk, CHANNELS))
    .add('downmix + resample 48k→16k', () => void resampler.process(downmix(chunk, CHANNELS)))
    .add('downmix + resample + s16 encode', () => void encodePcm(resampler.process(downmix(chunk, CHANNELS)), 's16'))
    .add('f32 encode (stereo, 48k)', () => void encodePcm(chunk, 'f32'));
  await bench.run();
  console.log('record per-chunk conversion, one 20 ms 48 kHz stereo chunk (50 chunks per second of audio):');
  console.table(bench.table());
}

export async function run(): Promise<void> {
  const seconds = benchSeconds();
  usePrivateDaemonIfAny();
  // The idle floor first, before anything was opened (afterwards GC and finalizers of the capture runs show up).
  const idle = await idleRow(Math.min(IDLE_SECONDS, seconds));
  const rows: Row[] = [];
  for (const bufferMs of BUFFERS_MS) {
    try {
      rows.push(await captureRow(bufferMs, seconds));
    } catch (e) {
      if (isLoopcheckError(e) && ['SERVICE_UNAVAILABLE', 'BACKEND_UNAVAILABLE', 'DEVICE_NOT_FOUND'].includes(e.code)) {
        console.log(`capture.bench: skipped the pulse capture runs: ${e.toLine()}`);
        break;
      }
      throw e;
    }
  }
  if (rows.length > 0) {
    rows.unshift(idle);
    console.log(
      `pulse capture, ${RATE} Hz ${CHANNELS} ch float32, ${seconds} s per buffer size (server ${process.env.PULSE_SERVER ?? 'default'}); ` +
        'delivery = receivedAt − deviceTime per chunk; CPU = process user+sys / wall, % of one core (goal < 1 %)',
    );
    console.table(rows);
  }
  await conversionBench();
}

if (import.meta.url === pathToFileURL(process.argv[1]!).href) await run();
