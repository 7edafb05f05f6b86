import { parseOrThrow } from '@mlp/contracts';
import { z } from 'zod';
import type { SeededRng } from '../random/seeded-rng';
import { CategoricalParzenEstimator, NumericParzenEstimator, type ParzenEstimator } from './parzen-estimator';
import { sampleSpace } from './random-sampler';
import { type Direction, type Sampler, type TrialRecord, inTrialOrder, requireBatchSize } from './sampler';
import { type Distribution, type JsonValue, type Params, type SearchSpace, choiceIndex, isInDistribution } from './search-space';

export interface TpeSamplerOptions {
  /** Default 'minimize', as Optuna. */
  direction?: Direction;
  /** Complete + pruned trials sampled at random before TPE takes over. Default 10. */
  nStartup?: number;
  /** Candidates drawn from l(x) per parameter; the one with the largest l(x)/g(x) wins. Default 24. */
  nEiCandidates?: number;
  /** Fraction of the observed trials that are "good": below = min(ceil(gamma · n), maxBelow). Default 0.1. */
  gamma?: number;
  /** Default 25 (Optuna's default_gamma: min(ceil(0.1 · n), 25)). */
  maxBelow?: number;
  /** Weight of the prior kernel, against 1 per observation. Default 1. */
  priorWeight?: number;
}

const optionsSchema = z.strictObject({
  direction: z.enum(['minimize', 'maximize']).default('minimize'),
  nStartup: z.int().min(0).default(10),
  nEiCandidates: z.int().min(1).default(24),
  gamma: z.number().gt(0).max(1).default(0.1),
  maxBelow: z.int().min(1).default(25),
  priorWeight: z.number().positive().default(1),
});

export type ResolvedTpeOptions = Required<TpeSamplerOptions>;

/** l(x) and g(x) of one parameter. */
export interface ParameterModel {
  name: string;
  below: ParzenEstimator;
  above: ParzenEstimator;
}

/**
 * Tree-structured Parzen Estimator (Bergstra et al. 2011), univariate as Optuna's TPESampler
 * default: each parameter is modelled and sampled independently.
 *
 * 1. Until `nStartup` trials are complete or pruned, draw from the priors (random search).
 * 2. Rank the observed trials, best first: complete ones by value, then pruned ones (by their last
 *    value when given), which are never better than a complete trial. Failed and running trials are ignored.
 * 3. The best min(ceil(gamma · n), maxBelow) are "below" (good), the rest "above".
 * 4. Per parameter, fit a Parzen estimator l(x) to the below values and g(x) to the above ones.
 * 5. Draw `nEiCandidates` from l(x) and keep the one maximising l(x)/g(x), which maximises the
 *    expected improvement under TPE's model.
 */
export class TpeSampler implements Sampler {
  readonly method = 'tpe' as const;
  readonly options: ResolvedTpeOptions;

  constructor(
    readonly space: SearchSpace,
    options: TpeSamplerOptions = {},
  ) {
    this.options = parseOrThrow(optionsSchema, options, 'TPE sampler options');
  }

  suggest(history: readonly TrialRecord[], rng: SeededRng): Params {
    return this.suggestBatch(history, 1, rng)[0];
  }

  /** Models fitted once from the history; each member of the batch uses its own rng draws. */
  suggestBatch(history: readonly TrialRecord[], n: number, rng: SeededRng): Params[] {
    requireBatchSize(n);
    const models = this.fit(history);
    return Array.from({ length: n }, () => (models === null ? sampleSpace(this.space, rng) : this.draw(models, rng)));
  }

  /** Steps 2–4: the below/above estimators of every parameter, or null while still in the startup phase. */
  fit(history: readonly TrialRecord[]): ParameterModel[] | null {
    const { nStartup, gamma, maxBelow, priorWeight } = this.options;
    const observed = inTrialOrder(history).filter((t) => (t.state === 'complete' && Number.isFinite(t.value)) || t.state === 'pruned');
    if (observed.length < nStartup || observed.length === 0) return null;

    // Step 2: rank best first. Complete trials before pruned ones; within each, by value in the
    // study's direction (a pruned trial without a value after those with one); ties by trial order.
    const sign = this.options.direction === 'minimize' ? 1 : -1;
    const rankKey = (t: TrialRecord): [number, number] => [
      t.state === 'complete' ? 0 : 1,
      Number.isFinite(t.value) ? sign * (t.value as number) : Number.POSITIVE_INFINITY,
    ];
    const ranked = observed
      .map((trial, order) => ({ trial, order, key: rankKey(trial) }))
      .sort((a, b) => a.key[0] - b.key[0] || a.key[1] - b.key[1] || a.order - b.order);

    // Step 3: the split. Both groups keep trial order (the observation weights depend on it).
    const nBelow = Math.min(Math.ceil(gamma * observed.length), maxBelow);
    const isBelow = new Set(ranked.slice(0, nBelow).map((r) => r.trial));
    const below = observed.filter((t) => isBelow.has(t));
    const above = observed.filter((t) => !isBelow.has(t));

    // Step 4: one pair of estimators per parameter, from the trials that hold a legal value of it.
    return Object.entries(this.space).map(([name, d]) => ({
      name,
      below: estimator(d, valuesOf(below, name, d), priorWeight),
      above: estimator(d, valuesOf(above, name, d), priorWeight),
    }));
  }

  /** Step 5 for every parameter. */
  private draw(models: readonly ParameterModel[], rng: SeededRng): Params {
    const params: Params = {};
    for (const { name, below, above } of models) {
      let best: JsonValue = null;
      let bestScore = Number.NEGATIVE_INFINITY;
      for (let i = 0; i < this.options.nEiCandidates; i++) {
        const candidate = below.sample(rng);
        // log l(x) − log g(x): the first candidate with the largest ratio wins.
        const score = below.logLikelihood(candidate) - above.logLikelihood(candidate);
        if (i === 0 || score > bestScore) {
          best = candidate;
          bestScore = score;
        }
      }
      params[name] = best;
    }
    return params;
  }
}

function valuesOf(trials: readonly TrialRecord[], name: string, d: Distribution): JsonValue[] {
  return trials.map((t) => t.params[name]).filter((v) => isInDistribution(d, v));
}

function estimator(d: Distribution, values: JsonValue[], priorWeight: number): ParzenEstimator {
  if (d.kind === 'choice') return new CategoricalParzenEstimator(d, values.map((v) => choiceIndex(d, v)), priorWeight);
  return new NumericParzenEstimator(d, values as number[], priorWeight);
}
