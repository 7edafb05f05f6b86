import { kFold } from '../evaluation/cross-validation';
import { classWeights, randomOverSample, randomUnderSample, sampleWeights } from '../imbalance';
import { ValidationError } from '@mlp/contracts';
import { CHUNK_ROWS, fitModel, type FittedModel, type ModelSpec, type RowSource } from '../models';
import type { Pipeline } from '../preprocessing/pipeline';
import { SeededRng } from '../random/seeded-rng';
import { pipelineFromSpec } from './preprocessing-from-spec';
import { type Frame, isAllRows } from '../preprocessing/frame';
import { takeRows, toMatrix, type PreparedData } from './prepare';
import { scoreTask, type ModelOutput } from './scoring';
import type { TrainingSpec } from './training-spec';

export type TrialParams = Record<string, unknown>;

/** The model spec of a trial: the spec's model with the trial's parameters laid over it (`lr` means learningRate). */
export function modelSpecFor(spec: TrainingSpec, params: TrialParams): ModelSpec {
  const { lr, ...rest } = params;
  return { ...spec.model, ...rest, ...(lr !== undefined ? { learningRate: lr } : {}) } as ModelSpec;
}

export interface EpochLog {
  epoch: number;
  metrics: Record<string, number>;
}

export interface FitHooks {
  onEpoch?: (epoch: EpochLog) => void | Promise<void>;
  shouldStop?: () => boolean;
}

/** A fitted preprocessing pipeline and model, ready to predict raw feature rows. */
export interface TrainedPipeline {
  pipeline: Pipeline;
  featureNames: string[];
  model: FittedModel;
  epochs: EpochLog[];
  bestEpoch: number;
}

/** Folds for out-of-fold target encoding inside a training set (never crossing into validation rows). */
const INNER_FOLDS = 5;

/**
 * Fits preprocessing on `trainRows` only (target encoding out-of-fold within
 * them), resamples or weights classes on those rows only, then fits the model,
 * early-stopping on `valRows` when given. Validation rows are only ever
 * transformed with what the training rows taught.
 */
export async function fitOnRows(
  prepared: PreparedData,
  spec: TrainingSpec,
  trainRows: readonly number[],
  valRows: readonly number[] | undefined,
  model: ModelSpec,
  seed: number,
  hooks: FitHooks = {},
): Promise<TrainedPipeline> {
  const rng = new SeededRng(seed);
  // All rows (a final fit without early stopping): the prepared columns themselves, not a copy.
  const allRows = isAllRows(trainRows, prepared.rows);
  const frame = allRows ? prepared.features : takeRows(prepared.features, trainRows);
  const y = allRows ? prepared.y : trainRows.map((r) => prepared.y[r]);
  const pipeline = pipelineFromSpec(spec, prepared.dates);
  // Without a cross-fitted step, fit then transform straight into the matrix (no transformed copy of the
  // frame), and draw no inner folds (on a million rows they are tens of MB of index arrays).
  const innerFolds = () => (trainRows.length >= 2 * INNER_FOLDS ? kFold(trainRows.length, INNER_FOLDS, { shuffle: true, rng }).map((f) => f.test) : [trainRows.map((_, i) => i)]);
  const transformed = pipeline.hasOutOfFoldStep() ? pipeline.fitTransformOutOfFold(frame, y, innerFolds()) : (pipeline.fit(frame, y), undefined);
  const featureNames = pipeline.featureNames();

  // Imbalance: only ever on the training rows of this fit.
  let rows: number[] | undefined;
  let weights: Float32Array | undefined;
  if (spec.imbalance?.method === 'oversample') rows = randomOverSample(trainRows.map((_, i) => i), y, rng);
  else if (spec.imbalance?.method === 'undersample') rows = randomUnderSample(trainRows.map((_, i) => i), y, rng);
  if (rows && isAllRows(rows, trainRows.length)) rows = undefined;
  const { x, n, d } = transformed ? toMatrix(rows ? takeRows(transformed, rows) : transformed, featureNames) : rowSource(pipeline, prepared.features, rows ? rows.map((r) => trainRows[r]) : trainRows);
  const yRows = rows ? rows.map((r) => y[r]) : y;
  if (spec.imbalance?.method === 'class_weight') weights = Float32Array.from(sampleWeights(yRows, classWeights(yRows)));

  let validation: { x: Float32Array; y: Float32Array; n: number } | undefined;
  if (valRows && valRows.length > 0) {
    const v = pipeline.transformToMatrix(takeRows(prepared.features, valRows));
    validation = { x: v.x, y: Float32Array.from(valRows.map((r) => prepared.y[r])), n: v.n };
  }
  const epochs: EpochLog[] = [];
  const fitted = await fitModel(
    model,
    { x, y: Float32Array.from(yRows), n, d, task: spec.task, nClasses: Math.max(prepared.classes.length, 1), ...(weights ? { sampleWeight: weights } : {}), ...(validation ? { validation } : {}) },
    {
      seed,
      onEpoch: async (epoch, logs) => {
        const entry = { epoch, metrics: cleanLogs(logs) };
        epochs.push(entry);
        await hooks.onEpoch?.(entry);
        // tfjs trains synchronously between epochs: let timers and I/O (e.g. a cancel request) run.
        await new Promise((resolve) => setImmediate(resolve));
      },
      ...(hooks.shouldStop ? { shouldStop: hooks.shouldStop } : {}),
    },
  );
  return { pipeline, featureNames, model: fitted, epochs, bestEpoch: fitted.bestEpoch };
}

/** Rows checked (and preprocessed) at a time by {@link rowSource}: as many as fitModel's chunks. */
const SOURCE_CHUNK = CHUNK_ROWS;

/**
 * The model's input without the n×d matrix (for more rows than one chunk;
 * fewer get the matrix itself): each chunk of rows fitModel asks
 * for is taken from the typed columns and put through the fitted pipeline
 * (the same values a full matrix would hold, so the same weights). Every row
 * is checked once first, in row order, so a missing or non-finite feature is
 * an error naming it and its row before any epoch runs.
 */
function rowSource(pipeline: Pipeline, features: Frame, source: readonly number[]): { x: Float32Array | RowSource; n: number; d: number } {
  const d = pipeline.featureNames().length;
  const rowsOf = (indices: readonly number[]) => {
    const real = indices.map((i) => source[i]);
    return pipeline.transformToMatrix(takeRows(features, real), undefined, real).x;
  };
  const names = pipeline.featureNames();
  let whole: Float32Array | undefined;
  for (let start = 0; start < source.length; start += SOURCE_CHUNK) {
    const indices = Array.from({ length: Math.min(SOURCE_CHUNK, source.length - start) }, (_, i) => start + i);
    const x = rowsOf(indices);
    if (start === 0 && indices.length === source.length) whole = x;
    for (let k = 0; k < x.length; k++) {
      if (Number.isFinite(x[k])) continue;
      const name = names[k % d];
      throw new ValidationError(`feature '${name}' is ${x[k]} at row ${source[indices[Math.floor(k / d)]]} after preprocessing; its scale overflows float32`, [
        { path: 'preprocessing', message: `column '${name}' is not finite after preprocessing` },
      ]);
    }
  }
  // One chunk's worth of rows: the checked matrix is all of x, so no epoch transforms again.
  return { x: whole ?? { rows: rowsOf }, n: source.length, d };
}

function cleanLogs(logs: Record<string, number | undefined>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [k, v] of Object.entries(logs)) if (typeof v === 'number' && Number.isFinite(v)) out[k] = v;
  return out;
}

/** Model output for raw feature rows, through the fitted pipeline. */
export function predictRows(trained: TrainedPipeline, prepared: PreparedData, rows: readonly number[], task: TrainingSpec['task']): ModelOutput {
  const { x, n } = trained.pipeline.transformToMatrix(takeRows(prepared.features, rows));
  return { task, nClasses: Math.max(prepared.classes.length, 1), values: trained.model.predict(x, n) };
}

export interface TrialResult {
  status: 'complete' | 'pruned';
  /** Mean per metric over the folds that ran. */
  metrics: Record<string, number>;
  std: Record<string, number>;
  folds: Record<string, number>[];
  epochs: { fold: number; epochs: EpochLog[] }[];
}

/**
 * One trial: fit and score every CV fold. After each fold `afterFold` sees the
 * fold scores so far and may prune the trial (median rule) before the last fold.
 */
export async function runTrial(
  prepared: PreparedData,
  spec: TrainingSpec,
  folds: readonly { train: number[]; test: number[] }[],
  params: TrialParams,
  seed: number,
  hooks: FitHooks & { afterFold?: (fold: number, scores: Record<string, number>[], epochs: EpochLog[]) => Promise<boolean> | boolean } = {},
): Promise<TrialResult> {
  const model = modelSpecFor(spec, params);
  const scores: Record<string, number>[] = [];
  const allEpochs: TrialResult['epochs'] = [];
  for (let k = 0; k < folds.length; k++) {
    const f = folds[k];
    const trained = await fitOnRows(prepared, spec, f.train, f.test, model, (seed + k) >>> 0, hooks);
    try {
      scores.push(scoreTask(f.test.map((r) => prepared.y[r]), predictRows(trained, prepared, f.test, spec.task)));
    } finally {
      trained.model.dispose();
    }
    allEpochs.push({ fold: k, epochs: trained.epochs });
    if (hooks.shouldStop?.()) break;
    const prune = await hooks.afterFold?.(k, scores, trained.epochs);
    if (prune && k < folds.length - 1) {
      return { status: 'pruned', ...summarize(scores), folds: scores, epochs: allEpochs };
    }
  }
  return { status: 'complete', ...summarize(scores), folds: scores, epochs: allEpochs };
}

/** Mean and population std per metric over the folds that have it. */
export function summarize(folds: readonly Record<string, number>[]): { metrics: Record<string, number>; std: Record<string, number> } {
  const names = [...new Set(folds.flatMap((f) => Object.keys(f)))].sort();
  const metrics: Record<string, number> = {};
  const std: Record<string, number> = {};
  for (const m of names) {
    const xs = folds.map((f) => f[m]).filter((v): v is number => typeof v === 'number');
    const mean = xs.reduce((a, b) => a + b, 0) / xs.length;
    metrics[m] = mean;
    std[m] = Math.sqrt(xs.reduce((a, b) => a + (b - mean) ** 2, 0) / xs.length);
  }
  return { metrics, std };
}
