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
  let d = minClipped > maxS ? minClipped : maxS;
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
