import type { SeededRng } from '../random/seeded-rng';
import { LOG_SQRT_2PI, logSumExp, normalMass, truncatedNormal } from './normal';
import { type Distribution, type JsonValue, choiceIndex, roundToStep } from './search-space';

/*
 * The one-dimensional Parzen estimators of TPE (Bergstra et al. 2011), as Optuna 4's univariate
 * `_ParzenEstimator` with its defaults (consider_prior, prior_weight 1, consider_magic_clip, no
 * consider_endpoints; Optuna 3 also counted the prior's centre as a neighbour for the bandwidths):
 *
 * - numeric parameters live in a transformed space: x itself, or log x for loguniform and log ints.
 *   Integers are treated as continuous on [low − step/2, high + step/2] (on the log scale
 *   [log(low − ½), log(high + ½)]) and a value's likelihood is the mass of its bin, as Optuna's
 *   discrete truncated normals.
 * - the density is a mixture of Gaussians truncated to those bounds: one kernel per observation,
 *   plus a prior kernel N(mid, (high − low)²) of weight `priorWeight`.
 * - categorical parameters get weighted counts smoothed by a uniform prior of total weight `priorWeight`.
 */

/** A numeric distribution's scale: its transformed bounds and the maps to and from it. */
interface Scale {
  low: number;
  high: number;
  forward(value: number): number;
  /** A transformed point back to a legal value of the distribution. */
  backward(x: number): number;
  /** The transformed interval of values that round to `value` (ints only). */
  bin?(value: number): [number, number];
}

function scaleOf(d: Exclude<Distribution, { kind: 'choice' }>): Scale {
  const clamp = (v: number) => Math.min(d.high, Math.max(d.low, v));
  switch (d.kind) {
    case 'uniform':
      return { low: d.low, high: d.high, forward: (v) => v, backward: clamp };
    case 'loguniform':
      return { low: Math.log(d.low), high: Math.log(d.high), forward: Math.log, backward: (x) => clamp(Math.exp(x)) };
    case 'int':
      return d.log
        ? { low: Math.log(d.low - 0.5), high: Math.log(d.high + 0.5), forward: Math.log, backward: (x) => roundToStep(d, Math.exp(x)), bin: (v) => [Math.log(v - 0.5), Math.log(v + 0.5)] }
        : { low: d.low - d.step / 2, high: d.high + d.step / 2, forward: (v) => v, backward: (x) => roundToStep(d, x), bin: (v) => [v - d.step / 2, v + d.step / 2] };
  }
}

/**
 * Optuna's `default_weights`: observations in trial order weigh 1, except that beyond 25 the older
 * ones ramp linearly from 1/n up to 1 (numpy linspace(1/n, 1, n − 25)), so that recent trials count more.
 */
export function observationWeights(n: number): number[] {
  if (n < 25) return new Array<number>(n).fill(1);
  const ramp = n - 25;
  const rampWeights = Array.from({ length: ramp }, (_, i) => (ramp === 1 ? 1 / n : 1 / n + ((1 - 1 / n) * i) / (ramp - 1)));
  return [...rampWeights, ...new Array<number>(25).fill(1)];
}

/**
 * Kernel widths for observations `mus` (Optuna's univariate rule): each kernel is as wide as the
 * larger gap to its sorted neighbours, the bounds counting as neighbours; the lowest and the highest
 * kernel use their inner gap only (no consider_endpoints).
 */
export function neighbourBandwidths(mus: readonly number[], low: number, high: number): number[] {
  const order = mus.map((_, i) => i).sort((a, b) => mus[a] - mus[b] || a - b);
  const ends = [low, ...order.map((i) => mus[i]), high];
  const sorted = order.map((_, j) => Math.max(ends[j + 1] - ends[j], ends[j + 2] - ends[j + 1]));
  if (mus.length >= 2) {
    sorted[0] = ends[2] - ends[1];
    sorted[mus.length - 1] = ends[mus.length] - ends[mus.length - 1];
  }
  const sigmas = new Array<number>(mus.length);
  order.forEach((i, j) => (sigmas[i] = sorted[j]));
  return sigmas;
}

/** A density over one parameter's values: draws candidates, scores them. */
export interface ParzenEstimator {
  sample(rng: SeededRng): JsonValue;
  logLikelihood(value: JsonValue): number;
}

export class NumericParzenEstimator implements ParzenEstimator {
  private readonly scale: Scale;
  readonly mus: number[];
  readonly sigmas: number[];
  /** Mixture weights, summing to 1; the prior kernel is last. */
  readonly weights: number[];
  /** Mass of each kernel inside the bounds (the truncation normaliser). */
  private readonly inside: number[];
  /** log(weight / (inside mass · sigma · √(2π))) of each kernel: its log density at its own centre. */
  private readonly logScale: number[];

  /** `values` are legal values of `d`, in trial order. */
  constructor(d: Exclude<Distribution, { kind: 'choice' }>, values: readonly number[], priorWeight: number) {
    const scale = (this.scale = scaleOf(d));
    const { low, high } = scale;
    const observed = values.map(scale.forward);
    // Kernel widths from neighbour gaps, then the prior kernel, which spans the whole range.
    this.mus = [...observed, 0.5 * (low + high)];
    const sigmas = [...neighbourBandwidths(observed, low, high), high - low];
    // "Magic clip": no kernel narrower than range / min(100, 1 + number of kernels), none wider than the range.
    const minSigma = (high - low) / Math.min(100, 1 + this.mus.length);
    this.sigmas = sigmas.map((s) => Math.min(high - low, Math.max(minSigma, s)));
    const raw = [...observationWeights(observed.length), priorWeight];
    const total = raw.reduce((s, w) => s + w, 0);
    this.weights = raw.map((w) => w / total);
    this.inside = this.mus.map((mu, k) => normalMass(mu, this.sigmas[k], low, high));
    this.logScale = this.weights.map((w, k) => Math.log(w / (this.inside[k] * this.sigmas[k])) - LOG_SQRT_2PI);
  }

  /** Pick a kernel by weight, draw from it truncated to the bounds, map back to a legal value. */
  sample(rng: SeededRng): number {
    const k = pickIndex(this.weights, rng);
    return this.scale.backward(truncatedNormal(rng, this.mus[k], this.sigmas[k], this.scale.low, this.scale.high));
  }

  /** log density of the mixture at a value (log mass of its bin for ints). */
  logLikelihood(value: JsonValue): number {
    const v = value as number;
    if (this.scale.bin) {
      const [a, b] = this.scale.bin(v);
      const mass = this.mus.reduce((s, mu, k) => s + (this.weights[k] * normalMass(mu, this.sigmas[k], a, b)) / this.inside[k], 0);
      return Math.log(Math.max(mass, Number.MIN_VALUE));
    }
    const x = this.scale.forward(v);
    // A density in the transformed space: for loguniform the Jacobian 1/v is the same for l and g, so it cancels in l/g.
    const terms = new Array<number>(this.mus.length);
    for (let k = 0; k < terms.length; k++) {
      const z = (x - this.mus[k]) / this.sigmas[k];
      terms[k] = this.logScale[k] - 0.5 * z * z; // log(weight · truncated normal density at x)
    }
    return logSumExp(terms);
  }
}

export class CategoricalParzenEstimator implements ParzenEstimator {
  /** Probability of each choice. */
  readonly probabilities: number[];

  /** `indices` are choice indices, in trial order. */
  constructor(
    private readonly d: Extract<Distribution, { kind: 'choice' }>,
    indices: readonly number[],
    priorWeight: number,
  ) {
    const k = d.choices.length;
    // Weighted counts, plus the prior spread evenly over the choices.
    const counts = new Array<number>(k).fill(priorWeight / k);
    observationWeights(indices.length).forEach((w, i) => (counts[indices[i]] += w));
    const total = counts.reduce((s, c) => s + c, 0);
    this.probabilities = counts.map((c) => c / total);
  }

  sample(rng: SeededRng): JsonValue {
    return this.d.choices[pickIndex(this.probabilities, rng)];
  }

  logLikelihood(value: JsonValue): number {
    return Math.log(this.probabilities[choiceIndex(this.d, value)]);
  }
}

/** Index i with probability weights[i] (weights sum to 1). */
function pickIndex(weights: readonly number[], rng: SeededRng): number {
  let u = rng.next();
  for (let i = 0; i < weights.length - 1; i++) {
    u -= weights[i];
    if (u < 0) return i;
  }
  return weights.length - 1;
}
