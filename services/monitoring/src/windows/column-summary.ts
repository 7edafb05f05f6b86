export type ColumnKind = 'numeric' | 'categorical';
type Cell = string | number | boolean | null | undefined;

/** Values past this many distinct categories are counted under OTHER_CATEGORY in a summary. */
export const OTHER_CATEGORY = '__other__';

/** Equal-width bins over a reference sample's finite range: the edges both sides of an overlay share. */
export function histogramEdges(sample: ArrayLike<number>, bins = 20): number[] {
  let min = Infinity;
  let max = -Infinity;
  for (let i = 0; i < sample.length; i++) {
    const v = sample[i];
    if (!Number.isFinite(v)) continue;
    if (v < min) min = v;
    if (v > max) max = v;
  }
  if (min === Infinity) return [];
  if (min === max) return [min, max];
  const width = (max - min) / bins;
  return Array.from({ length: bins + 1 }, (_, i) => (i === bins ? max : min + i * width));
}

/**
 * Counts per bin of `edges`: index 0 holds values below the first edge, the
 * last index values above the last one; bins are [e_i, e_i+1), the last one closed.
 */
export function binCounts(edges: readonly number[], values: Iterable<number>, into = new Array<number>(edges.length + 1).fill(0)): number[] {
  for (const v of values) if (Number.isFinite(v)) into[binOf(edges, v)]++;
  return into;
}

function binOf(edges: readonly number[], v: number): number {
  const k = edges.length;
  if (v < edges[0]) return 0;
  if (v > edges[k - 1]) return k;
  if (v === edges[k - 1]) return k - 1;
  let lo = 0;
  let hi = k - 1;
  // The last edge ≤ v: bin lo + 1.
  while (hi - lo > 1) {
    const mid = (lo + hi) >> 1;
    if (edges[mid] <= v) lo = mid;
    else hi = mid;
  }
  return lo + 1;
}

/**
 * What a drift report artifact says about one window column, in constant
 * memory: count, missing, mean, std, min and max (Welford) of a numeric
 * column, with counts on the reference's histogram edges when given (the
 * dashboard's overlay); the value counts of a categorical one (at most
 * `maxCategories`, the rest under OTHER_CATEGORY). The tests themselves run
 * on libs/ml's DriftWindow.
 */
export class ColumnSummary {
  missing = 0;
  count = 0;
  mean = 0;
  private m2 = 0;
  min = Infinity;
  max = -Infinity;
  private readonly counts = new Map<string, number>();

  private readonly bins?: number[];

  constructor(
    readonly kind: ColumnKind,
    private readonly maxCategories: number,
    private readonly edges?: readonly number[],
  ) {
    if (kind === 'numeric' && edges && edges.length > 1) this.bins = new Array<number>(edges.length + 1).fill(0);
  }

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
      if (this.bins) this.bins[binOf(this.edges!, v)]++;
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
      ...(this.bins ? { histogram: { edges: this.edges, counts: this.bins } } : {}),
    };
  }
}
