/**
 * Univariate feature scores used by {@link FeatureSelector}: population
 * variance, Pearson correlation and a histogram estimate of mutual
 * information.
 */
import { quantile } from '../preprocessing/frame';

/** Population variance (ddof = 0); exactly 0 when every value is equal (or there are none). */
export function populationVariance(xs: readonly number[]): number {
  if (xs.length === 0 || xs.every((x) => x === xs[0])) return 0;
  const m = xs.reduce((s, x) => s + x, 0) / xs.length;
  return xs.reduce((s, x) => s + (x - m) ** 2, 0) / xs.length;
}

/** Pearson's r of paired values; 0 when either side is constant or there are fewer than 2 pairs. */
export function pearsonCorrelation(xs: readonly number[], ys: readonly number[]): number {
  const n = xs.length;
  if (n < 2) return 0;
  const mx = xs.reduce((s, x) => s + x, 0) / n;
  const my = ys.reduce((s, y) => s + y, 0) / n;
  let sxy = 0;
  let sxx = 0;
  let syy = 0;
  for (let i = 0; i < n; i++) {
    const dx = xs[i] - mx;
    const dy = ys[i] - my;
    sxy += dx * dy;
    sxx += dx * dx;
    syy += dy * dy;
  }
  if (sxx === 0 || syy === 0) return 0;
  return Math.max(-1, Math.min(1, sxy / Math.sqrt(sxx * syy)));
}

/**
 * Bin of each value: with at most `bins` distinct values, one bin per value;
 * otherwise `bins` equal-frequency bins whose edges are the numpy-linear
 * quantiles k/bins of the values (duplicate edges merged, like sklearn's
 * KBinsDiscretizer 'quantile'; a value on an edge goes to the upper bin).
 * `null` (missing) gets bin −1.
 */
export function equalFrequencyBins(values: readonly (number | null)[], bins: number): number[] {
  const sorted = values.filter((v): v is number => v !== null).sort((a, b) => a - b);
  const distinct = sorted.filter((v, i) => i === 0 || v !== sorted[i - 1]);
  let edges: number[];
  if (distinct.length <= bins) {
    edges = distinct.slice(1);
  } else {
    const min = sorted[0];
    const max = sorted[sorted.length - 1];
    const qs = Array.from({ length: bins - 1 }, (_, j) => quantile(sorted, (j + 1) / bins));
    edges = [...new Set(qs)].filter((e) => e > min && e < max);
  }
  return values.map((v) => (v === null ? -1 : countAtMost(edges, v)));
}

/** Mutual information in nats of two discrete codings of the same rows: Σ p(x,y) ln(p(x,y) / (p(x) p(y))). */
export function mutualInformation(xCodes: readonly number[], yCodes: readonly number[]): number {
  const n = xCodes.length;
  const joint = new Map<string, number>();
  const px = new Map<number, number>();
  const py = new Map<number, number>();
  for (let i = 0; i < n; i++) {
    const key = `${xCodes[i]},${yCodes[i]}`;
    joint.set(key, (joint.get(key) ?? 0) + 1);
    px.set(xCodes[i], (px.get(xCodes[i]) ?? 0) + 1);
    py.set(yCodes[i], (py.get(yCodes[i]) ?? 0) + 1);
  }
  let mi = 0;
  for (const [key, nxy] of joint) {
    const [x, y] = key.split(',').map(Number);
    mi += (nxy / n) * Math.log((n * nxy) / (px.get(x)! * py.get(y)!));
  }
  return Math.max(0, mi);
}

/** Number of sorted edges ≤ v (numpy searchsorted side='right'). */
function countAtMost(edges: readonly number[], v: number): number {
  let lo = 0;
  let hi = edges.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (edges[mid] <= v) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
