import type { SeededRng } from '../random/seeded-rng';
import { type Sampler, type TrialRecord, requireBatchSize } from './sampler';
import { type Distribution, type JsonValue, type Params, type SearchSpace, roundToStep } from './search-space';

/**
 * One independent draw from a distribution's prior: uniform on [low, high) (on the log scale for
 * loguniform); an int uniform over its step grid, or for `log: true` log-uniform on
 * [low − ½, high + ½] rounded to the nearest integer (as Optuna); a choice uniformly.
 */
export function sampleFromPrior(d: Distribution, rng: SeededRng): JsonValue {
  switch (d.kind) {
    case 'uniform':
      return d.low + rng.next() * (d.high - d.low);
    case 'loguniform': {
      const x = Math.exp(Math.log(d.low) + rng.next() * (Math.log(d.high) - Math.log(d.low)));
      return Math.min(d.high, Math.max(d.low, x));
    }
    case 'int': {
      if (!d.log) return d.low + rng.int(0, (d.high - d.low) / d.step + 1) * d.step;
      const lo = Math.log(d.low - 0.5);
      const hi = Math.log(d.high + 0.5);
      return roundToStep(d, Math.exp(lo + rng.next() * (hi - lo)));
    }
    case 'choice':
      return d.choices[rng.int(0, d.choices.length)];
  }
}

/** One prior draw per parameter, in the space's order. */
export function sampleSpace(space: SearchSpace, rng: SeededRng): Params {
  const params: Params = {};
  for (const [name, d] of Object.entries(space)) params[name] = sampleFromPrior(d, rng);
  return params;
}

/** Independent draws from each parameter's prior; ignores the history. */
export class RandomSampler implements Sampler {
  readonly method = 'random' as const;

  constructor(readonly space: SearchSpace) {}

  suggest(_history: readonly TrialRecord[], rng: SeededRng): Params {
    return sampleSpace(this.space, rng);
  }

  suggestBatch(_history: readonly TrialRecord[], n: number, rng: SeededRng): Params[] {
    requireBatchSize(n);
    return Array.from({ length: n }, () => sampleSpace(this.space, rng));
  }
}
