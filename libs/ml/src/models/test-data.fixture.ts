import { SeededRng } from '../random/seeded-rng';

/** n rows of d features drawn uniformly from [lo, hi), row-major. */
export function uniformRows(rng: SeededRng, n: number, d: number, lo = -1, hi = 1): Float32Array {
  const x = new Float32Array(n * d);
  for (let i = 0; i < x.length; i++) x[i] = lo + (hi - lo) * rng.next();
  return x;
}

/** y_i = f(row i) for row-major x. */
export function mapRows(x: Float32Array, d: number, f: (row: Float32Array) => number): Float32Array {
  const n = x.length / d;
  const y = new Float32Array(n);
  for (let i = 0; i < n; i++) y[i] = f(x.subarray(i * d, (i + 1) * d));
  return y;
}

/** Gaussian blobs: `perClass` rows around each centre with standard deviation `sd`; labels are centre indices. */
export function blobs(rng: SeededRng, centres: number[][], perClass: number, sd: number): { x: Float32Array; y: Int32Array; n: number } {
  const d = centres[0].length;
  const n = centres.length * perClass;
  const x = new Float32Array(n * d);
  const y = new Int32Array(n);
  centres.forEach((centre, k) => {
    for (let r = 0; r < perClass; r++) {
      const i = k * perClass + r;
      y[i] = k;
      for (let j = 0; j < d; j++) x[i * d + j] = rng.normal(centre[j], sd);
    }
  });
  return { x, y, n };
}

export function meanSquaredError(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += (a[i] - b[i]) ** 2;
  return s / a.length;
}

/** Index of the largest of each row of K values. */
export function argmaxRows(p: Float32Array, k: number): number[] {
  const out: number[] = [];
  for (let i = 0; i < p.length / k; i++) {
    let best = 0;
    for (let j = 1; j < k; j++) if (p[i * k + j] > p[i * k + best]) best = j;
    out.push(best);
  }
  return out;
}
