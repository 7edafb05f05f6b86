import normalCdf from '@stdlib/stats-base-dists-normal-cdf';
import type { ArmComparison, ArmStats } from '@mlp/contracts';
import { SeededRng } from '@mlp/ml';

/** z of the 97.5th normal percentile: the Wald interval is a 95% one. */
const Z_975 = 1.959963984540054;

export interface TwoProportionTest {
  difference: number;
  z: number;
  pValue: number;
  interval: [number, number];
}

/**
 * Two-sided pooled two-proportion z-test of `a.correct/a.n` against
 * `b.correct/b.n` (statsmodels' `proportions_ztest` with the pooled
 * variance), with the unpooled 95% Wald interval of the difference.
 */
export function twoProportionZTest(a: { correct: number; n: number }, b: { correct: number; n: number }): TwoProportionTest {
  const pa = a.correct / a.n;
  const pb = b.correct / b.n;
  const pooled = (a.correct + b.correct) / (a.n + b.n);
  const se = Math.sqrt(pooled * (1 - pooled) * (1 / a.n + 1 / b.n));
  const difference = pa - pb;
  const z = se === 0 ? 0 : difference / se;
  const pValue = se === 0 ? 1 : 2 * normalCdf(-Math.abs(z), 0, 1);
  const seDiff = Math.sqrt((pa * (1 - pa)) / a.n + (pb * (1 - pb)) / b.n);
  return { difference, z, pValue, interval: [difference - Z_975 * seDiff, difference + Z_975 * seDiff] };
}

/**
 * Percentile bootstrap interval of `metric(a) − metric(b)`: each of
 * `iterations` rounds resamples both arms with replacement (seeded).
 */
export function bootstrapDifference<T>(
  a: readonly T[],
  b: readonly T[],
  metric: (rows: readonly T[]) => number,
  options: { iterations?: number; seed?: number; confidence?: number } = {},
): { difference: number; interval: [number, number] } {
  const rng = new SeededRng(options.seed ?? 1);
  const iterations = options.iterations ?? 2000;
  const resample = (xs: readonly T[]) => Array.from({ length: xs.length }, () => xs[rng.int(0, xs.length)]);
  const diffs = new Float64Array(iterations);
  for (let i = 0; i < iterations; i++) diffs[i] = metric(resample(a)) - metric(resample(b));
  diffs.sort();
  const tail = (1 - (options.confidence ?? 0.95)) / 2;
  const at = (q: number) => diffs[Math.min(iterations - 1, Math.max(0, Math.round(q * (iterations - 1))))];
  return { difference: metric(a) - metric(b), interval: [at(tail), at(1 - tail)] };
}

/** The two arms with most labels compared on accuracy; a winner only when p < alpha. */
export function compareArms(arms: readonly ArmStats[], alpha = 0.05): ArmComparison {
  const ranked = [...arms].sort((x, y) => y.labelled - x.labelled || x.arm.localeCompare(y.arm));
  if (ranked.length < 2) return { metric: 'accuracy', arms: ranked, winner: null, confidence: null, reason: 'fewer than two arms with labelled predictions' };
  const [a, b] = ranked;
  const t = twoProportionZTest({ correct: a.correct, n: a.labelled }, { correct: b.correct, n: b.labelled });
  const significant = t.pValue < alpha && t.difference !== 0;
  return {
    metric: 'accuracy',
    arms: ranked,
    a: a.arm,
    b: b.arm,
    ...t,
    winner: significant ? (t.difference > 0 ? a.arm : b.arm) : null,
    confidence: significant ? 1 - t.pValue : null,
    ...(significant ? {} : { reason: `no significant difference at alpha ${alpha} (p = ${t.pValue.toPrecision(3)})` }),
  };
}
