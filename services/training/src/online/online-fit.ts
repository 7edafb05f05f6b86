import type { ArtifactStore } from '@mlp/artifacts';
import { ValidationError } from '@mlp/contracts';
import { fitModel, randomSplit, scoreTask, SeededRng, type Cell, type ModelSpec } from '@mlp/ml';
import { loadStoredModel, storeModel, type StoredModel } from '../engine/model-bundle';

/** The rows of an online update as monitoring stores them (`OnlineUpdateRequested.rowsArtifactKey`). */
export interface OnlineRows {
  model: string;
  version: number;
  rows: { features: Record<string, Cell>; label: Cell }[];
}

export interface OnlineFitInput {
  /** The served version's artifacts (its run's TrainingRunCompleted keys). */
  base: { modelKey: string; preprocessingKey: string; weightsSha256: string };
  /** The base run's model spec (spec.model with its best trial's params). */
  model: ModelSpec;
  rowsArtifactKey: string;
  /** A few epochs; the learning rate is the base spec's unless given. */
  epochs: number;
  learningRate?: number;
  seed: number;
}

export interface OnlineFitResult extends StoredModel {
  /** The weights the fit started from (the served version's, unchanged). */
  baseWeightsSha256: string;
  rows: number;
  /** Rows whose label the base model does not know (an unseen class, a missing label): left out. */
  skipped: number;
  loss: number[];
  /** A seeded 20% of the rows, held out of the fit: the base and the updated model scored on them. */
  evaluation: { rows: number; metrics: Record<string, number>; baseMetrics: Record<string, number> };
}

/**
 * Online learning's fit: the served version's model and preprocessing are
 * loaded by hash, the new rows go through that same fitted pipeline (it is
 * not refitted), and `fit` continues from the loaded weights for a few
 * seeded epochs. The result is stored as new content-addressed artifacts;
 * the base artifacts are only read.
 */
export async function onlineFit(artifacts: ArtifactStore, input: OnlineFitInput): Promise<OnlineFitResult> {
  const loaded = await loadStoredModel(artifacts, input.base);
  try {
    const baseWeightsSha256 = await (loaded.predictor as { weightsSha256(): Promise<string> }).weightsSha256();
    if (baseWeightsSha256 !== input.base.weightsSha256) throw new ValidationError('the base model weights do not match their recorded sha256', [{ path: 'base.weightsSha256', message: `stored ${baseWeightsSha256}` }]);
    const body = JSON.parse((await artifacts.getBuffer(input.rowsArtifactKey)).toString('utf8')) as OnlineRows;
    const { bundle } = loaded;
    const classIndex = new Map(bundle.classes.map((c, i) => [String(c), i]));
    const kept = body.rows.filter((r) => r.label !== null && (bundle.task === 'regression' ? typeof r.label === 'number' && Number.isFinite(r.label) : classIndex.has(String(r.label))));
    if (kept.length === 0) throw new ValidationError('no row of the update has a label the model can learn', [{ path: 'rows', message: 'all labels missing or unknown' }]);
    const frame = Object.fromEntries(bundle.inputColumns.map((c) => [c, kept.map((r) => r.features[c] ?? null)]));
    const { x, n, d } = loaded.pipeline.transformToMatrix(frame);
    const y = Float32Array.from(kept.map((r) => (bundle.task === 'regression' ? (r.label as number) : (classIndex.get(String(r.label)) as number))));
    if (n < 5) throw new ValidationError('an online update needs at least 5 labelled rows (one is held out for evaluation)', [{ path: 'rows', message: `${n} usable` }]);
    const split = randomSplit(n, { test: 0.2, rng: new SeededRng(input.seed) });
    const pick = (rows: number[]) => ({ x: Float32Array.from(rows.flatMap((r) => Array.from(x.subarray(r * d, (r + 1) * d)))), y: Float32Array.from(rows.map((r) => y[r])), n: rows.length });
    const [train, test] = [pick(split.train), pick(split.test)];
    const spec = { ...input.model, epochs: input.epochs, ...(input.learningRate !== undefined ? { learningRate: input.learningRate } : {}), earlyStopping: undefined } as ModelSpec;
    const nClasses = Math.max(bundle.classes.length, 1);
    const fitted = await fitModel(spec, { ...train, d, task: bundle.task, ...(bundle.task === 'multiclass' ? { nClasses } : {}) }, { seed: input.seed, from: loaded.predictor });
    try {
      const score = (values: Float32Array) => scoreTask(Array.from(test.y), { task: bundle.task, nClasses, values });
      const evaluation = { rows: test.n, metrics: score(fitted.predict(test.x, test.n)), baseMetrics: score(loaded.predictor.predict(test.x, test.n)) };
      const stored = await storeModel(artifacts, { pipeline: loaded.pipeline, featureNames: bundle.featureNames, model: fitted, epochs: [], bestEpoch: fitted.history.length - 1 }, { task: bundle.task, label: bundle.label, inputColumns: bundle.inputColumns, classes: bundle.classes });
      return { ...stored, baseWeightsSha256, rows: train.n, skipped: body.rows.length - kept.length, loss: fitted.history.map((h) => h.loss), evaluation };
    } finally {
      fitted.dispose();
    }
  } finally {
    loaded.predictor.dispose();
  }
}
