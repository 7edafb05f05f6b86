import { numericSummary } from './counts';
import { populationStd, type MinMax } from './stats';
import type { NumericArray } from './types';

/*
 * Wasserstein-1 (scipy.stats.wasserstein_distance) for any sample size.
 *
 * - Small inputs (< 20 000 values together): two sorts and a merge walk, as scipy.
 * - Large inputs: both samples are counted into a `NumericGrid`: B equal-width
 *   buckets over the *reference's* [min, max] holding (count, Σ (x - min)) each, and
 *   the current values below/above that range as (count, Σ distance to the range).
 *   Within a bucket D(x) = F_u(x) - F_v(x) moves between D0 - cv/nv and D0 + cu/nu;
 *   when that range does not cross zero, ∫|D| over the bucket is |∫D|, which the counts
 *   and sums give exactly, and so do the tails (F_u is 0 below the range, 1 above).
 *   Only "ambiguous" buckets, where D may change sign, are not determined by the grid:
 *   there ∫|D| lies in [|∫D|, min(∫D + 2w(cv/nv - D0), 2w(D0 + cu/nu) - ∫D)]. The
 *   estimate is ∫|D| for D moving linearly across the bucket (values spread evenly),
 *   clamped to that interval; `maxError` sums each estimate's distance to the far end
 *   of its interval, so |estimate - exact| <= maxError always (in practice far below it:
 *   `npm run bench -- drift` prints 3.8e-6 stds against a bound of 7.3e-4 on 1M rows).
 * - With the raw values at hand the ambiguous buckets are refined exactly (gathered,
 *   bucketed again if large, sorted and walked), which gives scipy's value to rounding.
 *   `wassersteinNormed` does so for windows of at most EXACT_WINDOW values, or when the
 *   grid's bound exceeds GRID_TOLERANCE in units of the reference std; a streamed
 *   window (DriftWindow) past its exact limit has only the grid and reports the bound.
 */

/** Above this many values in total, Wasserstein uses the grid instead of two full sorts. */
export const BUCKETED_FROM = 20000;
/** Current windows up to this many values get the exact distance (ambiguous buckets refined). */
export const EXACT_WINDOW = 100_000;
/** Larger windows keep the grid estimate while its error bound is at most this many reference stds (1% of the default 0.1 threshold). */
export const GRID_TOLERANCE = 1e-3;
export const GRID_BUCKETS = 1 << 16;

export interface NumericGrid {
  readonly lo: number;
  readonly hi: number;
  readonly buckets: number;
  readonly scale: number;
  /** Interleaved (count, Σ (x - lo)) per bucket; x == hi counts in the last bucket. */
  readonly cs: Float64Array;
  /** Finite values counted (in range and in the tails). */
  n: number;
  below: number;
  /** Σ (lo - x) over the values below lo. */
  belowSum: number;
  above: number;
  /** Σ (x - hi) over the values above hi. */
  aboveSum: number;
  /**
   * The tails in more detail, for binning (not needed by Wasserstein): TAIL_BUCKETS
   * (count, Σ distance to the range) each below lo and above hi, over TAIL_SPAN range
   * widths; values farther out are only in below/above.
   */
  readonly belowCs: Float64Array;
  readonly aboveCs: Float64Array;
  /** Finite values' min, max and sum, NaN/±Infinity skipped and counted. */
  min: number;
  max: number;
  sum: number;
  nonFinite: number;
}

export const TAIL_BUCKETS = 4096;
export const TAIL_SPAN = 2;

export function createGrid(lo: number, hi: number, buckets = GRID_BUCKETS): NumericGrid {
  const width = hi - lo;
  const B = width > 0 ? buckets : 1;
  return {
    lo,
    hi,
    buckets: B,
    scale: width > 0 ? B / width : 0,
    cs: new Float64Array(2 * B),
    n: 0,
    below: 0,
    belowSum: 0,
    above: 0,
    aboveSum: 0,
    belowCs: new Float64Array(width > 0 ? 2 * TAIL_BUCKETS : 0),
    aboveCs: new Float64Array(width > 0 ? 2 * TAIL_BUCKETS : 0),
    min: Infinity,
    max: -Infinity,
    sum: 0,
    nonFinite: 0,
  };
}

/** Counts `values` into the grid in one pass; returns Σ (x - mean)² over the finite values (for the reference's std). */
export function addToGrid(g: NumericGrid, values: NumericArray, mean = 0): number {
  const { lo, hi, scale, cs, belowCs, aboveCs } = g;
  const last = g.buckets - 1;
  const tailScale = belowCs.length > 0 ? scale * (TAIL_BUCKETS / (TAIL_SPAN * g.buckets)) : 0;
  let { n, below, belowSum, above, aboveSum, min, max, sum, nonFinite } = g;
  let ssd = 0;
  for (let i = 0; i < values.length; i++) {
    const x = values[i];
    if (x - x !== 0) {
      nonFinite++;
      continue;
    }
    n++;
    sum += x;
    if (x < min) min = x;
    if (x > max) max = x;
    const d = x - mean;
    ssd += d * d;
    const r = x - lo;
    if (r < 0) {
      below++;
      belowSum -= r;
      const t = (-r * tailScale) | 0;
      if (t < TAIL_BUCKETS && tailScale > 0) {
        belowCs[2 * t] += 1;
        belowCs[2 * t + 1] -= r;
      }
      continue;
    }
    if (x > hi) {
      above++;
      aboveSum += x - hi;
      const t = ((x - hi) * tailScale) | 0;
      if (t < TAIL_BUCKETS && tailScale > 0) {
        aboveCs[2 * t] += 1;
        aboveCs[2 * t + 1] += x - hi;
      }
      continue;
    }
    let k = (r * scale) | 0;
    if (k > last) k = last;
    cs[2 * k] += 1;
    cs[2 * k + 1] += r;
  }
  g.n = n;
  g.below = below;
  g.belowSum = belowSum;
  g.above = above;
  g.aboveSum = aboveSum;
  g.min = min;
  g.max = max;
  g.sum = sum;
  g.nonFinite = nonFinite;
  return ssd;
}

/** The grid's bucket of an in-range value (the same arithmetic as addToGrid). */
function bucketOf(g: NumericGrid, x: number): number {
  const k = ((x - g.lo) * g.scale) | 0;
  return k > g.buckets - 1 ? g.buckets - 1 : k;
}

export interface GridDistance {
  /** The estimate of W1(u, v); exact when maxError is 0. */
  distance: number;
  /** |distance - exact W1| <= maxError. */
  maxError: number;
  /** Buckets whose integral is only bounded (1 = ambiguous), and D at each bucket's start. */
  ambiguous: Uint8Array;
  dStart: Float64Array;
  /** The part of `distance` from the ambiguous buckets' estimates. */
  ambiguousPart: number;
}

/**
 * W1 between the samples counted in two grids over the same range: `u` (the
 * reference) must have no tails, `v` may. See the header for the bound.
 */
export function gridWasserstein(u: NumericGrid, v: NumericGrid): GridDistance {
  const B = u.buckets;
  const nu = u.n;
  const nv = v.n;
  const w = B > 0 && u.scale > 0 ? 1 / u.scale : 0;
  const ambiguous = new Uint8Array(B);
  const dStart = new Float64Array(B);
  let acc = v.belowSum / nv + v.aboveSum / nv;
  let maxError = 0;
  let ambiguousPart = 0;
  let U = 0;
  let V = v.below;
  const us = u.cs;
  const vs = v.cs;
  for (let b = 0; b < B; b++) {
    const cu = us[2 * b];
    const cv = vs[2 * b];
    const D = U / nu - V / nv;
    dStart[b] = D;
    if (cu === 0 && cv === 0) acc += Math.abs(D) * w;
    else {
      const t1 = (b + 1) * w;
      const integral = D * w + (cu * t1 - us[2 * b + 1]) / nu - (cv * t1 - vs[2 * b + 1]) / nv;
      if (D - cv / nv >= 0 || D + cu / nu <= 0) acc += Math.abs(integral);
      else {
        ambiguous[b] = 1;
        const low = Math.abs(integral);
        const high = Math.max(low, Math.min(integral + 2 * w * (cv / nv - D), 2 * w * (D + cu / nu) - integral));
        const est = Math.min(Math.max(linearEstimate(D, D + cu / nu - cv / nv, w), low), high);
        acc += est;
        ambiguousPart += est;
        maxError += Math.max(est - low, high - est);
      }
    }
    U += cu;
    V += cv;
  }
  return { distance: acc, maxError, ambiguous, dStart, ambiguousPart };
}

/** ∫|D| over a bucket of width w if D moved linearly from d0 to d1 (values spread evenly and interleaved). */
function linearEstimate(d0: number, d1: number, w: number): number {
  if (d0 * d1 >= 0) return (Math.abs(d0 + d1) / 2) * w;
  return ((d0 * d0 + d1 * d1) / (2 * (Math.abs(d0) + Math.abs(d1)))) * w;
}

/** The exact W1 from a grid result and the raw samples: the ambiguous buckets are integrated from their values. */
export function refineGridDistance(u: NumericGrid, v: NumericGrid, d: GridDistance, uValues: NumericArray, vValues: NumericArray): number {
  if (d.maxError === 0) return d.distance;
  const B = u.buckets;
  const w = 1 / u.scale;
  const offU = new Int32Array(B + 1);
  const offV = new Int32Array(B + 1);
  for (let b = 0; b < B; b++) {
    offU[b + 1] = offU[b] + (d.ambiguous[b] ? u.cs[2 * b] : 0);
    offV[b + 1] = offV[b] + (d.ambiguous[b] ? v.cs[2 * b] : 0);
  }
  const bufU = new Float64Array(offU[B]);
  const bufV = new Float64Array(offV[B]);
  gather(u, uValues, d.ambiguous, bufU, offU.slice(0, B));
  gather(v, vValues, d.ambiguous, bufV, offV.slice(0, B));
  let acc = d.distance - d.ambiguousPart;
  for (let b = 0; b < B; b++) {
    if (!d.ambiguous[b]) continue;
    acc += integrateSegment(bufU.subarray(offU[b], offU[b + 1]), bufV.subarray(offV[b], offV[b + 1]), b * w, (b + 1) * w, d.dStart[b], u.n, v.n, 0);
  }
  return acc;
}

/** Copies the in-range values of ambiguous buckets, as x - lo, into `buf` at `pos[bucket]`. */
function gather(g: NumericGrid, values: NumericArray, ambiguous: Uint8Array, buf: Float64Array, pos: Int32Array): void {
  for (let i = 0; i < values.length; i++) {
    const x = values[i];
    if (!(x >= g.lo && x <= g.hi)) continue;
    const k = bucketOf(g, x);
    if (ambiguous[k]) buf[pos[k]++] = x - g.lo;
  }
}

/** Below this many values (or past this depth) a segment is sorted and walked instead of bucketed again. */
const SEGMENT_SORT_BELOW = 4096;
const SEGMENT_MAX_DEPTH = 3;

/**
 * ∫ |D(x)| dx over [start, end], where D starts at d0 and steps by +1/nu at each value of
 * `xu` and -1/nv at each value of `xv` (all inside the segment). Large segments (a skewed
 * sample puts most values in a few top-level buckets) are bucketed again the same way;
 * small ones are sorted and walked.
 */
function integrateSegment(xu: Float64Array, xv: Float64Array, start: number, end: number, d0: number, nu: number, nv: number, depth: number): number {
  const n = xu.length + xv.length;
  if (n < SEGMENT_SORT_BELOW || depth >= SEGMENT_MAX_DEPTH || !(end > start)) return walkSegment(xu.sort(), xv.sort(), start, end, d0, nu, nv);
  const B = 1024;
  const w = (end - start) / B;
  const scale = B / (end - start);
  const bucket = (x: number): number => {
    const k = ((x - start) * scale) | 0;
    return k < 0 ? 0 : k >= B ? B - 1 : k;
  };
  const us = new Float64Array(2 * B);
  const vs = new Float64Array(2 * B);
  for (let i = 0; i < xu.length; i++) {
    const k = bucket(xu[i]) << 1;
    us[k] += 1;
    us[k + 1] += xu[i] - start;
  }
  for (let i = 0; i < xv.length; i++) {
    const k = bucket(xv[i]) << 1;
    vs[k] += 1;
    vs[k + 1] += xv[i] - start;
  }
  const offU = new Int32Array(B + 1);
  const offV = new Int32Array(B + 1);
  const ambiguous = new Uint8Array(B);
  const dStart = new Float64Array(B);
  let D = d0;
  let acc = 0;
  for (let b = 0; b < B; b++) {
    const cu = us[2 * b];
    const cv = vs[2 * b];
    dStart[b] = D;
    if (cu === 0 && cv === 0) acc += Math.abs(D) * w;
    else if (D - cv / nv >= 0 || D + cu / nu <= 0) {
      const t1 = (b + 1) * w;
      acc += Math.abs(D * w + (cu * t1 - us[2 * b + 1]) / nu - (cv * t1 - vs[2 * b + 1]) / nv);
    } else ambiguous[b] = 1;
    offU[b + 1] = offU[b] + (ambiguous[b] ? cu : 0);
    offV[b + 1] = offV[b] + (ambiguous[b] ? cv : 0);
    D += cu / nu - cv / nv;
  }
  const bufU = new Float64Array(offU[B]);
  const bufV = new Float64Array(offV[B]);
  const posU = offU.slice(0, B);
  const posV = offV.slice(0, B);
  for (let i = 0; i < xu.length; i++) {
    const k = bucket(xu[i]);
    if (ambiguous[k]) bufU[posU[k]++] = xu[i];
  }
  for (let i = 0; i < xv.length; i++) {
    const k = bucket(xv[i]);
    if (ambiguous[k]) bufV[posV[k]++] = xv[i];
  }
  for (let b = 0; b < B; b++) {
    if (!ambiguous[b]) continue;
    acc += integrateSegment(bufU.subarray(offU[b], offU[b + 1]), bufV.subarray(offV[b], offV[b + 1]), start + b * w, start + (b + 1) * w, dStart[b], nu, nv, depth + 1);
  }
  return acc;
}

/** The merge walk of sorted segment values from `start` to `end`, D starting at d0. */
function walkSegment(xu: Float64Array, xv: Float64Array, start: number, end: number, d0: number, nu: number, nv: number): number {
  let D = d0;
  let prev = start;
  let i = 0;
  let j = 0;
  let part = 0;
  while (i < xu.length || j < xv.length) {
    const x = j >= xv.length || (i < xu.length && xu[i] <= xv[j]) ? xu[i] : xv[j];
    if (x > prev) {
      part += Math.abs(D) * (x - prev);
      prev = x;
    }
    while (i < xu.length && xu[i] <= x) {
      D += 1 / nu;
      i++;
    }
    while (j < xv.length && xv[j] <= x) {
      D -= 1 / nv;
      j++;
    }
  }
  if (end > prev) part += Math.abs(D) * (end - prev);
  return part;
}

/** scipy.stats.wasserstein_distance(u, v): sort and walk for small inputs, the refined grid for large ones (exact either way). */
export function wassersteinDistance(u: NumericArray, v: NumericArray): number {
  if (u.length + v.length >= BUCKETED_FROM) return wassersteinBucketed(u, v);
  const su = Float64Array.from(u).sort();
  const sv = Float64Array.from(v).sort();
  return wassersteinSorted(su, sv);
}

/** The merge walk over two sorted samples (scipy's `_cdf_distance`, p = 1). */
export function wassersteinSorted(su: Float64Array, sv: Float64Array): number {
  const nu = su.length;
  const nv = sv.length;
  let i = 0;
  let j = 0;
  let acc = 0;
  let prev = NaN;
  while (i < nu || j < nv) {
    const x = j >= nv || (i < nu && su[i] <= sv[j]) ? su[i] : sv[j];
    if (prev === prev) acc += Math.abs(i / nu - j / nv) * (x - prev);
    while (i < nu && su[i] <= x) i++;
    while (j < nv && sv[j] <= x) j++;
    prev = x;
  }
  return acc;
}

/** The exact W1 of two finite samples through the grid over u's range (`buckets` of them), ambiguous buckets refined. */
export function wassersteinBucketed(u: NumericArray, v: NumericArray, buckets = GRID_BUCKETS, range?: MinMax): number {
  let lo = range?.min ?? Infinity;
  let hi = range?.max ?? -Infinity;
  if (!range) {
    for (let i = 0; i < u.length; i++) {
      if (u[i] < lo) lo = u[i];
      if (u[i] > hi) hi = u[i];
    }
  }
  const gu = createGrid(lo, hi, buckets);
  const gv = createGrid(lo, hi, buckets);
  addToGrid(gu, u);
  addToGrid(gv, v);
  return refineGridDistance(gu, gv, gridWasserstein(gu, gv), u, v);
}

/** A reference prepared once for many normed-Wasserstein comparisons: its grid and its population std. */
export interface WassersteinReference {
  grid: NumericGrid;
  std: number;
  values: NumericArray;
}

export function wassersteinReference(values: NumericArray, summary: { min: number; max: number; sum: number }, buckets = GRID_BUCKETS): WassersteinReference {
  const grid = createGrid(summary.min, summary.max, buckets);
  const ssd = addToGrid(grid, values, summary.sum / values.length);
  return { grid, std: Math.sqrt(ssd / values.length), values };
}

export interface NormedDistance {
  statistic: number;
  /** Present when the statistic is the grid estimate: |statistic - exact| <= maxError. */
  maxError?: number;
}

/**
 * Evidently `_wasserstein_distance_norm`: W1(reference, current) / max(std(reference), 0.001)
 * (np.std, ddof 0). Exact below BUCKETED_FROM values (sorts) and for windows up to
 * EXACT_WINDOW values (refined grid); larger windows keep the grid estimate when its
 * bound is within GRID_TOLERANCE reference stds, and are refined otherwise.
 */
export function wassersteinNormed(reference: NumericArray, current: NumericArray, cached?: WassersteinReference): number {
  return wassersteinNormedDetail(reference, current, cached).statistic;
}

export function wassersteinNormedDetail(reference: NumericArray, current: NumericArray, cached?: WassersteinReference): NormedDistance {
  if (!cached && reference.length + current.length < BUCKETED_FROM) {
    return { statistic: wassersteinDistance(reference, current) / Math.max(populationStd(reference), 0.001) };
  }
  const ref = cached ?? wassersteinReference(reference, numericSummary(reference));
  const grid = createGrid(ref.grid.lo, ref.grid.hi, ref.grid.buckets);
  addToGrid(grid, current);
  return normedFromGrids(ref, grid, current.length <= EXACT_WINDOW ? 0 : GRID_TOLERANCE, current);
}

/** The normed distance of a current grid against a prepared reference; refined from `current` (when given) unless the bound is within `tolerance` stds. */
export function normedFromGrids(ref: WassersteinReference, current: NumericGrid, tolerance: number, currentValues?: NumericArray): NormedDistance {
  const norm = Math.max(ref.std, 0.001);
  const d = gridWasserstein(ref.grid, current);
  if (d.maxError === 0) return { statistic: d.distance / norm };
  if (currentValues && d.maxError > tolerance * norm) return { statistic: refineGridDistance(ref.grid, current, d, ref.values, currentValues) / norm };
  return { statistic: d.distance / norm, maxError: d.maxError / norm };
}
