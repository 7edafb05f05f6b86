import { chi2Sf, ndtr } from './special';
import { isIntegerTyped, type NumericArray, type PairCounts } from './types';

/*
 * Evidently's drift tests (evidently/legacy/calculations/stattests/*.py), on value
 * counts (categorical data, or numeric data with few values) and on numeric typed
 * arrays. Each function names the Evidently and scipy code it reproduces.
 */

export interface PValueResult {
  statistic: number;
  pValue: number;
}

/**
 * Evidently `_chi_stat_test`: scipy.stats.chisquare(f_obs = current counts,
 * f_exp = reference counts × n_cur / n_ref) over the union of values, df = k - 1.
 * A value seen only in the current sample has f_exp = 0, so the statistic is +inf and p = 0.
 */
export function chiSquareTest(c: PairCounts): PValueResult {
  const kNorm = c.currentSize / c.referenceSize;
  let stat = 0;
  for (let i = 0; i < c.keys.length; i++) {
    const exp = c.reference[i] * kNorm;
    const d = c.current[i] - exp;
    stat += (d * d) / exp;
  }
  return { statistic: stat, pValue: chi2Sf(stat, c.keys.length - 1) };
}

/**
 * Evidently `_z_stat_test`: a two-proportion Z-test of "value != sorted(keys)[0]",
 * p = 2 (1 - Φ(|z|)) computed as Evidently does (so tiny p-values round the same way);
 * p = 1 when both samples hold one and the same value.
 */
export function zTest(c: PairCounts): PValueResult {
  if (c.keys.length === 1) return { statistic: 0, pValue: 1 };
  const n1 = c.referenceSize;
  const n2 = c.currentSize;
  // the first key maps to 0, every other to 1
  const p1 = (n1 - c.reference[0]) / n1;
  const p2 = (n2 - c.current[0]) / n2;
  const P = (p1 * n1 + p2 * n2) / (n1 + n2);
  const z = (p1 - p2) / Math.sqrt(P * (1 - P) * (1.0 / n1 + 1.0 / n2));
  return { statistic: z, pValue: 2 * (1 - ndtr(Math.abs(z))) };
}

/** Bin shares of two samples (Evidently `get_binned_data`): reference and current percents per bin or per value. */
export interface BinnedShares {
  reference: Float64Array;
  current: Float64Array;
}

/** np.histogram_bin_edges(data, bins='sturges') from the data's min, max and size (numpy's _get_outer_edges, linspace). */
export function sturgesEdges(min: number, max: number, size: number, integerData: boolean): Float64Array {
  let first = min;
  let last = max;
  if (first === last) {
    first -= 0.5;
    last += 0.5;
  }
  let nBins = 1;
  if (size > 0) {
    let width = (max - min) / (Math.log2(size) + 1.0);
    if (width) {
      if (integerData && width < 1) width = 1;
      nBins = Math.ceil((last - first) / width);
    }
  }
  return linspace(first, last, nBins + 1);
}

/** np.linspace(start, stop, num) with endpoint, element for element. */
export function linspace(start: number, stop: number, num: number): Float64Array {
  const out = new Float64Array(num);
  const div = num - 1;
  const delta = stop - start;
  if (div <= 0) {
    if (num === 1) out[0] = start;
    return out;
  }
  const step = delta / div;
  if (step === 0) for (let i = 0; i < num; i++) out[i] = ((i / div) * delta) + start;
  else for (let i = 0; i < num; i++) out[i] = i * step + start;
  out[num - 1] = stop;
  return out;
}

/**
 * np.histogram(values, bins=edges)[0] for explicit edges: bin i holds edges[i] <= x < edges[i+1]
 * (the last bin closed), values outside are not counted. One pass: a uniform-width guess
 * corrected against the actual edge values, so it agrees with numpy's searchsorted.
 */
export function histogramCounts(values: NumericArray, edges: Float64Array): Float64Array {
  const nb = edges.length - 1;
  const counts = new Float64Array(nb);
  const first = edges[0];
  const last = edges[nb];
  const norm = nb / (last - first);
  for (let i = 0; i < values.length; i++) {
    const x = values[i];
    if (!(x >= first && x <= last)) continue;
    let k = Math.floor((x - first) * norm);
    if (k >= nb) k = nb - 1;
    else if (k < 0) k = 0;
    while (k > 0 && x < edges[k]) k--;
    while (k < nb - 1 && x >= edges[k + 1]) k++;
    counts[k]++;
  }
  return counts;
}

export interface MinMax {
  min: number;
  max: number;
}

export function minMax(values: NumericArray, into: MinMax = { min: Infinity, max: -Infinity }): MinMax {
  let { min, max } = into;
  for (let i = 0; i < values.length; i++) {
    const x = values[i];
    if (x < min) min = x;
    if (x > max) max = x;
  }
  into.min = min;
  into.max = max;
  return into;
}

/**
 * Evidently `get_binned_data(reference, current, Numerical, n, feel_zeroes)` for a numeric
 * column with more than 20 unique reference values: Sturges bins over both samples
 * together, each sample's counts divided by its size.
 */
export function numericBinnedShares(reference: NumericArray, current: NumericArray): BinnedShares {
  const mm = minMax(current, minMax(reference));
  const edges = sturgesEdges(mm.min, mm.max, reference.length + current.length, isIntegerTyped(reference) && isIntegerTyped(current));
  const r = histogramCounts(reference, edges);
  const c = histogramCounts(current, edges);
  for (let i = 0; i < r.length; i++) {
    r[i] /= reference.length;
    c[i] /= current.length;
  }
  return { reference: r, current: c };
}

/** Evidently `get_binned_data` for categorical data (or numeric with <= 20 unique reference values): value shares over the union of values. */
export function countShares(c: PairCounts): BinnedShares {
  const r = new Float64Array(c.keys.length);
  const k = new Float64Array(c.keys.length);
  for (let i = 0; i < r.length; i++) {
    r[i] = c.reference[i] / c.referenceSize;
    k[i] = c.current[i] / c.currentSize;
  }
  return { reference: r, current: k };
}

/** Evidently's `feel_zeroes`: zero shares become min(non-zero)/1e6 when that minimum is <= 1e-4, else 1e-4 (a copy). */
export function fillZeroes(shares: Float64Array): Float64Array {
  const out = Float64Array.from(shares);
  let min = Infinity;
  for (const v of out) if (v !== 0 && v < min) min = v;
  const fill = min <= 0.0001 ? min / 10 ** 6 : 0.0001;
  for (let i = 0; i < out.length; i++) if (out[i] === 0) out[i] = fill;
  return out;
}

/** scipy.special.rel_entr. */
function relEntr(x: number, y: number): number {
  if (Number.isNaN(x) || Number.isNaN(y)) return NaN;
  if (x > 0 && y > 0) return x * Math.log(x / y);
  if (x === 0 && y >= 0) return 0;
  return Infinity;
}

function sum(a: Float64Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i];
  return s;
}

/** Evidently `_psi`: Σ (ref - cur) ln(ref / cur) over the shares after feel_zeroes. */
export function psi(shares: BinnedShares): number {
  const r = fillZeroes(shares.reference);
  const c = fillZeroes(shares.current);
  let s = 0;
  for (let i = 0; i < r.length; i++) s += (r[i] - c[i]) * Math.log(r[i] / c[i]);
  return s;
}

/** Evidently `_kl_div`: scipy.stats.entropy(ref, cur), both normalized, after feel_zeroes. */
export function klDivergence(shares: BinnedShares): number {
  const r = fillZeroes(shares.reference);
  const c = fillZeroes(shares.current);
  const sr = sum(r);
  const sc = sum(c);
  let s = 0;
  for (let i = 0; i < r.length; i++) s += relEntr(r[i] / sr, c[i] / sc);
  return s;
}

/** Evidently `_jensenshannon`: scipy.spatial.distance.jensenshannon(ref, cur) on the shares without feel_zeroes (natural log). */
export function jensenShannon(shares: BinnedShares): number {
  const { reference: p0, current: q0 } = shares;
  const sp = sum(p0);
  const sq = sum(q0);
  let left = 0;
  let right = 0;
  for (let i = 0; i < p0.length; i++) {
    const p = p0[i] / sp;
    const q = q0[i] / sq;
    const m = (p + q) / 2.0;
    left += relEntr(p, m);
    right += relEntr(q, m);
  }
  return Math.sqrt((left + right) / 2.0);
}

/** Evidently `_hellinger_distance` for categorical data: sqrt(1 - clip(Σ sqrt(p q), 0, 1)) over value shares. */
export function hellingerCounts(c: PairCounts): number {
  let bc = 0;
  for (let i = 0; i < c.keys.length; i++) bc += Math.sqrt((c.reference[i] / c.referenceSize) * (c.current[i] / c.currentSize));
  return Math.sqrt(1 - Math.min(Math.max(bc, 0), 1));
}

/**
 * Evidently `_hellinger_distance` for numeric data: Sturges edges over the *unique* values
 * of both samples, density histograms, Σ sqrt(p q) × bin width. `uniqueCount`, `min` and
 * `max` describe the union of unique values.
 */
export function hellingerNumeric(reference: NumericArray, current: NumericArray, uniqueCount: number, min: number, max: number): number {
  const edges = sturgesEdges(min, max, uniqueCount, false);
  return hellingerBinned(histogramCounts(reference, edges), histogramCounts(current, edges), edges);
}

/** The numeric Hellinger distance from both samples' counts over `edges`. */
export function hellingerBinned(reference: Float64Array, current: Float64Array, edges: Float64Array): number {
  const h1 = densities(reference, edges);
  const h2 = densities(current, edges);
  const binWidth = (edges[edges.length - 1] - edges[0]) / (edges.length - 1);
  let bc = 0;
  for (let i = 0; i < h1.length; i++) bc += Math.sqrt(h1[i] * h2[i]) * binWidth;
  return Math.sqrt(1 - Math.min(Math.max(bc, 0), 1));
}

/** np.histogram(..., density=True): n / diff(edges) / n.sum(). */
function densities(counts: Float64Array, edges: Float64Array): Float64Array {
  const total = sum(counts);
  const out = new Float64Array(counts.length);
  for (let i = 0; i < counts.length; i++) out[i] = counts[i] / (edges[i + 1] - edges[i]) / total;
  return out;
}

/** Population standard deviation (np.std, ddof 0), two passes. */
export function populationStd(values: NumericArray): number {
  const n = values.length;
  let s = 0;
  for (let i = 0; i < n; i++) s += values[i];
  const mean = s / n;
  let ss = 0;
  for (let i = 0; i < n; i++) {
    const d = values[i] - mean;
    ss += d * d;
  }
  return Math.sqrt(ss / n);
}

/**
 * scipy.stats.anderson_ksamp([reference, current]) with the default midrank variant
 * (Scholz & Stephens 1987, eq. 7): the normalized statistic and the p-value interpolated
 * from the tabulated critical values, floored at 0.001 and capped at 0.25 as scipy does
 * (Evidently `_anderson_darling` uses that capped p-value).
 */
export function andersonKsamp(reference: NumericArray, current: NumericArray): PValueResult {
  const samples = [Float64Array.from(reference).sort(), Float64Array.from(current).sort()];
  const k = samples.length;
  const n = samples.map((s) => s.length);
  if (n.some((x) => x === 0)) throw new RangeError('anderson_ksamp encountered sample without observations');
  const N = n[0] + n[1];
  const Z = new Float64Array(N);
  Z.set(samples[0]);
  Z.set(samples[1], n[0]);
  Z.sort();
  // unique values with their left/right positions in Z
  const starLeft: number[] = [];
  const starRight: number[] = [];
  const star: number[] = [];
  for (let i = 0; i < N; ) {
    let j = i;
    while (j < N && Z[j] === Z[i]) j++;
    star.push(Z[i]);
    starLeft.push(i);
    starRight.push(j);
    i = j;
  }
  if (star.length < 2) throw new RangeError('anderson_ksamp needs more than one distinct observation');
  const allDistinct = N === star.length;
  let A2akN = 0;
  for (let s = 0; s < k; s++) {
    const sample = samples[s];
    let inner = 0;
    let pl = 0;
    let pr = 0;
    for (let t = 0; t < star.length; t++) {
      const z = star[t];
      while (pl < sample.length && sample[pl] < z) pl++;
      while (pr < sample.length && sample[pr] <= z) pr++;
      const lj = allDistinct ? 1 : starRight[t] - starLeft[t];
      const Bj = starLeft[t] + lj / 2;
      const Mij = pr - (pr - pl) / 2;
      const num = N * Mij - Bj * n[s];
      inner += ((lj / N) * num * num) / (Bj * (N - Bj) - (N * lj) / 4);
    }
    A2akN += inner / n[s];
  }
  A2akN *= (N - 1) / N;

  let H = 0;
  for (const x of n) H += 1 / x;
  // hs_cs = cumsum(1 / arange(N-1, 1, -1)); h = hs_cs[-1] + 1; g = sum(hs_cs / arange(2, N))
  let cum = 0;
  let g = 0;
  for (let i = 0; i < N - 2; i++) {
    cum += 1 / (N - 1 - i);
    g += cum / (i + 2);
  }
  const h = cum + 1;
  const a = (4 * g - 6) * (k - 1) + (10 - 6 * g) * H;
  const b = (2 * g - 4) * k ** 2 + 8 * h * k + (2 * g - 14 * h - 4) * H - 8 * h + 4 * g - 6;
  const c = (6 * h + 2 * g - 2) * k ** 2 + (4 * h - 4 * g + 6) * k + (2 * h - 6) * H + 4 * h;
  const d = (2 * h + 6) * k ** 2 - 4 * h * k;
  const sigmasq = (a * N ** 3 + b * N ** 2 + c * N + d) / ((N - 1) * (N - 2) * (N - 3));
  const m = k - 1;
  const A2 = (A2akN - m) / Math.sqrt(sigmasq);
  const b0 = [0.675, 1.281, 1.645, 1.96, 2.326, 2.573, 3.085];
  const b1 = [-0.245, 0.25, 0.678, 1.149, 1.822, 2.364, 3.615];
  const b2 = [-0.105, -0.305, -0.362, -0.391, -0.396, -0.345, -0.154];
  const critical = b0.map((x, i) => x + b1[i] / Math.sqrt(m) + b2[i] / m);
  const sig = [0.25, 0.1, 0.05, 0.025, 0.01, 0.005, 0.001];
  let p: number;
  if (A2 < Math.min(...critical)) p = 0.25;
  else if (A2 > Math.max(...critical)) p = 0.001;
  else {
    const [c2, c1, c0] = quadraticFit(critical, sig.map(Math.log));
    p = Math.exp((c2 * A2 + c1) * A2 + c0);
  }
  return { statistic: A2, pValue: p };
}

/** Least-squares quadratic through (x, y) (np.polyfit(x, y, 2)): [c2, c1, c0], by centred normal equations. */
function quadraticFit(x: readonly number[], y: readonly number[]): [number, number, number] {
  const n = x.length;
  const mx = x.reduce((s, v) => s + v, 0) / n;
  // fit in t = x - mx for conditioning, then expand
  let s0 = 0;
  let s1 = 0;
  let s2 = 0;
  let s3 = 0;
  let s4 = 0;
  let t0 = 0;
  let t1 = 0;
  let t2 = 0;
  for (let i = 0; i < n; i++) {
    const t = x[i] - mx;
    const tt = t * t;
    s0 += 1;
    s1 += t;
    s2 += tt;
    s3 += tt * t;
    s4 += tt * tt;
    t0 += y[i];
    t1 += y[i] * t;
    t2 += y[i] * tt;
  }
  // solve [[s4 s3 s2],[s3 s2 s1],[s2 s1 s0]] [a b c] = [t2 t1 t0]
  const M = [
    [s4, s3, s2, t2],
    [s3, s2, s1, t1],
    [s2, s1, s0, t0],
  ];
  for (let col = 0; col < 3; col++) {
    let piv = col;
    for (let r = col + 1; r < 3; r++) if (Math.abs(M[r][col]) > Math.abs(M[piv][col])) piv = r;
    [M[col], M[piv]] = [M[piv], M[col]];
    for (let r = 0; r < 3; r++) {
      if (r === col) continue;
      const f = M[r][col] / M[col][col];
      for (let cc = col; cc < 4; cc++) M[r][cc] -= f * M[col][cc];
    }
  }
  const A = M[0][3] / M[0][0];
  const Bc = M[1][3] / M[1][1];
  const C = M[2][3] / M[2][2];
  // A (x - mx)^2 + Bc (x - mx) + C
  return [A, Bc - 2 * A * mx, A * mx * mx - Bc * mx + C];
}
