import { parseOrThrow } from '@mlp/contracts';
import { z } from 'zod';
import type { Direction } from './sampler';

export interface MedianPrunerOptions {
  /** Default 'minimize', as Optuna. */
  direction?: Direction;
  /** No pruning until this many other trials have completed. Default 5. */
  nStartupTrials?: number;
  /** No pruning before this step. Default 0. */
  nWarmupSteps?: number;
  /** Pruning is checked only at steps nWarmupSteps + j·intervalSteps. Default 1. */
  intervalSteps?: number;
  /** Fewest completed trials with a value at the step for the median to count. Default 1. */
  nMinTrials?: number;
}

const optionsSchema = z.strictObject({
  direction: z.enum(['minimize', 'maximize']).default('minimize'),
  nStartupTrials: z.int().min(0).default(5),
  nWarmupSteps: z.int().min(0).default(0),
  intervalSteps: z.int().min(1).default(1),
  nMinTrials: z.int().min(1).default(1),
});

type Curve = readonly number[];

/** numpy's median (percentile 50, linear): the middle value, or the mean of the two middle ones. */
function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/**
 * Optuna's MedianPruner (`PercentilePruner` at 50), for a trial that has reported values at steps
 * 0..k (`trial[i]` is the value at step i, so k = trial.length − 1). The trial is pruned at step k iff
 *
 * - k ≥ nWarmupSteps and (k − nWarmupSteps) is a multiple of intervalSteps, and
 * - at least max(1, nStartupTrials) other trials have completed, and
 * - its best value so far — min (minimize) or max (maximize) of trial[0..k], NaN ignored — is worse
 *   (strictly) than the median of the completed trials' values at step k itself. Completed trials
 *   that did not report step k are left out, and NaN values too; the rule stands down when fewer than
 *   nMinTrials completed trials reported step k, or all of them reported NaN.
 *
 * A trial whose values are all NaN is pruned once the other conditions hold (as Optuna). Note the
 * comparison uses the trial's best-so-far, not its latest value: a trial that was once good is not
 * pruned for a later dip.
 */
export function medianShouldPrune(trial: Curve, completedOthers: readonly Curve[], options: MedianPrunerOptions = {}): boolean {
  return new MedianPruner(options).shouldPrune(trial, completedOthers);
}

export class MedianPruner {
  readonly options: Required<MedianPrunerOptions>;

  constructor(options: MedianPrunerOptions = {}) {
    this.options = parseOrThrow(optionsSchema, options, 'median pruner options');
  }

  /** See {@link medianShouldPrune}. */
  shouldPrune(trial: Curve, completedOthers: readonly Curve[]): boolean {
    const { direction, nStartupTrials, nWarmupSteps, intervalSteps, nMinTrials } = this.options;
    const step = trial.length - 1;
    if (step < 0 || step < nWarmupSteps || (step - nWarmupSteps) % intervalSteps !== 0) return false;
    if (completedOthers.length === 0 || completedOthers.length < nStartupTrials) return false;

    const own = trial.filter((v) => !Number.isNaN(v));
    if (own.length === 0) return true;
    const best = direction === 'minimize' ? Math.min(...own) : Math.max(...own);

    const reported = completedOthers.filter((curve) => curve.length > step).map((curve) => curve[step]);
    if (reported.length < nMinTrials) return false;
    const finite = reported.filter((v) => !Number.isNaN(v));
    if (finite.length === 0) return false;
    const m = median(finite);
    return direction === 'minimize' ? best > m : best < m;
  }
}
