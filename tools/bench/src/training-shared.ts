import {
  parseTrainingSpec,
  planSplits,
  prepareTrainingData,
  runTrial,
  SeededRng,
  seeds,
  type Frame,
  type InputColumnType,
  type ModelSpec,
  type PreparedData,
  type TrainingSpec,
  type TrialParams,
} from '@mlp/ml';

/** Shared by the training bench and its worker processes: same data, spec and trials from the same seeds. */

export const FEATURES = 20;
export const SEED = 42;

/** The search workload: ~5k rows, 3-fold CV, a small MLP. */
export const SEARCH_ROWS = 5_000;
export const SEARCH_FOLDS = 3;
export const SEARCH_MODEL: ModelSpec = { type: 'mlp', layers: [32, 16], epochs: 5, batchSize: 128 };
/** 4 shapes × 2 learning rates, shape-major: even and odd trials cost the same, so halves balance. */
export const SEARCH_TRIALS: TrialParams[] = [[16], [32], [16, 8], [32, 16]].flatMap((layers) => [0.001, 0.003].map((lr) => ({ layers, lr })));

export interface Rows {
  /** n×FEATURES, row-major. */
  x: Float32Array;
  /** 0/1 labels. */
  y: Float32Array;
  n: number;
  d: number;
}

/**
 * A binary task with signal: features on different scales and offsets (so a
 * standard scaler has work to do), label from a noisy linear score plus one
 * interaction. Every value comes from SeededRng(seed).
 */
export function syntheticRows(n: number, seed: number): Rows {
  const rng = new SeededRng(seed);
  const d = FEATURES;
  const scale = Array.from({ length: d }, (_, j) => 1 + j);
  const offset = Array.from({ length: d }, (_, j) => j * 10);
  const weight = Array.from({ length: d }, () => rng.normal());
  const x = new Float32Array(n * d);
  const y = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    let score = 0;
    for (let j = 0; j < d; j++) {
      const z = rng.normal();
      x[i * d + j] = offset[j] + scale[j] * z;
      score += weight[j] * z;
    }
    score += 0.5 * ((x[i * d] - offset[0]) / scale[0]) * ((x[i * d + 1] - offset[1]) / scale[1]) + rng.normal();
    y[i] = score > 0 ? 1 : 0;
  }
  return { x, y, n, d };
}

export const featureName = (j: number) => `f${String(j).padStart(2, '0')}`;

/** The rows as the trainer sees them after loading: numeric columns plus a `label` column. */
export function toFrame(rows: Rows): { frame: Frame; types: Record<string, InputColumnType> } {
  const frame: Frame = {};
  const types: Record<string, InputColumnType> = {};
  for (let j = 0; j < rows.d; j++) {
    const values = new Array<number>(rows.n);
    for (let i = 0; i < rows.n; i++) values[i] = rows.x[i * rows.d + j];
    frame[featureName(j)] = values;
    types[featureName(j)] = 'numeric';
  }
  frame.label = Array.from(rows.y);
  types.label = 'numeric';
  return { frame, types };
}

/** A binary training spec with one standard-scaler step over every numeric column. */
export function benchSpec(model: ModelSpec, cvFolds?: number): TrainingSpec {
  return parseTrainingSpec({
    experiment: 'bench',
    task: 'binary',
    data: { dataset: { name: 'bench' }, label: 'label' },
    preprocessing: [{ scale: 'standard' }],
    model,
    ...(cvFolds ? { cv: { folds: cvFolds } } : {}),
    seed: SEED,
  });
}

/** The memory workload: 1M rows × 20 float features, loaded from Parquet and fitted for one epoch by a small MLP. */
export const MEMORY_ROWS = 1_000_000;
export const MEMORY_SEED = 7;
export const MEMORY_MODEL: ModelSpec = { type: 'mlp', layers: [32, 16], epochs: 1, batchSize: 1024 };

/** impute (mean) + standard scaling of every numeric column, then the small MLP. */
export function memorySpec(): TrainingSpec {
  return parseTrainingSpec({
    experiment: 'bench',
    task: 'binary',
    data: { dataset: { name: 'bench' }, label: 'label' },
    preprocessing: [{ impute: 'mean' }, { scale: 'standard' }],
    model: MEMORY_MODEL,
    seed: SEED,
  });
}

/**
 * DuckDB SQL for the memory workload: FEATURES float columns on different
 * scales and offsets (deterministic, from hash(row, column)), a binary label
 * from a noisy linear score of the first three, and every 1,000th value of f05 missing.
 */
export function memoryRowsSql(rows: number): string {
  const u = (j: number) => `((hash(i * ${FEATURES} + ${j}) % 1000003)::DOUBLE / 1000003 - 0.5)`;
  const columns = Array.from({ length: FEATURES }, (_, j) => {
    const value = `${u(j)} * ${1 + j} + ${j * 10}`;
    return `${j === 5 ? `CASE WHEN i % 1000 = 0 THEN NULL ELSE ${value} END` : value} AS ${featureName(j)}`;
  });
  return `SELECT ${columns.join(', ')}, CASE WHEN ${u(0)} + ${u(1)} - ${u(2)} + 0.3 * ${u(99)} > 0 THEN 1 ELSE 0 END AS label FROM range(${rows}) t(i)`;
}

export interface SearchWorkload {
  prepared: PreparedData;
  spec: TrainingSpec;
  folds: { train: number[]; test: number[] }[];
}

/** The search data prepared and split as a training run would (holdout, then CV folds over the rest). */
export function searchWorkload(): SearchWorkload {
  const spec = benchSpec(SEARCH_MODEL, SEARCH_FOLDS);
  const { frame, types } = toFrame(syntheticRows(SEARCH_ROWS, SEED + 1));
  const prepared = prepareTrainingData(frame, types, spec);
  return { prepared, spec, folds: planSplits(prepared, spec).folds };
}

/**
 * Runs the given trials (indices into SEARCH_TRIALS) with at most
 * `concurrency` in flight in this process, as the in-process trial queue
 * does: each worker takes the next trial when its last one ends. Returns
 * each trial's mean CV ROC AUC, so runs can be checked to have done the same work.
 */
export async function runTrials(w: SearchWorkload, trials: readonly number[], concurrency: number): Promise<Record<number, number>> {
  const scores: Record<number, number> = {};
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < trials.length) {
        const t = trials[next++];
        const result = await runTrial(w.prepared, w.spec, w.folds, SEARCH_TRIALS[t], seeds.trial(w.spec.seed, t));
        const auc = result.metrics['roc_auc'];
        if (result.status !== 'complete' || !Number.isFinite(auc)) throw new Error(`trial ${t} did not complete: ${JSON.stringify(result.metrics)}`);
        scores[t] = auc;
      }
    }),
  );
  return scores;
}

export { median, peakRssMb, resetPeakRss } from './rss';
