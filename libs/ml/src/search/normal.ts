import type { SeededRng } from '../random/seeded-rng';

export const LOG_SQRT_2PI = 0.5 * Math.log(2 * Math.PI);

/**
 * Complementary error function, Numerical Recipes' `erfcc` (Chebyshev fit): relative error below
 * 1.2e-7 everywhere, including the tails, which is what densities of truncated kernels need.
 */
export function erfc(x: number): number {
  const z = Math.abs(x);
  const t = 1 / (1 + 0.5 * z);
  const poly =
    -1.26551223 +
    t * (1.00002368 + t * (0.37409196 + t * (0.09678418 + t * (-0.18628806 + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277))))))));
  const r = t * Math.exp(-z * z + poly);
  return x >= 0 ? r : 2 - r;
}

/** Standard normal CDF Φ(z). */
export function normalCdf(z: number): number {
  return 0.5 * erfc(-z / Math.SQRT2);
}

/**
 * P(a ≤ X ≤ b) for X ~ N(mu, sigma²). Computed from the lower or the upper tail, whichever side
 * the interval lies on, so that intervals far in a tail keep their relative precision.
 */
export function normalMass(mu: number, sigma: number, a: number, b: number): number {
  const za = (a - mu) / sigma;
  const zb = (b - mu) / sigma;
  if (za > 0) return 0.5 * (erfc(za / Math.SQRT2) - erfc(zb / Math.SQRT2)); // upper tail: Q(za) − Q(zb)
  return normalCdf(zb) - normalCdf(za);
}

/** log(Σ exp(xs)), stable for large and very negative terms. */
export function logSumExp(xs: readonly number[]): number {
  let max = Number.NEGATIVE_INFINITY;
  for (const x of xs) if (x > max) max = x;
  if (!Number.isFinite(max)) return max;
  let sum = 0;
  for (const x of xs) sum += Math.exp(x - max);
  return max + Math.log(sum);
}

/**
 * One draw of N(mu, sigma²) truncated to [low, high], by rejection. The TPE kernels have mu inside
 * the bounds and sigma at most high − low, so a draw lands inside with probability above 1/3; after
 * 100 misses (probability below 1e-17) the last draw is clamped.
 */
export function truncatedNormal(rng: SeededRng, mu: number, sigma: number, low: number, high: number): number {
  let x = mu;
  for (let attempt = 0; attempt < 100; attempt++) {
    x = rng.normal(mu, sigma);
    if (x >= low && x <= high) return x;
  }
  return Math.min(high, Math.max(low, x));
}
