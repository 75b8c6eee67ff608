/**
 * End-to-end analysis speed vs a scipy baseline. Writes a 56 s mono reference (white noise, log sweeps, pink-ish
 * noise; 48 kHz float32) and a 60 s stereo capture containing it (1234.37 samples late, −6 dB, 40 dB SNR), then
 * times, median of 3:
 * - ours: readWav ×2 + analyze() (fidelity off: the same question scipy answers, plus drift, SNR and dropouts),
 *   and separately with fidelity on;
 * - scipy (bench/scipy_xcorr.py, /usr/bin/python3): wavfile.read ×2 + signal.correlate(mode='full', method='fft')
 *   + argmax, timed inside Python with time.perf_counter.
 * Target: ours ≤ 1.5× scipy (goal 0.5×). Run: `npx tsx bench/analyze.bench.ts`.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Bench } from 'tinybench';
import { analyze } from '../src/analysis/index.js';
import { addNoise, throughDevice } from '../src/dsp/impair.js';
import { createRng } from '../src/dsp/random.js';
import { readWav, writeWav } from '../src/wav.js';

const RATE = 48000;

function referenceSignal(seconds: number): Float32Array {
  const n = seconds * RATE;
  const x = new Float32Array(n);
  const rng = createRng(56);
  let lp = 0;
  for (let i = 0; i < n; i++) {
    const t = i / RATE;
    const part = Math.floor(t / 8) % 3;
    if (part === 0) x[i] = 0.25 * rng.gaussian();
    else if (part === 1) {
      // 8 s log sweep 20 Hz → 20 kHz
      const tt = t % 8;
      const L = 8 / Math.log(1000);
      x[i] = 0.5 * Math.sin(2 * Math.PI * 20 * L * Math.expm1(tt / L));
    } else {
      lp = 0.9 * lp + 0.1 * rng.gaussian();
      x[i] = 0.8 * lp;
    }
  }
  return x;
}

export async function run(): Promise<void> {
  const dir = mkdtempSync(path.join(tmpdir(), 'loopcheck-bench-'));
  try {
    const ref = referenceSignal(56);
    const capLeft = addNoise(throughDevice(ref, { latencySamples: 1234.37, gainDb: -6, length: 60 * RATE }), -12 - 6 - 40, 1);
    const capRight = addNoise(new Float32Array(60 * RATE), -60, 2);
    const refPath = path.join(dir, 'ref.wav');
    const capPath = path.join(dir, 'cap.wav');
    await writeWav(refPath, { sampleRate: RATE, channels: [ref] }, { format: 'float32' });
    await writeWav(capPath, { sampleRate: RATE, channels: [capLeft, capRight] }, { format: 'float32' });

    // tinybench, exactly 3 iterations per task, no warmup (the first read is part of the cost); median = p50.
    const latencies: Record<string, number | null> = {};
    const bench = new Bench({ iterations: 3, time: 0, warmup: false });
    for (const fidelity of [false, true]) {
      bench.add(`fidelity ${fidelity ? 'on' : 'off'}`, async () => {
        const r = (await readWav(refPath)).audio;
        const c = (await readWav(capPath)).audio;
        latencies[`fidelity ${fidelity ? 'on' : 'off'}`] = analyze(r, c, { fidelity }).latency?.samples ?? null;
      });
    }
    await bench.run();
    const medianSeconds = (name: string): number => {
      const t = bench.tasks.find((task) => task.name === name)!;
      const result = t.result as { latency?: { p50?: number } } | undefined;
      return (result?.latency?.p50 ?? NaN) / 1000;
    };
    const time = async (fidelity: boolean): Promise<{ seconds: number; latency: number | null }> => {
      const name = `fidelity ${fidelity ? 'on' : 'off'}`;
      return { seconds: medianSeconds(name), latency: latencies[name] ?? null };
    };
    const ours = await time(false);
    const oursFidelity = await time(true);
    const script = path.join(path.dirname(fileURLToPath(import.meta.url)), 'scipy_xcorr.py');
    const py = JSON.parse(execFileSync('/usr/bin/python3', [script, refPath, capPath, '3'], { encoding: 'utf8' })) as { seconds: number; lag: number };
    // Whole processes, as a user runs them: `loopcheck analyze` (built CLI) vs the scipy script run once,
    // each including interpreter start-up and imports. Median of 3.
    const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
    const cli = path.join(root, 'bin', 'loopcheck.js');
    const wall = (cmd: string, args: string[]): number => {
      const t0 = performance.now();
      execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
      return (performance.now() - t0) / 1000;
    };
    const median3 = (f: () => number): number => [f(), f(), f()].sort((a, b) => a - b)[1]!;
    const cliSeconds = existsSync(path.join(root, 'dist', 'src', 'cli', 'main.js'))
      ? median3(() => wall(process.execPath, [cli, 'analyze', '--reference', refPath, '--capture', capPath, '--json']))
      : NaN;
    const pySeconds = median3(() => wall('/usr/bin/python3', [script, refPath, capPath, '1']));
    console.table([
      { what: 'process: loopcheck analyze --json (node start + read + analyze)', seconds: Number(cliSeconds.toFixed(3)), 'ratio to scipy': Number((cliSeconds / pySeconds).toFixed(2)) },
      { what: 'process: python3 scipy_xcorr.py (start + imports + read + correlate)', seconds: Number(pySeconds.toFixed(3)), 'ratio to scipy': 1 },
    ]);
    if (Number.isNaN(cliSeconds)) console.log('(build the CLI with `npm run build:ts` to time the loopcheck process)');
    console.table([
      { what: 'ours: readWav×2 + analyze (fidelity off)', seconds: Number(ours.seconds.toFixed(3)), latency: ours.latency, 'ratio to scipy': Number((ours.seconds / py.seconds).toFixed(2)) },
      { what: 'ours: readWav×2 + analyze (fidelity on)', seconds: Number(oursFidelity.seconds.toFixed(3)), latency: oursFidelity.latency, 'ratio to scipy': Number((oursFidelity.seconds / py.seconds).toFixed(2)) },
      { what: 'scipy: wavfile.read×2 + correlate(fft) + argmax', seconds: Number(py.seconds.toFixed(3)), latency: py.lag, 'ratio to scipy': 1 },
    ]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (import.meta.url === pathToFileURL(process.argv[1]!).href) await run();
