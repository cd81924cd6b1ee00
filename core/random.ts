/**
 * Seeded pseudo-random numbers (mulberry32: small, fast, the same sequence on every machine), for everything that must
 * be reproducible: model training and its folds, generated test corpora, benchmark workloads. Never for secrets.
 */

/** A generator of numbers in [0, 1) from a 32-bit seed. */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface Seeded {
  next(): number;
  /** An integer in [lo, hi]. */
  int(lo: number, hi: number): number;
  pick<T>(xs: readonly T[]): T;
  /** True with probability p. */
  chance(p: number): boolean;
  /** A standard normal value (Box–Muller). */
  normal(): number;
  /** An exponential value with this mean. */
  expo(mean: number): number;
}

/** `mulberry32(seed)` with the draws tests and benchmarks use. */
export function seeded(seed: number): Seeded {
  const next = mulberry32(seed);
  return {
    next,
    int: (lo, hi) => lo + Math.floor(next() * (hi - lo + 1)),
    pick: <T>(xs: readonly T[]): T => xs[Math.floor(next() * xs.length)] as T,
    chance: (p) => next() < p,
    normal: () => Math.sqrt(-2 * Math.log(1 - next())) * Math.cos(2 * Math.PI * next()),
    expo: (mean) => -mean * Math.log(1 - next()),
  };
}
