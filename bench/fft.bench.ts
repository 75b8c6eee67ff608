/**
 * Real forward FFT speed: fft.js (`new FFT(n)`, `realTransform` + `completeSpectrum`) vs our PFFFT (SIMD wasm)
 * wrapper (`realFft(n).forward`), N = 4096, 65536, 2^20. Prints ops/s and the PFFFT / fft.js speed ratio.
 * Run: `npx tsx bench/fft.bench.ts`.
 */
import { pathToFileURL } from 'node:url';
import { Bench } from 'tinybench';
import FFT from 'fft.js';
import { realFft } from '../src/dsp/fft.js';
import { createRng } from '../src/dsp/random.js';

interface FftJs {
  createComplexArray(): number[];
  realTransform(out: number[], input: ArrayLike<number>): void;
  completeSpectrum(spectrum: number[]): void;
}
const FftCtor = FFT as unknown as new (n: number) => FftJs;

export async function run(): Promise<void> {
  const rows: Record<string, string | number>[] = [];
  for (const n of [4096, 65536, 2 ** 20]) {
    const rng = createRng(n);
    const x = new Float32Array(n);
    for (let i = 0; i < n; i++) x[i] = rng.gaussian();
    const xd = Array.from(x);
    const fj = new FftCtor(n);
    const out = fj.createComplexArray();
    const plan = realFft(n);
    const spectrum = new Float32Array(n);
    const bench = new Bench({ time: n >= 2 ** 20 ? 1500 : 500, warmupTime: 100 });
    bench
      .add(`fft.js N=${n}`, () => {
        fj.realTransform(out, xd);
        fj.completeSpectrum(out);
      })
      .add(`pffft N=${n}`, () => {
        plan.forward(x, spectrum);
      });
    await bench.run();
    const hz = bench.tasks.map((t) => (t.result && 'throughput' in t.result ? t.result.throughput.mean : 0));
    rows.push({ N: n, 'fft.js ops/s': Math.round(hz[0]!), 'pffft ops/s': Math.round(hz[1]!), 'pffft / fft.js': Number((hz[1]! / hz[0]!).toFixed(2)) });
  }
  console.table(rows);
}

if (import.meta.url === pathToFileURL(process.argv[1]!).href) await run();
