import { ValidationError } from '@mlp/contracts';

/**
 * Deterministic pseudo-random numbers from a 32-bit seed (mulberry32).
 * Fast, small state, good enough for shuffling, sampling and splits; not
 * cryptographic. The same seed always yields the same sequence on every
 * platform (only 32-bit integer arithmetic and one division).
 */
export class SeededRng {
  private state: number;
  private spareNormal: number | undefined;

  constructor(readonly seed: number) {
    if (!Number.isSafeInteger(seed)) {
      throw new ValidationError(`seed must be a safe integer, received ${seed}`, [{ path: 'seed', message: 'must be a safe integer' }]);
    }
    this.state = seed >>> 0;
  }

  /** Uniform in [0, 1). */
  next(): number {
    this.state = (this.state + 0x6d2b79f5) | 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  }

  /** Uniform integer in [lo, hi) — half-open like `next()` and numpy's `integers`. */
  int(lo: number, hi: number): number {
    if (!Number.isSafeInteger(lo) || !Number.isSafeInteger(hi) || hi <= lo) {
      throw new ValidationError(`int(lo, hi) needs integers with lo < hi, received (${lo}, ${hi})`, [
        { path: 'hi', message: 'must be an integer greater than lo' },
      ]);
    }
    return lo + Math.floor(this.next() * (hi - lo));
  }

  /** Normal(mean, sd) via Box–Muller; the second value of each pair is kept for the next call. */
  normal(mean = 0, sd = 1): number {
    if (this.spareNormal !== undefined) {
      const z = this.spareNormal;
      this.spareNormal = undefined;
      return mean + sd * z;
    }
    const u1 = 1 - this.next(); // (0, 1]: log is finite
    const u2 = this.next();
    const radius = Math.sqrt(-2 * Math.log(u1));
    this.spareNormal = radius * Math.sin(2 * Math.PI * u2);
    return mean + sd * radius * Math.cos(2 * Math.PI * u2);
  }

  /** Fisher–Yates shuffle, in place; returns the same array. */
  shuffle<T>(array: T[]): T[] {
    for (let i = array.length - 1; i > 0; i--) {
      const j = Math.floor(this.next() * (i + 1));
      const held = array[i];
      array[i] = array[j];
      array[j] = held;
    }
    return array;
  }

  /** A random ordering of 0..n-1. */
  permutation(n: number): number[] {
    if (!Number.isSafeInteger(n) || n < 0) {
      throw new ValidationError(`permutation(n) needs a non-negative integer, received ${n}`, [{ path: 'n', message: 'must be a non-negative integer' }]);
    }
    return this.shuffle(Array.from({ length: n }, (_, i) => i));
  }
}
