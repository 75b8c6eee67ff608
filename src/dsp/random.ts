/**
 * Seeded pseudo-random numbers, exactly reproducible on every platform (integer arithmetic only).
 * Used by noise generators and the virtual backend's impairments.
 */
export interface Rng {
  /** Uniform in [0, 1). */
  next(): number;
  /** Standard normal (mean 0, variance 1). */
  gaussian(): number;
  /** Integer in [lo, hi). */
  int(lo: number, hi: number): number;
}

/** sfc32 seeded through splitmix32: fast, 128-bit state, passes PractRand far beyond our needs. */
export function createRng(seed: number): Rng {
  let s = seed >>> 0;
  const splitmix = (): number => {
    s = (s + 0x9e3779b9) >>> 0;
    let z = s;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
    return (z ^ (z >>> 16)) >>> 0;
  };
  let a = splitmix(), b = splitmix(), c = splitmix(), d = splitmix();
  const u32 = (): number => {
    const t = (((a + b) >>> 0) + d) >>> 0;
    d = (d + 1) >>> 0;
    a = b ^ (b >>> 9);
    b = (c + (c << 3)) >>> 0;
    c = ((c << 21) | (c >>> 11)) >>> 0;
    c = (c + t) >>> 0;
    return t;
  };
  for (let i = 0; i < 12; i++) u32();
  let spare: number | null = null;
  const next = (): number => u32() / 4294967296;
  return {
    next,
    gaussian(): number {
      if (spare !== null) {
        const v = spare;
        spare = null;
        return v;
      }
      // Box–Muller; u1 in (0, 1] so log is finite.
      const u1 = 1 - next();
      const u2 = next();
      const r = Math.sqrt(-2 * Math.log(u1));
      spare = r * Math.sin(2 * Math.PI * u2);
      return r * Math.cos(2 * Math.PI * u2);
    },
    int(lo: number, hi: number): number {
      return lo + Math.floor(next() * (hi - lo));
    },
  };
}
