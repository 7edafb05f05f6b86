import { kstwoSf } from './kolmogorov';
import type { NumericArray } from './types';

/**
 * Two-sample Kolmogorov–Smirnov test, two-sided, as scipy.stats.ks_2samp computes it
 * with method='auto': the exact p-value when both samples have at most 10 000
 * values (the lattice-path counts of Hodges / Viehmann, `_compute_prob_outside_square`
 * for equal sizes and `_compute_outer_prob_inside_method` otherwise), falling back to
 * the asymptotic one when the exact computation fails; otherwise the asymptotic
 * p-value kstwo.sf(D, round(n1 n2 / (n1 + n2))). In the exact branch the statistic
 * is snapped to the lattice, h / lcm(n1, n2), as scipy returns it.
 */
export interface KsResult {
  statistic: number;
  pValue: number;
  method: 'exact' | 'asymp';
}

const MAX_AUTO_N = 10000;

export function sortedCopy(values: NumericArray): Float64Array {
  const out = Float64Array.from(values);
  out.sort();
  return out;
}

export function ks2samp(data1: NumericArray, data2: NumericArray): KsResult {
  return ks2sampSorted(sortedCopy(data1), sortedCopy(data2));
}

/** ks_2samp on two already ascending-sorted samples (no NaN). */
export function ks2sampSorted(s1: Float64Array, s2: Float64Array): KsResult {
  const n1 = s1.length;
  const n2 = s2.length;
  if (n1 === 0 || n2 === 0) throw new RangeError('ks2samp: data passed must not be empty');
  // max and min of cdf1 - cdf2 over every observed value (a merge walk over distinct values)
  let i = 0;
  let j = 0;
  let maxS = -Infinity;
  let minS = Infinity;
  while (i < n1 || j < n2) {
    const v = j >= n2 || (i < n1 && s1[i] <= s2[j]) ? s1[i] : s2[j];
    while (i < n1 && s1[i] <= v) i++;
    while (j < n2 && s2[j] <= v) j++;
    const diff = i / n1 - j / n2;
    if (diff > maxS) maxS = diff;
    if (diff < minS) minS = diff;
  }
  const minClipped = Math.min(Math.max(-minS, 0), 1);
  return ksFromStatistic(minClipped > maxS ? minClipped : maxS, n1, n2);
}

/** scipy's p-value (and lattice-snapped D in the exact branch) for a two-sided D of samples of n1 and n2 values. */
export function ksFromStatistic(d: number, n1: number, n2: number): KsResult {
  const g = gcd(n1, n2);
  let method: KsResult['method'] = Math.max(n1, n2) <= MAX_AUTO_N ? 'exact' : 'asymp';
  let prob = -Infinity;
  if (method === 'exact') {
    const exact = attemptExact(n1, n2, g, d);
    d = exact.d;
    if (exact.success) prob = exact.prob;
    else method = 'asymp';
  }
  if (method === 'asymp') {
    const m = Math.max(n1, n2);
    const n = Math.min(n1, n2);
    const en = (m * n) / (m + n);
    prob = kstwoSf(d, roundHalfEven(en));
  }
  return { statistic: d, pValue: Math.min(Math.max(prob, 0), 1), method };
}

function gcd(a: number, b: number): number {
  while (b) [a, b] = [b, a % b];
  return a;
}

/** numpy's round: half to even. */
export function roundHalfEven(x: number): number {
  const r = Math.round(x);
  return Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

function attemptExact(n1: number, n2: number, g: number, d: number): { success: boolean; d: number; prob: number } {
  const lcm = (n1 / g) * n2;
  const h = roundHalfEven(d * lcm);
  d = (h * 1.0) / lcm;
  if (h === 0) return { success: true, d, prob: 1.0 };
  const prob = n1 === n2 ? probOutsideSquare(n1, h) : outerProbInside(n1, n2, g, h);
  if (!(prob >= 0 && prob <= 1)) return { success: false, d, prob };
  return { success: true, d, prob };
}

/** scipy `_compute_prob_outside_square`: P(D_{n,n} >= h/n) by a Horner-like alternating sum. */
function probOutsideSquare(n: number, h: number): number {
  let P = 0.0;
  let k = Math.floor(n / h);
  while (k >= 0) {
    let p1 = 1.0;
    for (let j = 0; j < h; j++) p1 = ((n - k * h - j) * p1) / (n + k * h + j + 1);
    P = p1 * (1.0 - P);
    k -= 1;
  }
  return 2 * P;
}

/** scipy `_compute_outer_prob_inside_method`: 1 - the share of lattice paths staying strictly inside |x/m - y/n| < h/lcm. */
function outerProbInside(m: number, n: number, g: number, h: number): number {
  if (m < n) [m, n] = [n, m];
  const mg = m / g;
  const ng = n / g;
  let minj = 0;
  let maxj = Math.min(Math.ceil(h / mg), n + 1);
  let curlen = maxj - minj;
  const lenA = Math.min(2 * maxj + 2, n + 1);
  const A = new Float64Array(lenA).fill(1);
  for (let x = minj; x < maxj; x++) A[x] = 0.0;
  for (let i = 1; i <= m; i++) {
    const lastminj = minj;
    const lastlen = curlen;
    minj = Math.max(Math.floor((ng * i - h) / mg) + 1, 0);
    minj = Math.min(minj, n);
    maxj = Math.min(Math.ceil((ng * i + h) / mg), n + 1);
    if (maxj <= minj) return 1.0;
    let val = minj === 0 ? 0.0 : 1.0;
    for (let jj = 0; jj < maxj - minj; jj++) {
      const j = jj + minj;
      val = (A[jj + minj - lastminj] * i + val * j) / (i + j);
      A[jj] = val;
    }
    curlen = maxj - minj;
    if (lastlen > curlen) for (let x = maxj - minj; x < maxj - minj + (lastlen - curlen); x++) A[x] = 1;
  }
  return A[maxj - minj - 1];
}

/**
 * ks_2samp(reference, current) with the current sample streamed: only its counts per
 * interval of the reference's sorted distinct values are kept (equal to r_j, or strictly
 * between r_{j-1} and r_j), O(distinct reference values) memory whatever its size.
 * That is exact: between two reference values F_ref is constant and F_cur rises, so
 * F_ref - F_cur over the current points in a gap is largest at a reference point
 * already visited and smallest at the gap's last point, whose F_cur the counts give.
 */
export class KsAgainstReference {
  private readonly distinct: Float64Array;
  /** Reference values <= distinct[j]. */
  private readonly referenceCumulative: Float64Array;
  private readonly equal: Float64Array;
  /** gap[j]: current values in (distinct[j-1], distinct[j]); gap[m]: above the largest. */
  private readonly gap: Float64Array;
  n = 0;

  /** `sortedReference`: the reference's finite values, ascending. */
  constructor(sortedReference: Float64Array) {
    const distinct: number[] = [];
    const cumulative: number[] = [];
    for (let i = 0; i < sortedReference.length; i++) {
      if (i === 0 || sortedReference[i] !== sortedReference[i - 1]) distinct.push(sortedReference[i]);
      cumulative[distinct.length - 1] = i + 1;
    }
    this.distinct = Float64Array.from(distinct);
    this.referenceCumulative = Float64Array.from(cumulative);
    this.equal = new Float64Array(distinct.length);
    this.gap = new Float64Array(distinct.length + 1);
  }

  /** Counts the finite values of `values`. */
  add(values: ArrayLike<number>): void {
    const d = this.distinct;
    const m = d.length;
    for (let i = 0; i < values.length; i++) {
      const x = values[i];
      if (x - x !== 0) continue;
      let lo = 0;
      let hi = m;
      while (lo < hi) {
        const mid = (lo + hi) >>> 1;
        if (d[mid] < x) lo = mid + 1;
        else hi = mid;
      }
      if (lo < m && d[lo] === x) this.equal[lo]++;
      else this.gap[lo]++;
      this.n++;
    }
  }

  result(): KsResult {
    const n1 = this.referenceCumulative[this.referenceCumulative.length - 1] ?? 0;
    const n2 = this.n;
    if (n1 === 0 || n2 === 0) throw new RangeError('ks2samp: data passed must not be empty');
    let current = 0;
    let maxS = -Infinity;
    let minS = Infinity;
    const visit = (diff: number) => {
      if (diff > maxS) maxS = diff;
      if (diff < minS) minS = diff;
    };
    for (let j = 0; j < this.distinct.length; j++) {
      if (this.gap[j] > 0) {
        current += this.gap[j];
        visit((j === 0 ? 0 : this.referenceCumulative[j - 1]) / n1 - current / n2);
      }
      current += this.equal[j];
      visit(this.referenceCumulative[j] / n1 - current / n2);
    }
    if (this.gap[this.distinct.length] > 0) visit(1 - (current + this.gap[this.distinct.length]) / n2);
    const minClipped = Math.min(Math.max(-minS, 0), 1);
    return ksFromStatistic(minClipped > maxS ? minClipped : maxS, n1, n2);
  }
}
