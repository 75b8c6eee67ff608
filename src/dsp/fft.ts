/**
 * Real FFT on PFFFT compiled to SIMD WebAssembly (@echogarden/pffft-wasm).
 * Chosen by measurement against fft.js: see bench/fft.bench.ts and the README.
 *
 * Conventions:
 * - forward(x) is unnormalised: X[k] = Σ x[n]·e^(−2πi·kn/N).
 * - inverse(X) is unnormalised too: inverse(forward(x)) = N·x. Callers divide by N.
 * - Spectra use PFFFT's "ordered" real layout, N floats:
 *   [Re X0, Re X(N/2), Re X1, Im X1, Re X2, Im X2, …, Re X(N/2−1), Im X(N/2−1)].
 * - Sizes must be N = 2^a·3^b·5^c with a ≥ 5 (N multiple of 32); use fftSize(n) to pick one ≥ n.
 */
import PFFFT from '@echogarden/pffft-wasm/simd';

interface PffftModule {
  _pffft_new_setup(n: number, kind: number): number;
  _pffft_destroy_setup(setup: number): void;
  _pffft_transform_ordered(setup: number, input: number, output: number, work: number, direction: number): void;
  _pffft_aligned_malloc(bytes: number): number;
  _pffft_aligned_free(ptr: number): void;
  HEAPF32?: Float32Array;
  wasmMemory?: { buffer: ArrayBuffer };
}

const PFFFT_REAL = 0;
const PFFFT_FORWARD = 0;
const PFFFT_BACKWARD = 1;

const mod = (await (PFFFT as unknown as () => Promise<PffftModule>)()) as PffftModule;

function heap(): Float32Array {
  // The heap may grow (ALLOW_MEMORY_GROWTH) and detach old views: always take a fresh one.
  if (mod.HEAPF32 && mod.HEAPF32.buffer.byteLength > 0) return mod.HEAPF32;
  if (mod.wasmMemory) return new Float32Array(mod.wasmMemory.buffer);
  throw new Error('pffft-wasm exposes no heap');
}

export interface RealFft {
  readonly size: number;
  /** x (length ≤ size, zero-padded) → ordered spectrum (length size). */
  forward(x: Float32Array, out?: Float32Array): Float32Array;
  /** ordered spectrum (length size) → time signal × size (length size). */
  inverse(spectrum: Float32Array, out?: Float32Array): Float32Array;
  /**
   * One overlap-save correlation block, computed in place in the FFT's own buffers (no intermediate arrays):
   * s = x placed at `at` in `size` zeros, out[outAt + k] = scale · inverse(forward(s) · conj(spectrumB))[k] for
   * k = 0…count−1. Same arithmetic as forward → multiplySpectra(·, spectrumB, true) → inverse → scale.
   */
  correlateBlock(x: Float32Array, at: number, spectrumB: Float32Array, scale: number, out: Float32Array, outAt: number, count: number): void;
}

/**
 * Only plans in the cache hold wasm memory. An evicted plan frees its setup and buffers at once (wasm memory
 * never shrinks, so a soak with many distinct sizes grew it 27 → 72 MB in 5 min, then ran out); a caller still
 * holding it gets them back on its next call, and the plan re-enters the cache (evicting the oldest).
 */
class PffftReal implements RealFft {
  readonly size: number;
  private setup = 0;
  private inPtr = 0;
  private outPtr = 0;
  private workPtr = 0;

  constructor(size: number) {
    this.size = size;
    this.allocate();
  }

  private allocate(): void {
    const size = this.size;
    this.setup = mod._pffft_new_setup(size, PFFFT_REAL);
    if (!this.setup) throw new RangeError(`FFT size ${size} is not supported (need 2^a·3^b·5^c, multiple of 32)`);
    this.inPtr = mod._pffft_aligned_malloc(size * 4);
    this.outPtr = mod._pffft_aligned_malloc(size * 4);
    this.workPtr = mod._pffft_aligned_malloc(size * 4);
    if (!this.inPtr || !this.outPtr || !this.workPtr) {
      this.release();
      throw new RangeError(`FFT size ${size}: out of wasm memory`);
    }
  }

  /** Frees the wasm side (the cache evicted this plan). */
  release(): void {
    if (this.setup) mod._pffft_destroy_setup(this.setup);
    for (const p of [this.inPtr, this.outPtr, this.workPtr]) if (p) mod._pffft_aligned_free(p);
    this.setup = this.inPtr = this.outPtr = this.workPtr = 0;
  }

  /** Before every transform: an evicted plan allocates again and goes back into the cache. */
  private ready(): void {
    if (this.setup) return;
    this.allocate();
    cachePlan(this);
  }

  private run(x: Float32Array, out: Float32Array | undefined, direction: number): Float32Array {
    this.ready();
    const n = this.size;
    if (x.length > n) throw new RangeError(`FFT input of ${x.length} exceeds size ${n}`);
    let h = heap();
    const inOff = this.inPtr >> 2;
    h.set(x, inOff);
    if (x.length < n) h.fill(0, inOff + x.length, inOff + n);
    mod._pffft_transform_ordered(this.setup, this.inPtr, this.outPtr, this.workPtr, direction);
    h = heap();
    const result = out ?? new Float32Array(n);
    result.set(h.subarray(this.outPtr >> 2, (this.outPtr >> 2) + n));
    return result;
  }

  forward(x: Float32Array, out?: Float32Array): Float32Array {
    return this.run(x, out, PFFFT_FORWARD);
  }

  inverse(spectrum: Float32Array, out?: Float32Array): Float32Array {
    return this.run(spectrum, out, PFFFT_BACKWARD);
  }

  correlateBlock(x: Float32Array, at: number, spectrumB: Float32Array, scale: number, out: Float32Array, outAt: number, count: number): void {
    this.ready();
    const n = this.size;
    if (at < 0 || at + x.length > n || spectrumB.length !== n || count > n) throw new RangeError(`correlateBlock: block does not fit FFT size ${n}`);
    let h = heap();
    const inOff = this.inPtr >> 2;
    const outOff = this.outPtr >> 2;
    if (at > 0) h.fill(0, inOff, inOff + at);
    h.set(x, inOff + at);
    if (at + x.length < n) h.fill(0, inOff + at + x.length, inOff + n);
    mod._pffft_transform_ordered(this.setup, this.inPtr, this.outPtr, this.workPtr, PFFFT_FORWARD);
    h = heap();
    // Ordered layout (see header): DC and Nyquist are real, then (re, im) pairs; product = X · conj(B).
    h[outOff] = h[outOff]! * spectrumB[0]!;
    h[outOff + 1] = h[outOff + 1]! * spectrumB[1]!;
    for (let i = 2; i < n; i += 2) {
      const ar = h[outOff + i]!, ai = h[outOff + i + 1]!, br = spectrumB[i]!, bi = -spectrumB[i + 1]!;
      h[outOff + i] = ar * br - ai * bi;
      h[outOff + i + 1] = ar * bi + ai * br;
    }
    mod._pffft_transform_ordered(this.setup, this.outPtr, this.inPtr, this.workPtr, PFFFT_BACKWARD);
    h = heap();
    for (let k = 0; k < count; k++) out[outAt + k] = h[inOff + k]! * scale;
  }
}

const plans = new Map<number, PffftReal>();
const MAX_CACHED_PLANS = 16;

function cachePlan(plan: PffftReal): void {
  const current = plans.get(plan.size);
  if (current && current !== plan) current.release();
  plans.delete(plan.size);
  while (plans.size >= MAX_CACHED_PLANS) {
    const oldest = plans.keys().next().value as number;
    plans.get(oldest)!.release();
    plans.delete(oldest);
  }
  plans.set(plan.size, plan);
}

/** A cached real-FFT plan of exactly `size` points (at most 16 hold wasm memory at a time). */
export function realFft(size: number): RealFft {
  let plan = plans.get(size);
  if (!plan) {
    plan = new PffftReal(size);
    cachePlan(plan);
  }
  return plan;
}

/** Bytes of wasm memory the FFT module holds (it grows, never shrinks): for soak runs and tests. */
export function fftMemoryBytes(): number {
  return heap().buffer.byteLength;
}

/** Smallest valid FFT size ≥ n: 32·2^a·3^b·5^c. */
export function fftSize(n: number): number {
  const target = Math.max(32, Math.ceil(n));
  let best = Infinity;
  for (let p5 = 1; p5 <= 5 ** 6; p5 *= 5) {
    for (let p3 = p5; p3 <= 3 ** 10 * 5 ** 6; p3 *= 3) {
      let v = 32 * p3;
      if (v >= best) break;
      while (v < target) v *= 2;
      if (v < best) best = v;
    }
  }
  return best;
}

/**
 * Multiply two ordered spectra: out = a · conj(b) when `conjugateB`, else a · b.
 * Cross-correlation of x and y is inverse(mul(X, Y, true)) / N, lag k at index k (negative lags wrap).
 */
export function multiplySpectra(a: Float32Array, b: Float32Array, conjugateB: boolean, out?: Float32Array): Float32Array {
  const n = a.length;
  const o = out ?? new Float32Array(n);
  o[0] = a[0]! * b[0]!;
  o[1] = a[1]! * b[1]!;
  const s = conjugateB ? -1 : 1;
  for (let i = 2; i < n; i += 2) {
    const ar = a[i]!, ai = a[i + 1]!, br = b[i]!, bi = s * b[i + 1]!;
    o[i] = ar * br - ai * bi;
    o[i + 1] = ar * bi + ai * br;
  }
  return o;
}
