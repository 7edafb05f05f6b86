import { SeededRng } from '../random/seeded-rng';
import { finiteValues, mergeSmallCounts, numericSummary, sampleSmallCounts, SmallKeyTracker, type NumericSummary } from './counts';
import {
  DEFAULT_THRESHOLDS,
  DRIFT_METHODS,
  DriftInputError,
  featureResult,
  featureStatistic,
  defaultMethod,
  isNumericDriftColumn,
  NUMERIC_ONLY,
  prepareNumeric,
  referenceUniqueAbove20,
  sharesOf,
  type DriftMethod,
  type DriftReport,
  type DriftReportOptions,
  type FeatureDrift,
  type FeatureKind,
  type FeatureOptions,
  type FeatureStatistic,
  type NumericReferenceCache,
  type PreparedFeature,
} from './report';
import { KsAgainstReference, sortedCopy } from './ks';
import { hellingerBinned, histogramCounts, jensenShannon, klDivergence, psi, sturgesEdges, type BinnedShares } from './stats';
import { isCodes, type CategoricalArray, type DriftColumn, type NumericArray, type PairCounts } from './types';
import { addToGrid, createGrid, normedFromGrids, wassersteinReference, type NumericGrid } from './wasserstein';

/*
 * A reference prepared once (DriftReference) and current windows fed in chunks
 * (DriftWindow), for monitors that compare window after window against the same
 * training sample. `driftReport` is `DriftReference.build(reference).report(current)`.
 *
 * A window holds, per numeric column, its values up to `exactLimit` (default
 * 100 000): until then its report is exactly driftReport's on the same values. Past
 * the limit it keeps, in memory that no longer grows:
 * - a grid over the reference's range (65 536 buckets of count and sum, plus
 *   4096-bucket tails over two range widths each side and exact far tails), from which
 *   Wasserstein is computed with a guaranteed error bound and JS/PSI/KL on Sturges bins
 *   (bucket means placed in the bins; ~1e-5 from scipy in the spec);
 * - exact value counts while the reference and window together hold <= 32 distinct
 *   values (chi-squared, Z, and the value-share binning of JS/PSI/KL stay exact);
 * - for KS (configured, or the default for a reference of <= 1000 rows): counts per
 *   interval of the reference's distinct values, which give scipy's D and p exactly;
 * - Hellinger on the grid as well, its Sturges bin count taken with every window value
 *   distinct (log2 of the distinct count decides it, so ties rarely change it);
 * - a seeded uniform reservoir of `exactLimit` values for Anderson–Darling (and the
 *   count tests on many-valued numeric columns), for configured methods only.
 * A feature computed from the grid or the reservoir carries `approximation`.
 * Categorical columns are exact counts (up to maxUnseenCategories new values).
 */

export interface DriftReferenceOptions extends DriftReportOptions {
  /** Per numeric column, a window's values kept for exact tests (then grid + reservoir); default 100 000. */
  exactLimit?: number;
  /** Seed of the windows' reservoirs (default 1). */
  seed?: number;
  /**
   * Per categorical column, distinct values a window keeps that the reference never had
   * (default 10 000); more are counted together under OTHER_CATEGORIES, and the
   * feature's statistic is marked `approximation: {from: 'capped'}`.
   */
  maxUnseenCategories?: number;
}

/** The key under which a window counts the unseen categories past maxUnseenCategories. */
export const OTHER_CATEGORIES = '\u0000other';

type ReferenceFeature =
  | { name: string; kind: 'numeric'; values: NumericArray; summary: NumericSummary; cache: NumericReferenceCache; options: FeatureOptions }
  | { name: string; kind: 'categorical'; counts: Map<string, number>; size: number; options: FeatureOptions };

/** Value counts of a categorical column (numbers as their strings); missing values skipped. */
export function categoryCounts(column: DriftColumn, into = new Map<string, number>()): { counts: Map<string, number>; size: number } {
  let size = 0;
  const add = (key: string, n: number) => {
    into.set(key, (into.get(key) ?? 0) + n);
    size += n;
  };
  if (isCodes(column)) {
    const perCode = new Float64Array(column.categories.length);
    for (let i = 0; i < column.codes.length; i++) if (column.codes[i] >= 0) perCode[column.codes[i]]++;
    perCode.forEach((n, code) => n > 0 && add(column.categories[code], n));
  } else {
    const values = column as ArrayLike<unknown>;
    for (let i = 0; i < values.length; i++) {
      const v = values[i];
      if (v === null || v === undefined || (typeof v === 'number' && v !== v)) continue;
      add(String(v), 1);
    }
  }
  return { counts: into, size };
}

/** Reference and current value counts over the union of their values, keys sorted by code point (PairCounts order). */
export function pairCountsOf(reference: ReadonlyMap<string, number>, current: ReadonlyMap<string, number>): PairCounts {
  const keys = [...new Set([...reference.keys(), ...current.keys()])].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  const r = new Float64Array(keys.length);
  const c = new Float64Array(keys.length);
  let nr = 0;
  let nc = 0;
  keys.forEach((k, i) => {
    r[i] = reference.get(k) ?? 0;
    c[i] = current.get(k) ?? 0;
    nr += r[i];
    nc += c[i];
  });
  return { keys, reference: r, current: c, referenceSize: nr, currentSize: nc };
}

export class DriftReference {
  private constructor(
    readonly columns: readonly string[],
    private readonly features: ReadonlyMap<string, ReferenceFeature>,
    private readonly options: DriftReferenceOptions,
  ) {}

  /** Prepares every compared column of `reference` once; validates the per-feature options. */
  static build(reference: Readonly<Record<string, DriftColumn>>, options: DriftReferenceOptions = {}): DriftReference {
    const columns = options.columns ?? Object.keys(reference);
    for (const c of columns) if (!(c in reference)) throw new DriftInputError(`column '${c}' is not in the reference`, 'columns');
    for (const name of Object.keys(options.features ?? {})) {
      if (!columns.includes(name)) throw new DriftInputError(`feature option for '${name}', which is not a compared column`, `features.${name}`);
    }
    if (options.exactLimit !== undefined && !(Number.isInteger(options.exactLimit) && options.exactLimit >= 1)) {
      throw new DriftInputError(`exactLimit must be a positive integer, got ${options.exactLimit}`, 'exactLimit');
    }
    const features = new Map<string, ReferenceFeature>();
    for (const name of columns) {
      const o = options.features?.[name] ?? {};
      if (o.method !== undefined && !DRIFT_METHODS.includes(o.method)) {
        throw new DriftInputError(`unknown drift method '${o.method}' for '${name}'; known: ${DRIFT_METHODS.join(', ')}`, `features.${name}.method`);
      }
      const column = reference[name];
      const numeric = o.kind ? o.kind === 'numeric' : isNumericDriftColumn(column);
      if (numeric) {
        if (!isNumericDriftColumn(column)) throw new DriftInputError(`column '${name}' is declared numeric but holds strings or codes`, name);
        const summary = numericSummary(column);
        features.set(name, { name, kind: 'numeric', values: finiteValues(column, summary.nonFinite), summary, cache: {}, options: o });
      } else {
        if (o.method !== undefined && NUMERIC_ONLY.has(o.method)) {
          throw new DriftInputError(`method '${o.method}' needs a numeric column, '${name}' is categorical`, `features.${name}.method`);
        }
        const { counts, size } = categoryCounts(column);
        features.set(name, { name, kind: 'categorical', counts, size, options: o });
      }
    }
    return new DriftReference(columns, features, options);
  }

  /** Each compared column's kind, as the reference decided it. */
  get kinds(): Record<string, FeatureKind> {
    return Object.fromEntries([...this.features].map(([n, f]) => [n, f.kind]));
  }

  /** The report of a current sample held in memory, as driftReport (exact but for Wasserstein over windows of more than EXACT_WINDOW values). */
  report(current: Readonly<Record<string, DriftColumn>>): DriftReport {
    for (const c of this.columns) if (!(c in current)) throw new DriftInputError(`column '${c}' is not in the current data`, 'columns');
    return this.summarize(
      this.columns.map((name) => {
        const f = this.features.get(name) as ReferenceFeature;
        if (f.kind === 'numeric') return this.decide(f, prepareNumeric(name, f.values, f.summary, current[name], f.cache));
        return this.decide(f, { kind: 'categorical', counts: pairCountsOf(f.counts, categoryCounts(current[name]).counts) });
      }),
    );
  }

  /** An empty window to feed chunk by chunk. */
  window(): DriftWindow {
    return new DriftWindow(this, this.options.exactLimit ?? 100_000, this.options.seed ?? 1, this.options.maxUnseenCategories ?? 10_000);
  }

  /** @internal */
  feature(name: string): ReferenceFeature {
    return this.features.get(name) as ReferenceFeature;
  }

  /** @internal the method, threshold and result of one prepared feature. */
  decide(f: ReferenceFeature, p: PreparedFeature, method = f.options.method ?? defaultMethod(p), stat?: (m: DriftMethod) => FeatureStatistic): FeatureDrift {
    if (NUMERIC_ONLY.has(method) && p.kind !== 'numeric') {
      throw new DriftInputError(`method '${method}' needs a numeric column, '${f.name}' is categorical`, `features.${f.name}.method`);
    }
    const threshold = f.options.threshold ?? DEFAULT_THRESHOLDS[method];
    return featureResult(f.name, method, threshold, stat ? stat(method) : featureStatistic(p, method));
  }

  /** @internal */
  summarize(features: FeatureDrift[]): DriftReport {
    const shareThreshold = this.options.driftShareThreshold ?? 0.5;
    const drifted = features.filter((f) => f.drifted).length;
    const driftShare = features.length === 0 ? 0 : drifted / features.length;
    return { features, driftShare, datasetDrift: features.length > 0 && driftShare >= shareThreshold };
  }
}

/** One numeric column of a window: exact values up to the limit, then grid + reservoir (see the header). */
class NumericWindowColumn {
  values = new Float64Array(1024);
  n = 0;
  nonFinite = 0;
  readonly tracker = new SmallKeyTracker();
  grid: NumericGrid | null = null;
  /** Past the limit, for a column that may be tested with KS: exact counts per reference interval. */
  ks: KsAgainstReference | null = null;
  private readonly one = new Float64Array(1);

  /** Past the limit the kept values become a uniform reservoir only for configured methods that may need one (not KS, Wasserstein or Hellinger). */
  readonly sampling: boolean;

  constructor(
    private readonly ref: ReferenceFeature & { kind: 'numeric' },
    private readonly limit: number,
    private readonly rng: SeededRng,
  ) {
    const m = ref.options.method;
    this.sampling = m !== undefined && m !== 'ks' && m !== 'wasserstein' && m !== 'hellinger';
  }

  add(x: number): void {
    this.one[0] = x;
    this.addAll(this.one);
  }

  /** Values in bulk: copied while under the limit, then counted into the grid and sampled (Li's Algorithm L: one draw per kept value). */
  addAll(values: NumericArray): void {
    let i = 0;
    for (; this.grid === null && i < values.length; i++) {
      const x = values[i];
      if (x - x !== 0) {
        this.nonFinite++;
        continue;
      }
      if (this.n === this.limit) {
        this.grid = this.openGrid();
        break;
      }
      this.tracker.add(x);
      if (this.n === this.values.length) {
        const grown = new Float64Array(Math.min(this.limit, 2 * this.values.length));
        grown.set(this.values);
        this.values = grown;
      }
      this.values[this.n++] = x;
    }
    if (this.grid === null || i >= values.length) return;
    const rest = i === 0 ? values : ArrayBuffer.isView(values) ? (values as Float64Array).subarray(i) : (values as readonly number[]).slice(i);
    const before = this.grid.nonFinite;
    addToGrid(this.grid, rest);
    this.ks?.add(rest);
    const nonFinite = this.grid.nonFinite - before;
    this.nonFinite += nonFinite;
    if (nonFinite === 0) {
      // the common case, without a per-value loop: counts by chunk, reservoir slots by index
      if (!this.tracker.overflow) {
        if (rest.length < 256) for (let k = 0; k < rest.length; k++) this.tracker.add(rest[k]);
        else this.tracker.addCounts(sampleSmallCounts(rest));
      }
      if (this.sampling) {
        for (; this.nextKept < this.n + rest.length; this.skip()) this.values[this.rng.int(0, this.limit)] = rest[this.nextKept - this.n];
      }
      this.n += rest.length;
      return;
    }
    for (let k = 0; k < rest.length; k++) {
      const x = rest[k];
      if (x - x !== 0) continue;
      if (!this.tracker.overflow) this.tracker.add(x);
      if (this.n++ === this.nextKept && this.sampling) {
        this.values[this.rng.int(0, this.limit)] = x;
        this.skip();
      }
    }
  }

  /** Algorithm L (Li 1994): the index of the next value that enters the reservoir. */
  private w = 1;
  private nextKept = -1;
  private skip(): void {
    if (this.nextKept < 0) this.nextKept = this.limit - 1;
    this.w *= Math.exp(Math.log(1 - this.rng.next()) / this.limit);
    this.nextKept += Math.floor(Math.log(1 - this.rng.next()) / Math.log(1 - this.w)) + 1;
  }

  /** At the first value past the limit: the grid over the reference's Wasserstein grid range, filled with the values so far. */
  private openGrid(): NumericGrid {
    const r = this.ref;
    r.cache.wasserstein ??= wassersteinReference(r.values, r.summary);
    const g = r.cache.wasserstein.grid;
    const grid = createGrid(g.lo, g.hi, g.buckets);
    addToGrid(grid, this.values.subarray(0, this.n));
    if (r.options.method === 'ks' || (r.options.method === undefined && r.values.length <= 1000)) {
      this.ks = new KsAgainstReference((r.cache.sorted ??= sortedCopy(r.values)));
      this.ks.add(this.values.subarray(0, this.n));
    }
    this.skip();
    return grid;
  }

  kept(): Float64Array {
    return this.values.subarray(0, Math.min(this.n, this.limit));
  }
}

/**
 * The current window of a DriftReference, fed by `push` (columns) or `pushRow` (one
 * row); `report` can be called at any time. Memory per column is bounded by the
 * exact limit (numeric) or the number of categories (categorical), not by the rows.
 */
export class DriftWindow {
  rows = 0;
  private readonly numeric = new Map<string, NumericWindowColumn>();
  private readonly categorical = new Map<string, Map<string, number>>();
  /** Categorical columns that had unseen categories lumped under OTHER_CATEGORIES. */
  private readonly capped = new Set<string>();

  constructor(
    private readonly reference: DriftReference,
    readonly exactLimit: number,
    seed: number,
    private readonly maxUnseen = 10_000,
  ) {
    reference.columns.forEach((name, i) => {
      const f = reference.feature(name);
      if (f.kind === 'numeric') this.numeric.set(name, new NumericWindowColumn(f, exactLimit, new SeededRng((seed + 7919 * (i + 1)) >>> 0)));
      else this.categorical.set(name, new Map());
    });
  }

  /** A chunk of the window as columns (every compared column, the same length each). */
  push(chunk: Readonly<Record<string, DriftColumn>>): void {
    let rows = -1;
    for (const name of this.reference.columns) {
      const column = chunk[name];
      if (column === undefined) throw new DriftInputError(`column '${name}' is not in the chunk`, 'columns');
      const length = isCodes(column) ? column.codes.length : column.length;
      if (rows >= 0 && length !== rows) throw new DriftInputError(`column '${name}' has ${length} rows, the chunk's other columns ${rows}`, name);
      rows = length;
    }
    for (const [name, col] of this.numeric) {
      const values = chunk[name];
      if (!isNumericDriftColumn(values)) throw new DriftInputError(`column '${name}' is numeric in the reference but holds strings or codes in the chunk`, name);
      col.addAll(values);
    }
    for (const [name, counts] of this.categorical) {
      categoryCounts(chunk[name] as CategoricalArray, counts);
      this.capUnseen(name, counts);
    }
    this.rows += Math.max(rows, 0);
  }

  /** Keeps at most maxUnseen categories the reference never had; the others are counted under OTHER_CATEGORIES. */
  private capUnseen(name: string, counts: Map<string, number>): void {
    const known = (this.reference.feature(name) as ReferenceFeature & { kind: 'categorical' }).counts;
    if (counts.size <= known.size + this.maxUnseen) return;
    let unseen = 0;
    for (const [key, n] of counts) {
      if (known.has(key) || key === OTHER_CATEGORIES || ++unseen <= this.maxUnseen) continue;
      counts.delete(key);
      counts.set(OTHER_CATEGORIES, (counts.get(OTHER_CATEGORIES) ?? 0) + n);
      this.capped.add(name);
    }
  }

  /** One row: a missing, non-numeric or non-finite value of a numeric column is a missing value, as null/undefined of a categorical one. */
  pushRow(row: Readonly<Record<string, unknown>>): void {
    for (const [name, col] of this.numeric) {
      const v = row[name];
      col.add(typeof v === 'number' ? v : NaN);
    }
    for (const [name, counts] of this.categorical) {
      const v = row[name];
      if (v === null || v === undefined || (typeof v === 'number' && v !== v)) continue;
      counts.set(String(v), (counts.get(String(v)) ?? 0) + 1);
      this.capUnseen(name, counts);
    }
    this.rows++;
  }

  /** Numeric values held for the exact tests and the reservoirs, over all columns (at most columns × exactLimit). */
  get heldValues(): number {
    let n = 0;
    for (const col of this.numeric.values()) n += col.kept().length;
    return n;
  }

  report(): DriftReport {
    return this.reference.summarize(this.reference.columns.map((name) => this.feature(name)));
  }

  private feature(name: string): FeatureDrift {
    const f = this.reference.feature(name);
    if (f.kind === 'categorical') {
      const p = { kind: 'categorical' as const, counts: pairCountsOf(f.counts, this.categorical.get(name) as Map<string, number>) };
      if (!this.capped.has(name)) return this.reference.decide(f, p);
      return this.reference.decide(f, p, undefined, (m) => ({ ...featureStatistic(p, m), approximation: { from: 'capped' } }));
    }
    const col = this.numeric.get(name) as NumericWindowColumn;
    if (col.grid === null) return this.reference.decide(f, prepareNumeric(name, f.values, f.summary, col.kept(), f.cache));
    const p = prepareNumeric(name, f.values, f.summary, col.kept(), f.cache, false);
    // past the exact limit: exact counts when few values, the grid for the large-sample distances, else the reservoir
    const grid = col.grid;
    f.cache.small ??= sampleSmallCounts(f.values);
    const small = (p.small = mergeSmallCounts(f.cache.small, col.tracker.counts()));
    const method = f.options.method ?? defaultMethod(p);
    return this.reference.decide(f, p, method, (m) => {
      if (f.values.length === 0) return featureStatistic(p, m); // an empty reference: NaN, as driftReport
      const shareMethod = m === 'jensenshannon' || m === 'psi' || m === 'kl';
      if (small && (m === 'chisquare' || m === 'ztest' || (shareMethod && !referenceUniqueAbove20(f.values, f.cache)))) {
        return featureStatistic({ kind: 'categorical', counts: small }, m);
      }
      if (m === 'ks' && col.ks) {
        const r = col.ks.result();
        return { statistic: r.statistic, pValue: r.pValue };
      }
      if (m === 'wasserstein') {
        f.cache.wasserstein ??= wassersteinReference(f.values, f.summary);
        const d = normedFromGrids(f.cache.wasserstein, grid, Infinity);
        return { statistic: d.statistic, pValue: null, approximation: { from: 'grid', maxError: d.maxError ?? 0 } };
      }
      if (m === 'hellinger') {
        // Sturges bins over the distinct values of both samples: the window's counted as all distinct past the limit
        const sorted = (f.cache.sorted ??= sortedCopy(f.values));
        let distinct = 0;
        for (let k = 0; k < sorted.length; k++) if (k === 0 || sorted[k] !== sorted[k - 1]) distinct++;
        const edges = sturgesEdges(Math.min(f.summary.min, grid.min), Math.max(f.summary.max, grid.max), distinct + grid.n, false);
        return { statistic: hellingerBinned(histogramCounts(f.values, edges), gridBinCounts(grid, edges), edges), pValue: null, approximation: { from: 'grid' } };
      }
      if (shareMethod && referenceUniqueAbove20(f.values, f.cache)) {
        const shares = gridSturgesShares(f.values, f.summary, grid);
        const statistic = m === 'jensenshannon' ? jensenShannon(shares) : m === 'psi' ? psi(shares) : klDivergence(shares);
        return { statistic, pValue: null, approximation: { from: 'grid' } };
      }
      return { ...featureStatistic(p, m), approximation: { from: 'sample', sampleSize: col.kept().length } };
    });
  }
}

/**
 * Evidently's Sturges binning (edges over both samples' range and total size) with the
 * reference counted exactly and the window from its grid: each bucket's count goes to
 * the bin of the bucket's mean, each tail's to the bin of the tail's mean.
 */
function gridSturgesShares(reference: NumericArray, rs: NumericSummary, g: NumericGrid): BinnedShares {
  const edges = sturgesEdges(Math.min(rs.min, g.min), Math.max(rs.max, g.max), reference.length + g.n, false);
  return sharesOf(histogramCounts(reference, edges), reference.length, gridBinCounts(g, edges), g.n);
}

/** The window's counts per bin of `edges` (which span its range): each grid bucket and tail bucket at its mean. */
function gridBinCounts(g: NumericGrid, edges: Float64Array): Float64Array {
  const min = edges[0];
  const max = edges[edges.length - 1];
  const counts = new Float64Array(edges.length - 1);
  const last = edges.length - 1;
  const place = (x: number, n: number) => {
    // numpy's bins: edges[i] <= x < edges[i + 1], the last one closed
    let lo = 0;
    let hi = last;
    while (hi - lo > 1) {
      const mid = (lo + hi) >> 1;
      if (x >= edges[mid]) lo = mid;
      else hi = mid;
    }
    counts[lo] += n;
  };
  // the tails: their detailed buckets, and the rest (beyond TAIL_SPAN ranges) at its mean
  let farBelow = g.below;
  let farBelowSum = g.belowSum;
  let farAbove = g.above;
  let farAboveSum = g.aboveSum;
  for (let t = 0; t < g.belowCs.length / 2; t++) {
    const cb = g.belowCs[2 * t];
    if (cb > 0) {
      place(g.lo - g.belowCs[2 * t + 1] / cb, cb);
      farBelow -= cb;
      farBelowSum -= g.belowCs[2 * t + 1];
    }
    const ca = g.aboveCs[2 * t];
    if (ca > 0) {
      place(g.hi + g.aboveCs[2 * t + 1] / ca, ca);
      farAbove -= ca;
      farAboveSum -= g.aboveCs[2 * t + 1];
    }
  }
  if (farBelow > 0) place(g.lo - farBelowSum / farBelow, farBelow);
  if (farAbove > 0) place(g.hi + farAboveSum / farAbove, farAbove);
  for (let b = 0; b < g.buckets; b++) {
    const c = g.cs[2 * b];
    if (c > 0) place(Math.min(Math.max(g.lo + g.cs[2 * b + 1] / c, min), max), c);
  }
  return counts;
}
