export type ColumnKind = 'numeric' | 'categorical';
type Cell = string | number | boolean | null | undefined;

/** Values past this many distinct categories are counted under OTHER_CATEGORY in a summary. */
export const OTHER_CATEGORY = '__other__';

/**
 * What a drift report artifact says about one window column, in constant
 * memory: count, missing, mean, std, min and max (Welford) of a numeric
 * column; the value counts of a categorical one (at most `maxCategories`,
 * the rest under OTHER_CATEGORY). The tests themselves run on libs/ml's DriftWindow.
 */
export class ColumnSummary {
  missing = 0;
  count = 0;
  mean = 0;
  private m2 = 0;
  min = Infinity;
  max = -Infinity;
  private readonly counts = new Map<string, number>();

  constructor(
    readonly kind: ColumnKind,
    private readonly maxCategories: number,
  ) {}

  add(v: Cell): void {
    if (v === null || v === undefined || (typeof v === 'number' && !Number.isFinite(v)) || (this.kind === 'numeric' && typeof v !== 'number')) {
      this.missing++;
      return;
    }
    this.count++;
    if (typeof v === 'number' && this.kind === 'numeric') {
      const d = v - this.mean;
      this.mean += d / this.count;
      this.m2 += d * (v - this.mean);
      if (v < this.min) this.min = v;
      if (v > this.max) this.max = v;
      return;
    }
    const key = String(v);
    const c = this.counts.get(key);
    if (c !== undefined) this.counts.set(key, c + 1);
    else if (this.counts.size < this.maxCategories) this.counts.set(key, 1);
    else this.counts.set(OTHER_CATEGORY, (this.counts.get(OTHER_CATEGORY) ?? 0) + 1);
  }

  toJSON(): Record<string, unknown> {
    if (this.kind === 'categorical') {
      const top = [...this.counts].sort((a, b) => b[1] - a[1]).slice(0, 50);
      return { kind: this.kind, count: this.count, missing: this.missing, distinct: this.counts.size, top: Object.fromEntries(top) };
    }
    const some = this.count > 0;
    return {
      kind: this.kind,
      count: this.count,
      missing: this.missing,
      mean: some ? this.mean : null,
      std: this.count > 1 ? Math.sqrt(this.m2 / (this.count - 1)) : null,
      min: some ? this.min : null,
      max: some ? this.max : null,
    };
  }
}
