import chisquareCdf from '@stdlib/stats-base-dists-chisquare-cdf';
import normalCdf from '@stdlib/stats-base-dists-normal-cdf';
import gammainc from '@stdlib/math-base-special-gammainc';
import gammaln from '@stdlib/math-base-special-gammaln';

/**
 * The distributions behind the drift tests' p-values, from stdlib
 * (@stdlib/stats-base-dists-*), checked against scipy by the committed fixtures
 * (tools/drift-reference, 1e-6 relative).
 *
 * chi2.sf needs two things chisquare-cdf alone does not give:
 * - far in the upper tail `1 - cdf` rounds to 0, so there the upper incomplete gamma
 *   of `@stdlib/math-base-special-gammainc` (what chisquare-cdf is built on) is used;
 * - stdlib 0.3.1's gammainc takes its large-x asymptotic series for every x > 1000
 *   with a < x + 50, which is off by up to 1.6e-2 relative when a is not small
 *   against x (measured against scipy: chi2.sf(9999.3, 10000)). In that region only
 *   (statistic > 2000 with more than 100 degrees of freedom) Q(a, x) is evaluated by
 *   Legendre's continued fraction / the power series of P, which converge there.
 */

/** The standard normal CDF (scipy.stats.norm.cdf). */
export function ndtr(x: number): number {
  return normalCdf(x, 0, 1);
}

/** The chi-squared survival function with `k` degrees of freedom (scipy.stats.chi2.sf). */
export function chi2Sf(x: number, k: number): number {
  if (Number.isNaN(x) || !(k > 0)) return NaN;
  if (x <= 0) return 1;
  if (x === Infinity) return 0;
  const a = k / 2;
  const z = x / 2;
  if (z > 1000 && a > 50) return gammaincc(a, z);
  const cdf = chisquareCdf(x, k);
  // below the median the complement keeps full precision; above it take the upper tail directly
  return cdf < 0.5 ? 1 - cdf : gammainc(z, a, true, true);
}

const EPS = 2.220446049250313e-16;
const TINY = 1e-300;

/** The regularized upper incomplete gamma Q(a, x), a > 0, x > 0 (scipy.special.gammaincc): see the header for where it is used. */
export function gammaincc(a: number, x: number): number {
  const prefix = Math.exp(a * Math.log(x) - x - gammaln(a));
  if (x < a + 1) {
    // P(a, x) = prefix / a * Σ x^n / ((a + 1)...(a + n))
    let term = 1 / a;
    let sum = term;
    for (let n = 1; n < 1e6 && Math.abs(term) > Math.abs(sum) * EPS; n++) {
      term *= x / (a + n);
      sum += term;
    }
    return 1 - sum * prefix;
  }
  // Q(a, x) = prefix / (x + 1 - a - 1·(1 - a) / (x + 3 - a - ...)), modified Lentz
  let b = x + 1 - a;
  let c = 1 / TINY;
  let d = 1 / b;
  let h = d;
  for (let i = 1; i < 1e6; i++) {
    const an = -i * (i - a);
    b += 2;
    d = an * d + b;
    if (Math.abs(d) < TINY) d = TINY;
    c = b + an / c;
    if (Math.abs(c) < TINY) c = TINY;
    d = 1 / d;
    const del = d * c;
    h *= del;
    if (Math.abs(del - 1) < EPS) break;
  }
  return prefix * h;
}
