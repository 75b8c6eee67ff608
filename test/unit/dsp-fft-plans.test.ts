/**
 * The FFT plan cache holds wasm memory for at most 16 plans: evicted plans free theirs, and a caller still
 * holding one gets correct results (it re-allocates and re-enters the cache).
 */
import { describe, expect, it } from 'vitest';
import { fftMemoryBytes, fftSize, realFft } from '../../src/dsp/fft.js';

/** forward then inverse of a known signal: inverse(forward(x)) = N·x (fft.ts conventions). */
function roundTripError(size: number, plan = realFft(size)): number {
  const x = new Float32Array(size);
  for (let i = 0; i < size; i++) x[i] = Math.sin(i * 0.37) + (i % 7) / 7;
  const y = plan.inverse(plan.forward(x));
  let worst = 0;
  for (let i = 0; i < size; i++) worst = Math.max(worst, Math.abs(y[i]! / size - x[i]!));
  return worst;
}

describe('FFT plan cache', () => {
  it('wasm memory stops growing once distinct sizes cycle through the cache', () => {
    const sizes: number[] = [];
    for (let n = 100_000; sizes.length < 80; n += 1013) {
      const s = fftSize(n);
      if (!sizes.includes(s)) sizes.push(s);
    }
    for (const s of sizes) realFft(s).forward(new Float32Array(s));
    const afterFirstPass = fftMemoryBytes();
    for (let round = 0; round < 3; round++) for (const s of sizes) realFft(s).forward(new Float32Array(s));
    // Without freeing evicted plans, each pass would add 80 × 3 buffers × ~0.5 MB ≈ 120 MB. Freed blocks are
    // reused by the wasm allocator, so memory after three more passes stays where the first pass left it
    // (allowing 16 MB for allocator fragmentation).
    expect(fftMemoryBytes() - afterFirstPass).toBeLessThanOrEqual(16 * 1024 * 1024);
  });

  it('a plan held across evictions still transforms correctly', () => {
    const held = realFft(4096);
    for (let n = 8192; n < 8192 + 40 * 64; n += 64) realFft(fftSize(n)).forward(new Float32Array(fftSize(n)));
    // float32 round trip of a unit-scale signal: error ~1e-6 (measured 4.8e-7); 1e-5 still catches a wrong plan.
    expect(roundTripError(4096, held)).toBeLessThan(1e-5);
    expect(realFft(4096)).toBe(held); // it re-entered the cache
  });
});
