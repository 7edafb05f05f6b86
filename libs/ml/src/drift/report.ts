import {
  categoricalPairCounts,
  distinctUpTo,
  finiteValues,
  mergeSmallCounts,
  numericPairCounts,
  numericSummary,
  sampleSmallCounts,
  type NumericSummary,
  type SmallCounts,
} from './counts';
import { ks2sampSorted, KsAgainstReference, sortedCopy, type KsResult } from './ks';
import {
  andersonKsamp,
  chiSquareTest,
  countShares,
  hellingerCounts,
  hellingerNumeric,
  histogramCounts,
  jensenShannon,
  klDivergence,
  psi,
  sturgesEdges,
  zTest,
  type BinnedShares,
} from './stats';
import { isCodes, isIntegerTyped, type CategoricalArray, type DriftColumn, type NumericArray, type PairCounts } from './types';
import { DriftReference } from './reference';
import {
  addToGrid,
  BUCKETED_FROM,
  createGrid,
  EXACT_WINDOW,
  GRID_TOLERANCE,
  normedFromGrids,
  wassersteinNormedDetail,
  wassersteinReference,
  type NumericGrid,
  type WassersteinReference,
} from './wasserstein';

/** The drift methods, by their names in Evidently and the CLI. */
export const DRIFT_METHODS = ['ks', 'chisquare', 'ztest', 'wasserstein', 'jensenshannon', 'psi', 'kl', 'hellinger', 'anderson'] as const;
export type DriftMethod = (typeof DRIFT_METHODS)[number];

/** Methods that return a p-value (drift when it is below the threshold); the others return a distance (drift at or above). */
export const P_VALUE_METHODS: ReadonlySet<DriftMethod> = new Set(['ks', 'chisquare', 'ztest', 'anderson']);
/** Methods that need numbers. */
export const NUMERIC_ONLY: ReadonlySet<DriftMethod> = new Set(['ks', 'wasserstein', 'anderson']);

/** Evidently's default thresholds (StatTest.default_threshold of each test). */
export const DEFAULT_THRESHOLDS: Readonly<Record<DriftMethod, number>> = {
  ks: 0.05,
  chisquare: 0.05,
  ztest: 0.05,
  anderson: 0.1,
  wasserstein: 0.1,
  jensenshannon: 0.1,
  psi: 0.1,
  kl: 0.1,
  hellinger: 0.1,
};

export type FeatureKind = 'numeric' | 'categorical';

export interface FeatureOptions {
  method?: DriftMethod;
  threshold?: number;
  /** Default: typed arrays and number arrays are numeric, strings and dictionary codes categorical. */
  kind?: FeatureKind;
}

export interface DriftReportOptions {
  /** The columns to compare (default: every column of the reference that the current also has). */
  columns?: readonly string[];
  /** Per-feature method, threshold and kind overrides. */
  features?: Readonly<Record<string, FeatureOptions>>;
  /** Dataset drift when the share of drifted features is at least this (default 0.5). */
  driftShareThreshold?: number;
}

export interface FeatureDrift {
  name: string;
  method: DriftMethod;
  /** The test statistic (KS D, chi², z, A²), or the distance for distance methods. */
  statistic: number;
  /** null for distance methods. */
  pValue: number | null;
  threshold: number;
  drifted: boolean;
  /**
   * Present when the statistic is not scipy's exact value: a Wasserstein distance over more
   * than EXACT_WINDOW current values taken from the grid (within maxError), or a streamed
   * window past its exact limit (DriftWindow).
   */
  approximation?: Approximation;
}

/**
 * `grid`: from the window's bucket counts (Wasserstein: |statistic - exact| <= maxError;
 * JS/PSI/KL/Hellinger: Sturges bins filled by bucket means). `sample`: the test ran on a
 * uniform sample of `sampleSize` of the window's values. `capped`: the window's categories
 * unseen in the reference past maxUnseenCategories were counted as one (JS, Hellinger and
 * chi-squared do not change; PSI and KL do).
 */
export interface Approximation {
  from: 'grid' | 'sample' | 'capped';
  maxError?: number;
  sampleSize?: number;
}

export interface DriftReport {
  features: FeatureDrift[];
  driftShare: number;
  datasetDrift: boolean;
}

export class DriftInputError extends Error {
  constructor(
    message: string,
    readonly field: string,
  ) {
    super(message);
    this.name = 'DriftInputError';
  }
}

/** Typed arrays and arrays whose first present value is a number are numeric. */
export function isNumericDriftColumn(c: DriftColumn): c is NumericArray {
  if (isCodes(c)) return false;
  if (ArrayBuffer.isView(c)) return true;
  const arr = c as readonly unknown[];
  for (const v of arr) if (v !== null && v !== undefined) return typeof v === 'number';
  return true;
}

/**
 * A numeric reference column with what every comparison against it can reuse, filled
 * on first use: its distinct values when few, whether it has more than 20, and its
 * Wasserstein grid and std (DriftReference keeps these across windows).
 */
export interface NumericReferenceCache {
  small?: SmallCounts | null;
  sorted?: Float64Array;
  uniqueAbove20?: boolean;
  wasserstein?: WassersteinReference;
}

/** A column prepared once: numeric finite values, or categorical counts (computed lazily). */
export type PreparedFeature =
  | {
      kind: 'numeric';
      reference: NumericArray;
      current: NumericArray;
      referenceSummary: NumericSummary;
      currentSummary: NumericSummary;
      /** Value counts when both samples together hold at most 32 distinct values (computed on first use), else null. */
      small?: PairCounts | null;
      /** The reference's reusable parts (DriftReference passes its own). */
      cache?: NumericReferenceCache;
      /** The current sample counted on the reference's Wasserstein grid, when prepared that way. */
      currentGrid?: NumericGrid;
    }
  | { kind: 'categorical'; counts: PairCounts };
type Prepared = PreparedFeature;
type NumericPrepared = Prepared & { kind: 'numeric' };

export function prepareFeature(name: string, reference: DriftColumn, current: DriftColumn, kind: FeatureKind | undefined): Prepared {
  const numeric = kind ? kind === 'numeric' : isNumericDriftColumn(reference);
  if (numeric) {
    if (!isNumericDriftColumn(reference) || !isNumericDriftColumn(current)) throw new DriftInputError(`column '${name}' is declared numeric but holds strings or codes`, name);
    const rs = numericSummary(reference);
    return prepareNumeric(name, finiteValues(reference, rs.nonFinite), rs, current, {});
  }
  return { kind: 'categorical', counts: categoricalPairCounts(asCategorical(reference), asCategorical(current)) };
}

/** A numeric feature against an already cleaned reference (finite values and their summary) and its cache. */
export function prepareNumeric(
  name: string,
  reference: NumericArray,
  referenceSummary: NumericSummary,
  current: DriftColumn,
  cache: NumericReferenceCache,
  countOnGrid = true,
): NumericPrepared {
  if (!isNumericDriftColumn(current)) throw new DriftInputError(`column '${name}' is numeric in the reference but holds strings or codes in the current data`, name);
  if (countOnGrid && reference.length > 1000 && reference.length + current.length >= BUCKETED_FROM && manyValued(reference, cache)) {
    // Wasserstein by default: the current grid gives the summary in the same pass
    cache.wasserstein ??= wassersteinReference(reference, referenceSummary);
    const r = cache.wasserstein.grid;
    const grid = createGrid(r.lo, r.hi, r.buckets);
    addToGrid(grid, current);
    const cs = { min: grid.min, max: grid.max, sum: grid.sum, nonFinite: grid.nonFinite };
    return { kind: 'numeric', reference, current: finiteValues(current, cs.nonFinite), referenceSummary, currentSummary: cs, cache, currentGrid: grid };
  }
  const cs = numericSummary(current);
  return { kind: 'numeric', reference, current: finiteValues(current, cs.nonFinite), referenceSummary, currentSummary: cs, cache };
}

/** More than 32 distinct reference values (so more than 5 together with any current sample). */
function manyValued(reference: NumericArray, cache: NumericReferenceCache): boolean {
  if (cache.small === undefined) cache.small = sampleSmallCounts(reference);
  return cache.small === null;
}

function asCategorical(c: DriftColumn): CategoricalArray {
  if (isCodes(c)) return c;
  if (ArrayBuffer.isView(c) || (c as readonly unknown[]).some((v) => typeof v === 'number')) {
    const arr = c as NumericArray;
    const out: (string | null)[] = new Array(arr.length);
    for (let i = 0; i < arr.length; i++) out[i] = arr[i] === arr[i] ? String(arr[i]) : null;
    return out;
  }
  return c as CategoricalArray;
}

/**
 * Evidently's `_get_default_stattest`: with n = the number of unique values of both
 * samples together, a reference of <= 1000 rows uses KS for numeric data with n > 5,
 * chi-squared when 2 < n (<= 5 for numeric), and the Z-test when n <= 2; a larger
 * reference uses the normed Wasserstein distance for numeric data with n > 5 and
 * Jensen–Shannon otherwise.
 */
export function defaultMethod(p: Prepared): DriftMethod {
  const referenceSize = p.kind === 'numeric' ? p.reference.length : p.counts.referenceSize;
  const nValues = p.kind === 'numeric' ? (smallCounts(p)?.keys.length ?? Infinity) : p.counts.keys.length;
  if (referenceSize <= 1000) {
    if (p.kind === 'numeric' && nValues > 5) return 'ks';
    return nValues > 2 ? 'chisquare' : 'ztest';
  }
  return p.kind === 'numeric' && nValues > 5 ? 'wasserstein' : 'jensenshannon';
}

function smallCounts(p: NumericPrepared): PairCounts | null {
  if (p.small === undefined) {
    const cache = (p.cache ??= {});
    if (cache.small === undefined) cache.small = sampleSmallCounts(p.reference);
    p.small = mergeSmallCounts(cache.small, cache.small && sampleSmallCounts(p.current));
  }
  return p.small;
}

function numericCounts(p: NumericPrepared): PairCounts {
  return smallCounts(p) ?? numericPairCounts(p.reference, p.current);
}

/** More than 20 unique values in the reference (Evidently's reference_data.nunique() > 20). */
export function referenceUniqueAbove20(reference: NumericArray, cache: NumericReferenceCache): boolean {
  if (cache.uniqueAbove20 === undefined) {
    if (cache.small === undefined) cache.small = sampleSmallCounts(reference);
    cache.uniqueAbove20 = cache.small ? cache.small.keys.length > 20 : distinctUpTo([reference], 20).length > 20;
  }
  return cache.uniqueAbove20;
}

/** Evidently `get_binned_data`: Sturges histogram for numeric data with > 20 unique reference values, else value shares. */
function binnedShares(p: Prepared): BinnedShares {
  if (p.kind === 'numeric' && referenceUniqueAbove20(p.reference, (p.cache ??= {}))) {
    const min = Math.min(p.referenceSummary.min, p.currentSummary.min);
    const max = Math.max(p.referenceSummary.max, p.currentSummary.max);
    const edges = sturgesEdges(min, max, p.reference.length + p.current.length, isIntegerTyped(p.reference) && isIntegerTyped(p.current));
    return sharesOf(histogramCounts(p.reference, edges), p.reference.length, histogramCounts(p.current, edges), p.current.length);
  }
  return countShares(p.kind === 'numeric' ? numericCounts(p) : p.counts);
}

/** Bin counts divided by their samples' sizes. */
export function sharesOf(reference: Float64Array, referenceSize: number, current: Float64Array, currentSize: number): BinnedShares {
  for (let i = 0; i < reference.length; i++) {
    reference[i] /= referenceSize;
    current[i] /= currentSize;
  }
  return { reference, current };
}

/** The normed Wasserstein distance, with the reference's grid built once into the cache for large samples. */
function wasserstein(p: NumericPrepared): { statistic: number; maxError?: number } {
  if (p.reference.length + p.current.length < BUCKETED_FROM) return wassersteinNormedDetail(p.reference, p.current);
  const cache = (p.cache ??= {});
  cache.wasserstein ??= wassersteinReference(p.reference, p.referenceSummary);
  if (!p.currentGrid) return wassersteinNormedDetail(p.reference, p.current, cache.wasserstein);
  return normedFromGrids(cache.wasserstein, p.currentGrid, p.current.length <= EXACT_WINDOW ? 0 : GRID_TOLERANCE, p.current);
}

export interface FeatureStatistic {
  statistic: number;
  pValue: number | null;
  approximation?: Approximation;
}

/** One feature's statistic under `method` (pValue null for distances). */
export function featureStatistic(p: Prepared, method: DriftMethod): FeatureStatistic {
  if (p.kind === 'numeric' ? p.reference.length === 0 || p.current.length === 0 : p.counts.referenceSize === 0 || p.counts.currentSize === 0) {
    return { statistic: NaN, pValue: P_VALUE_METHODS.has(method) ? NaN : null };
  }
  switch (method) {
    case 'ks': {
      const n = numericOnly(p, method);
      const cache = (n.cache ??= {});
      const sorted = (cache.sorted ??= sortedCopy(n.reference));
      let r: KsResult;
      if (n.current.length > 4 * sorted.length) {
        // a large window against a small reference: counts per reference interval instead of sorting the window (same D)
        const counts = new KsAgainstReference(sorted);
        counts.add(n.current);
        r = counts.result();
      } else r = ks2sampSorted(sorted, sortedCopy(n.current));
      return { statistic: r.statistic, pValue: r.pValue };
    }
    case 'anderson': {
      const n = numericOnly(p, method);
      return andersonKsamp(n.reference, n.current);
    }
    case 'wasserstein': {
      const w = wasserstein(numericOnly(p, method));
      return w.maxError === undefined ? { statistic: w.statistic, pValue: null } : { statistic: w.statistic, pValue: null, approximation: { from: 'grid', maxError: w.maxError } };
    }
    case 'chisquare':
      return chiSquareTest(p.kind === 'numeric' ? numericCounts(p) : p.counts);
    case 'ztest':
      return zTest(p.kind === 'numeric' ? numericCounts(p) : p.counts);
    case 'jensenshannon':
      return { statistic: jensenShannon(binnedShares(p)), pValue: null };
    case 'psi':
      return { statistic: psi(binnedShares(p)), pValue: null };
    case 'kl':
      return { statistic: klDivergence(binnedShares(p)), pValue: null };
    case 'hellinger': {
      if (p.kind === 'categorical') return { statistic: hellingerCounts(p.counts), pValue: null };
      const c = numericCounts(p);
      const keys = c.keys as number[];
      return { statistic: hellingerNumeric(p.reference, p.current, keys.length, keys[0], keys[keys.length - 1]), pValue: null };
    }
    default: {
      const never: never = method;
      throw new DriftInputError(`unknown drift method '${String(never)}'`, 'method');
    }
  }
}

function numericOnly(p: Prepared, method: DriftMethod): Prepared & { kind: 'numeric' } {
  if (p.kind !== 'numeric') throw new DriftInputError(`method '${method}' needs a numeric column`, 'method');
  return p;
}

/** Evidently's drift decision: p-value tests drift below the threshold (KS at or below, as Evidently's ks_stat_test), distances at or above. */
export function isDrifted(method: DriftMethod, statistic: number, pValue: number | null, threshold: number): boolean {
  if (P_VALUE_METHODS.has(method)) return method === 'ks' ? (pValue as number) <= threshold : (pValue as number) < threshold;
  return statistic >= threshold;
}

/** Compares one feature of two samples. */
export function featureDrift(name: string, reference: DriftColumn, current: DriftColumn, options: FeatureOptions = {}): FeatureDrift {
  if (options.method !== undefined && !DRIFT_METHODS.includes(options.method)) {
    throw new DriftInputError(`unknown drift method '${options.method}' for '${name}'; known: ${DRIFT_METHODS.join(', ')}`, `features.${name}.method`);
  }
  const p = prepareFeature(name, reference, current, options.kind);
  const method = options.method ?? defaultMethod(p);
  if (NUMERIC_ONLY.has(method) && p.kind !== 'numeric') {
    throw new DriftInputError(`method '${method}' needs a numeric column, '${name}' is categorical`, `features.${name}.method`);
  }
  const threshold = options.threshold ?? DEFAULT_THRESHOLDS[method];
  return featureResult(name, method, threshold, featureStatistic(p, method));
}

export function featureResult(name: string, method: DriftMethod, threshold: number, s: FeatureStatistic): FeatureDrift {
  const out: FeatureDrift = { name, method, statistic: s.statistic, pValue: s.pValue, threshold, drifted: isDrifted(method, s.statistic, s.pValue, threshold) };
  if (s.approximation) out.approximation = s.approximation;
  return out;
}

/**
 * The drift report of `current` against `reference`, column by column, with Evidently's
 * default test per column (overridable per feature) and dataset drift when the share of
 * drifted features reaches `driftShareThreshold` (0.5).
 */
export function driftReport(
  reference: Readonly<Record<string, DriftColumn>>,
  current: Readonly<Record<string, DriftColumn>>,
  options: DriftReportOptions = {},
): DriftReport {
  const columns = options.columns ?? Object.keys(reference).filter((c) => c in current);
  return DriftReference.build(reference, { ...options, columns }).report(current);
}
