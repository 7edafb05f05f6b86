import { ValidationError } from '@mlp/contracts';
import * as tf from '@tensorflow/tfjs';
import { SeededRng } from '../random/seeded-rng';
import { ensureBackend } from './backend';
import { buildModel, type ModelShape, targetColumns, targetMatrix } from './build-model';
import { type ModelSpec, requireTaskFits, type ResolvedModelSpec, resolveModelSpec, type Task } from './model-spec';
import { LayersPredictor, type Predictor } from './persist';

/**
 * Rows of x made on demand (preprocessed chunk by chunk from typed columns),
 * so the n×d matrix never exists whole: fitModel asks for one chunk of rows
 * at a time, in the epoch's order.
 */
export interface RowSource {
  /** Row-major |indices|×d features of the given rows (indices into 0..n-1). */
  rows(indices: readonly number[]): Float32Array;
}

/** Row-major features and one target per row. */
export interface TrainingData {
  /** n×d features, row-major, or a source of rows (checked chunk by chunk as they are made). */
  x: Float32Array | RowSource;
  /** Class index (0/1 for binary, 0..K-1 for multiclass) or value, one per row. */
  y: Float32Array | Int32Array;
  n: number;
  d: number;
  task: Task;
  /** K for multiclass; inferred as 1 + the largest label (training and validation) when absent. */
  nClasses?: number;
  /** Non-negative weight per row (class weights go here too); the loss is mean(w · loss). */
  sampleWeight?: Float32Array;
  /** Scored after every epoch (unweighted); early stopping monitors its loss when present. */
  validation?: { x: Float32Array; y: Float32Array | Int32Array; n: number };
}

/** Losses of one epoch: training loss (mean over batches, with the L2 penalty) and validation loss. */
export interface EpochLogs {
  loss: number;
  val_loss?: number;
  [metric: string]: number | undefined;
}

export interface FitOptions {
  /** Seeds the initial weights, the dropout masks and the per-epoch row order. */
  seed: number;
  /** Called after each epoch (0-based) and awaited before the next one. */
  onEpoch?: (epoch: number, logs: EpochLogs) => void | Promise<void>;
  /** Polled after each epoch; true ends training (stopReason 'cancelled'). */
  shouldStop?: () => boolean;
  /**
   * Continue from this model's weights instead of seeded initial ones (online
   * learning). It must have the same architecture; it is read, never changed.
   * The optimizer starts fresh (its moments are not part of a saved model).
   */
  from?: Predictor;
}

export type StopReason = 'completed' | 'early-stopping' | 'cancelled';

export interface FittedModel extends Predictor {
  readonly task: Task;
  readonly spec: ResolvedModelSpec;
  /** One entry per epoch run, in order. */
  readonly history: ReadonlyArray<EpochLogs & { epoch: number }>;
  /** The loss early stopping watches: 'val_loss' with validation data, else 'loss'. */
  readonly monitor: 'loss' | 'val_loss';
  /**
   * The epoch whose weights the model holds: with early stopping, the one
   * with the best monitored loss (restored at the end, however training
   * ended); without it, the last epoch.
   */
  readonly bestEpoch: number;
  /** The last epoch run when training ended before `epochs`; null when all epochs ran. */
  readonly stoppedEpoch: number | null;
  readonly stopReason: StopReason;
}

const SHUFFLE_SALT = 0x9e3779b9;
/**
 * Rows a tensor holds at once (rounded down to whole batches): an epoch goes
 * through its rows in chunks, so memory holds x plus one chunk, never a
 * permuted copy of x and a tensor of it. The batches, and so the weights,
 * are the same as one fit over the whole epoch.
 */
export const CHUNK_ROWS = 32_768;

class FittedLayersModel extends LayersPredictor implements FittedModel {
  declare readonly task: Task;
  readonly spec: ResolvedModelSpec;
  readonly history: ReadonlyArray<EpochLogs & { epoch: number }>;
  readonly monitor: 'loss' | 'val_loss';
  readonly bestEpoch: number;
  readonly stoppedEpoch: number | null;
  readonly stopReason: StopReason;

  constructor(model: tf.LayersModel, task: Task, outcome: Omit<FittedModel, keyof Predictor>) {
    super(model, task);
    this.spec = outcome.spec;
    this.history = outcome.history;
    this.monitor = outcome.monitor;
    this.bestEpoch = outcome.bestEpoch;
    this.stoppedEpoch = outcome.stoppedEpoch;
    this.stopReason = outcome.stopReason;
  }
}

/**
 * Trains a model on the active backend (wasm unless `initBackend` chose
 * another). Each epoch gathers the rows in an order drawn from a SeededRng
 * and runs one `model.fit` epoch over them without tfjs' own (Math.random)
 * shuffle, so the same seed on the same backend gives bit-identical
 * weights. Per-epoch cost over a bare multi-epoch `fit`: one gather of x
 * and y, nothing per batch.
 */
export async function fitModel(specInput: ModelSpec, data: TrainingData, options: FitOptions): Promise<FittedModel> {
  const spec = resolveModelSpec(specInput);
  requireTaskFits(spec, data.task);
  const shape = checkTrainingData(data);
  // Validates the seed; the row-order stream is salted so it does not replay the initializer seeds.
  new SeededRng(options.seed);
  const rng = new SeededRng((options.seed ^ SHUFFLE_SALT) >>> 0);
  await ensureBackend();

  const weighted = data.sampleWeight !== undefined;
  const model = buildModel(spec, shape, { seed: options.seed, weighted });
  if (options.from) copyWeightsInto(model, options.from);
  const optimizer = model.optimizer;
  const validation: tf.Tensor[] = [];
  let snapshot: tf.Tensor[] | undefined;
  try {
    const cols = targetColumns(shape, weighted);
    const targets = targetMatrix(data.y, data.n, shape, data.sampleWeight);
    const v = data.validation;
    if (v) {
      validation.push(tf.tensor2d(v.x, [v.n, data.d]), tf.tensor2d(targetMatrix(v.y, v.n, shape, weighted ? 'ones' : undefined), [v.n, cols]));
    }
    const validationData = v ? (validation as [tf.Tensor, tf.Tensor]) : undefined;
    const monitor = v ? 'val_loss' : 'loss';
    const stopping = spec.earlyStopping;

    const history: Array<EpochLogs & { epoch: number }> = [];
    let best = Infinity;
    let bestEpoch = -1;
    let wait = 0;
    let stopReason: StopReason = 'completed';
    for (let epoch = 0; epoch < spec.epochs; epoch++) {
      const order = rng.permutation(data.n);
      const logs = await fitOneEpoch(model, { x: data.x, d: data.d, targets, cols, order }, spec.batchSize, validationData);
      history.push({ epoch, ...logs });
      await options.onEpoch?.(epoch, logs);

      const current = logs[monitor] as number;
      if (current < best - (stopping?.minDelta ?? 0)) {
        best = current;
        bestEpoch = epoch;
        wait = 0;
        if (stopping) {
          tf.dispose(snapshot);
          snapshot = model.getWeights().map((w) => w.clone());
        }
      } else if (stopping && ++wait >= stopping.patience) {
        stopReason = 'early-stopping';
        break;
      }
      if (options.shouldStop?.()) {
        stopReason = 'cancelled';
        break;
      }
    }

    const lastEpoch = history.length - 1;
    if (snapshot && bestEpoch !== lastEpoch) model.setWeights(snapshot);
    return new FittedLayersModel(model, data.task, {
      spec,
      history,
      monitor,
      bestEpoch: snapshot ? bestEpoch : lastEpoch,
      stoppedEpoch: stopReason === 'completed' ? null : lastEpoch,
      stopReason,
    });
  } catch (error) {
    model.dispose();
    throw error;
  } finally {
    tf.dispose(validation);
    tf.dispose(snapshot);
    // compile() was given an optimizer instance, which model.dispose() leaves alone.
    optimizer.dispose();
  }
}

/**
 * One epoch over the rows in `order`, in chunks of whole batches (see
 * CHUNK_ROWS): one tfjs `fit({epochs: 1})` per chunk, losses averaged over
 * rows as tfjs averages batches, then the validation loss as `fit` computes it.
 */
async function fitOneEpoch(
  model: tf.LayersModel,
  rows: { x: Float32Array | RowSource; d: number; targets: Float32Array; cols: number; order: readonly number[] },
  batchSize: number,
  validationData: [tf.Tensor, tf.Tensor] | undefined,
): Promise<EpochLogs> {
  const { order } = rows;
  const chunk = Math.max(batchSize, Math.floor(CHUNK_ROWS / batchSize) * batchSize);
  const sums: Record<string, number> = {};
  let single: Record<string, number> | undefined;
  for (let start = 0; start < order.length; start += chunk) {
    const part = order.slice(start, start + chunk);
    const xs = tf.tensor2d(rows.x instanceof Float32Array ? permuteRows(rows.x, rows.d, part) : sourcedRows(rows.x, rows.d, part), [part.length, rows.d]);
    const ys = tf.tensor2d(permuteRows(rows.targets, rows.cols, part), [part.length, rows.cols]);
    try {
      const h = await model.fit(xs, ys, { epochs: 1, batchSize, shuffle: false, verbose: 0 });
      const values = Object.fromEntries(Object.entries(h.history).map(([key, v]) => [key, v[0] as number]));
      if (start === 0 && part.length === order.length) single = values;
      for (const [key, v] of Object.entries(values)) sums[key] = (sums[key] ?? 0) + v * part.length;
    } finally {
      tf.dispose([xs, ys]);
    }
  }
  const logs: EpochLogs = { loss: NaN };
  for (const [key, sum] of Object.entries(sums)) logs[key] = single ? single[key] : sum / order.length;
  if (validationData) {
    const result = model.evaluate(validationData[0], validationData[1], { batchSize });
    const scalars = Array.isArray(result) ? result : [result];
    try {
      const values = await Promise.all(scalars.map(async (t) => (await t.data())[0]));
      model.metricsNames.forEach((name, i) => (logs[`val_${name}`] = values[i]));
    } finally {
      tf.dispose(scalars);
    }
  }
  return logs;
}

/**
 * Rows of a row-major matrix in the given order. Done in JS: a plain copy
 * loop is several times faster than tf.gather on the wasm backend, and the
 * caller's array serves as the source, so no full-size tensor of x is held.
 */
function permuteRows(source: Float32Array, cols: number, order: readonly number[]): Float32Array {
  const out = new Float32Array(order.length * cols);
  for (let i = 0; i < order.length; i++) {
    const from = order[i] * cols;
    const to = i * cols;
    for (let j = 0; j < cols; j++) out[to + j] = source[from + j];
  }
  return out;
}

/** Rows from a RowSource, checked like an x array: the right length, every value finite. */
function sourcedRows(source: RowSource, d: number, indices: readonly number[]): Float32Array {
  const x = source.rows(indices);
  requireLength(x, indices.length * d, 'x rows');
  for (let k = 0; k < x.length; k++) {
    if (!Number.isFinite(x[k])) throw invalid(`x[${indices[Math.floor(k / d)] * d + (k % d)}]`, `must be finite, received ${x[k]}`);
  }
  return x;
}

/** Shapes, finiteness and label ranges; returns the model shape with nClasses settled. */
function checkTrainingData(data: TrainingData): ModelShape {
  const { n, d, task } = data;
  requireCount(n, 'n', 1);
  requireCount(d, 'd', 1);
  if (data.x instanceof Float32Array) requireFinite(data.x, n * d, 'x');
  requireLength(data.y, n, 'y');
  if (data.sampleWeight !== undefined) {
    requireFinite(data.sampleWeight, n, 'sampleWeight');
    let total = 0;
    for (let i = 0; i < n; i++) {
      if (data.sampleWeight[i] < 0) throw invalid(`sampleWeight[${i}]`, `must be non-negative, received ${data.sampleWeight[i]}`);
      total += data.sampleWeight[i];
    }
    if (total === 0) throw invalid('sampleWeight', 'must not be all zero');
  }
  const v = data.validation;
  if (v) {
    requireCount(v.n, 'validation.n', 1);
    requireFinite(v.x, v.n * d, 'validation.x');
    requireLength(v.y, v.n, 'validation.y');
  }

  let nClasses: number | undefined;
  if (task === 'multiclass') {
    const maxLabel = Math.max(maxOf(data.y), v ? maxOf(v.y) : 0);
    nClasses = data.nClasses ?? maxLabel + 1;
    if (!Number.isSafeInteger(nClasses) || nClasses < 2) throw invalid('nClasses', `must be an integer ≥ 2 for multiclass, received ${nClasses}`);
  } else if (task === 'binary' && data.nClasses !== undefined && data.nClasses !== 2) {
    throw invalid('nClasses', `must be 2 (or absent) for binary, received ${data.nClasses}`);
  }
  requireTargets(data.y, task, nClasses, 'y');
  if (v) requireTargets(v.y, task, nClasses, 'validation.y');
  return { nFeatures: d, task, nClasses };
}

function requireTargets(y: ArrayLike<number>, task: Task, nClasses: number | undefined, name: string): void {
  for (let i = 0; i < y.length; i++) {
    const value = y[i];
    const ok =
      task === 'regression'
        ? Number.isFinite(value)
        : task === 'binary'
          ? value === 0 || value === 1
          : Number.isInteger(value) && value >= 0 && value < (nClasses as number);
    if (!ok) {
      const expected = task === 'regression' ? 'a finite number' : task === 'binary' ? '0 or 1' : `a class index in [0, ${nClasses})`;
      throw invalid(`${name}[${i}]`, `must be ${expected}, received ${value}`);
    }
  }
}

function requireCount(value: number, name: string, min: number): void {
  if (!Number.isSafeInteger(value) || value < min) throw invalid(name, `must be an integer ≥ ${min}, received ${value}`);
}

function requireLength(values: ArrayLike<number>, length: number, name: string): void {
  if (values.length !== length) throw invalid(name, `must hold ${length} values, received ${values.length}`);
}

function requireFinite(values: ArrayLike<number>, length: number, name: string): void {
  requireLength(values, length, name);
  for (let i = 0; i < length; i++) {
    if (!Number.isFinite(values[i])) throw invalid(`${name}[${i}]`, `must be finite, received ${values[i]}`);
  }
}

function maxOf(values: ArrayLike<number>): number {
  let max = -Infinity;
  for (let i = 0; i < values.length; i++) if (values[i] > max) max = values[i];
  return max;
}

function invalid(path: string, message: string): ValidationError {
  return new ValidationError(`${path} ${message}`, [{ path, message }]);
}

/** `from`'s weights into a freshly built model of the same architecture (values copied: `from` stays as it is). */
function copyWeightsInto(model: tf.LayersModel, from: Predictor): void {
  const source = from instanceof LayersPredictor ? from.weightTensors() : undefined;
  const target = model.getWeights();
  const same = source !== undefined && source.length === target.length && source.every((w, i) => w.shape.join('x') === target[i].shape.join('x'));
  if (!same) {
    model.dispose();
    throw new ValidationError('the model to continue from has another architecture than this spec builds', [{ path: 'from', message: 'weights do not match the spec\'s layers' }]);
  }
  model.setWeights(source);
}
