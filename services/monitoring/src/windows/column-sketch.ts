import { SeededRng } from '@mlp/ml';

export type ColumnKind = 'numeric' | 'categorical';
type Cell = string | number | boolean | null | undefined;

/** Values past this many distinct categories are counted under OTHER_CATEGORY. */
export const OTHER_CATEGORY = '__other__';

export interface SketchOptions {
  /** Numeric values kept: the whole window up to this many, then a uniform reservoir sample of this size. */
  sampleCap: number;
  maxCategories: number;
  seed: number;
}

/**
 * One column of a window in bounded memory. Numeric: exact count, mean,
 * variance, min and max (Welford), and a uniform reservoir sample of at most
 * `sampleCap` values (Vitter's algorithm R, seeded) for the tests; the sample
 * is the whole column while the window is no larger. Categorical: exact value
 * counts (at most `maxCategories` distinct, the rest under OTHER_CATEGORY).
 */
export class ColumnSketch {
  missing = 0;
  /** Present values seen. */
  count = 0;
  mean = 0;
  private m2 = 0;
  min = Infinity;
  max = -Infinity;
  private readonly reservoir?: Float64Array;
  private readonly rng?: SeededRng;
  readonly counts = new Map<string, number>();

  constructor(
    readonly kind: ColumnKind,
    private readonly options: SketchOptions,
  ) {
    if (kind === 'numeric') {
      this.reservoir = new Float64Array(options.sampleCap);
      this.rng = new SeededRng(options.seed);
    }
  }

  add(v: Cell): void {
    if (v === null || v === undefined || (typeof v === 'number' && !Number.isFinite(v))) {
      this.missing++;
      return;
    }
    if (this.kind === 'categorical') {
      this.count++;
      const key = String(v);
      const c = this.counts.get(key);
      if (c !== undefined) this.counts.set(key, c + 1);
      else if (this.counts.size < this.options.maxCategories) this.counts.set(key, 1);
      else this.counts.set(OTHER_CATEGORY, (this.counts.get(OTHER_CATEGORY) ?? 0) + 1);
      return;
    }
    if (typeof v !== 'number') {
      this.missing++; // a non-number in a numeric column is not a value of it
      return;
    }
    const i = this.count++;
    const d = v - this.mean;
    this.mean += d / this.count;
    this.m2 += d * (v - this.mean);
    if (v < this.min) this.min = v;
    if (v > this.max) this.max = v;
    const cap = this.options.sampleCap;
    if (i < cap) this.reservoir![i] = v;
    else {
      const j = this.rng!.int(0, i + 1);
      if (j < cap) this.reservoir![j] = v;
    }
  }

  /** The numeric values the tests see: every value of the window, or the reservoir past the cap. */
  sample(): Float64Array {
    return this.reservoir ? this.reservoir.subarray(0, Math.min(this.count, this.options.sampleCap)) : new Float64Array(0);
  }

  get sampled(): boolean {
    return this.count > this.options.sampleCap;
  }

  /** Summary kept in the report artifact. */
  summary(): Record<string, unknown> {
    if (this.kind === 'categorical') {
      const top = [...this.counts].sort((a, b) => b[1] - a[1]).slice(0, 50);
      return { kind: this.kind, count: this.count, missing: this.missing, distinct: this.counts.size, top: Object.fromEntries(top) };
    }
    return {
      kind: this.kind,
      count: this.count,
      missing: this.missing,
      mean: this.count ? this.mean : null,
      std: this.count > 1 ? Math.sqrt(this.m2 / (this.count - 1)) : null,
      min: this.count ? this.min : null,
      max: this.count ? this.max : null,
      sampled: this.sampled ? this.options.sampleCap : null,
    };
  }
}
