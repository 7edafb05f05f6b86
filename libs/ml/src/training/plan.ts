import { createHash } from 'node:crypto';
import { ValidationError } from '@mlp/contracts';
import { groupKFold, kFold, stratifiedKFold, timeSeriesSplit } from '../evaluation/cross-validation';
import type { IndexSplit, Label } from '../evaluation/metric-inputs';
import { groupSplit, randomSplit, stratifiedSplit, timeSplit } from '../evaluation/splits';
import type { Cell } from '../preprocessing/frame';
import { SeededRng } from '../random/seeded-rng';
import type { PreparedData } from './prepare';
import type { TrainingSpec } from './training-spec';

/** Row indices (into the prepared data) of the holdout split and of each CV fold. */
export interface SplitPlan {
  holdout: IndexSplit;
  /** Folds over the holdout's training rows, as indices into the prepared data. */
  folds: IndexSplit[];
  /** sha256 of the indices, recorded in TrainingSetSplit so a replay can prove it split the same way. */
  indicesSha256: string;
}

/** Seeds of a run, derived from the spec's seed so each use draws its own stream. */
export const seeds = {
  split: (seed: number) => seed,
  cv: (seed: number) => (seed + 1) >>> 0,
  search: (seed: number) => (seed + 2) >>> 0,
  trial: (seed: number, trial: number) => (seed + 1009 * (trial + 1)) >>> 0,
  final: (seed: number) => (seed + 7) >>> 0,
};

const asLabel = (v: Cell): Label => (typeof v === 'number' || typeof v === 'string' ? v : String(v));
const asTime = (v: Cell, i: number): number => {
  if (typeof v !== 'number' || !Number.isFinite(v)) throw new ValidationError(`time column value at row ${i} is ${JSON.stringify(v)}, not a timestamp`, [{ path: 'split.column', message: 'needs timestamps' }]);
  return v;
};

/** Holdout split then CV folds (or one validation split when the spec has no cv), all from the spec's seed. */
export function planSplits(prepared: PreparedData, spec: TrainingSpec): SplitPlan {
  const n = prepared.rows;
  const rng = new SeededRng(seeds.split(spec.seed));
  const { split } = spec;
  let holdout: IndexSplit;
  if (split.method === 'random') holdout = randomSplit(n, { test: split.test, rng });
  else if (split.method === 'stratified') holdout = stratifiedSplit(prepared.y, { test: split.test, rng });
  else if (split.method === 'time') holdout = timeSplit(prepared.order!.map(asTime), { test: split.test });
  else holdout = groupSplit(prepared.groups!.map(asLabel), { test: split.test, rng });

  const train = holdout.train;
  const cvRng = new SeededRng(seeds.cv(spec.seed));
  const cv = spec.cv ?? { method: 'kfold' as const, folds: 0 };
  let local: IndexSplit[];
  if (cv.folds === 0) {
    // No CV: one validation split of the training rows (the last 20% in time for time splits).
    local = [split.method === 'time' ? timeSplit(train.map((r) => asTime(prepared.order![r], r)), { test: 0.2 }) : randomSplit(train.length, { test: 0.2, rng: cvRng })];
  } else if (cv.method === 'kfold') local = kFold(train.length, cv.folds, { shuffle: true, rng: cvRng });
  else if (cv.method === 'stratified') local = stratifiedKFold(train.map((r) => prepared.y[r]), cv.folds, cvRng);
  else if (cv.method === 'group') local = groupKFold(train.map((r) => asLabel(prepared.groups![r])), cv.folds);
  else {
    // TimeSeriesSplit expects rows in time order: sort the training rows by time, split, map back.
    const times = prepared.order ?? [];
    const byTime = [...train].sort((a, b) => asTime(times[a], a) - asTime(times[b], b) || a - b);
    const at = new Map(train.map((r, i) => [r, i]));
    local = timeSeriesSplit(byTime.length, cv.folds).map((f) => ({ train: f.train.map((i) => at.get(byTime[i])!), test: f.test.map((i) => at.get(byTime[i])!) }));
  }
  const folds = local.map((f) => ({ train: f.train.map((i) => train[i]).sort((a, b) => a - b), test: f.test.map((i) => train[i]).sort((a, b) => a - b) }));
  const indicesSha256 = createHash('sha256').update(JSON.stringify({ holdout, folds })).digest('hex');
  return { holdout, folds, indicesSha256 };
}
