import { ValidationError } from '@mlp/contracts';
import type { SeededRng } from '../random/seeded-rng';
import type { Params } from './search-space';

export type TrialState = 'complete' | 'pruned' | 'failed' | 'running';
export type Direction = 'minimize' | 'maximize';

/** What a sampler sees of one past or running trial. */
export interface TrialRecord {
  /**
   * Trial number (creation order). Samplers order the history by it when given, so the same trials
   * suggest the same params whatever order they finished in; without it the array order is used.
   */
  number?: number;
  params: Params;
  /** Objective value of a complete trial; for a pruned one, its last intermediate value if known. */
  value?: number;
  state: TrialState;
}

/**
 * Proposes parameters from the trials so far. Samplers keep no state of their own: the same
 * history and the same rng state give the same suggestions.
 */
export interface Sampler {
  readonly method: 'grid' | 'random' | 'tpe';
  /** The next params, or null when the sampler is exhausted (grid only). */
  suggest(history: readonly TrialRecord[], rng: SeededRng): Params | null;
  /**
   * n params to run in parallel, all from the same history (running trials aside, which only the
   * grid counts as taken): successive members use successive rng draws. Fewer than n only when a
   * grid runs out.
   */
  suggestBatch(history: readonly TrialRecord[], n: number, rng: SeededRng): Params[];
}

/** The history in trial-number order (stable for records without a number). */
export function inTrialOrder(history: readonly TrialRecord[]): TrialRecord[] {
  return history
    .map((trial, index) => ({ trial, index }))
    .sort((a, b) => (a.trial.number ?? a.index) - (b.trial.number ?? b.index) || a.index - b.index)
    .map(({ trial }) => trial);
}

export function requireBatchSize(n: number): void {
  if (!Number.isSafeInteger(n) || n < 1) throw new ValidationError(`batch size must be a positive integer, received ${n}`, [{ path: 'n', message: 'must be a positive integer' }]);
}
