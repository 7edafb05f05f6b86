import * as tf from '@tensorflow/tfjs';
import { SeededRng } from '../random/seeded-rng';
import type { ResolvedModelSpec, Task } from './model-spec';

/** What the data decides about a model's shape. */
export interface ModelShape {
  nFeatures: number;
  task: Task;
  /** Output units of a multiclass model; ignored otherwise. */
  nClasses?: number;
}

export interface BuildOptions {
  /** Seeds every initializer and dropout layer. */
  seed: number;
  /**
   * Targets carry a trailing sample-weight column (see `packTargets`):
   * tfjs-layers 4.22 `fit` throws on `sampleWeight`, so the weight rides in
   * `y` and the loss splits it off.
   */
  weighted?: boolean;
}

type LossFn = (yTrue: tf.Tensor, yPred: tf.Tensor) => tf.Tensor;

/** Output units: one for binary (sigmoid) and regression, K for multiclass (softmax). */
export function outputUnits(shape: ModelShape): number {
  return shape.task === 'multiclass' ? (shape.nClasses as number) : 1;
}

/** Columns of the packed target: the target itself (one-hot for multiclass) plus one weight column when weighted. */
export function targetColumns(shape: ModelShape, weighted: boolean): number {
  return outputUnits(shape) + (weighted ? 1 : 0);
}

/**
 * Per-sample losses of tfjs-layers (shape [batch]): binary cross-entropy,
 * categorical cross-entropy on one-hot targets (the sparse form would
 * one-hot every batch again), mean squared error.
 */
function baseLoss(task: Task): LossFn {
  switch (task) {
    case 'binary':
      return tf.metrics.binaryCrossentropy;
    case 'multiclass':
      return tf.metrics.categoricalCrossentropy;
    case 'regression':
      return tf.metrics.meanSquaredError;
    default: {
      const never: never = task;
      throw new Error(`unknown task ${String(never)}`);
    }
  }
}

/** mean(w · loss) over the batch, as Keras' sample_weight with the default reduction. */
function weightedLoss(base: LossFn, units: number): LossFn {
  return (yTrue, yPred) =>
    tf.tidy(() => {
      const target = tf.slice(yTrue, [0, 0], [-1, units]);
      const weight = tf.reshape(tf.slice(yTrue, [0, units], [-1, 1]), [-1]);
      return tf.mul(base(target, yPred), weight);
    });
}

export function lossFor(shape: ModelShape, weighted: boolean): LossFn {
  const base = baseLoss(shape.task);
  return weighted ? weightedLoss(base, outputUnits(shape)) : base;
}

/**
 * Inverted dropout whose mask changes at every training step yet is fully
 * determined by the seed: step k uses seed + k. tfjs' own Dropout with a
 * fixed seed draws the same mask at every step, and without one it draws
 * from Math.random. Saved as a standard `Dropout` (identity at inference),
 * so any tfjs loader reads the model without this class.
 */
class SteppedDropout extends tf.layers.Layer {
  static className = 'Dropout';
  private step = 0;

  constructor(
    private readonly rate: number,
    private readonly seed: number,
    name: string,
  ) {
    super({ name });
  }

  override call(inputs: tf.Tensor | tf.Tensor[], kwargs: Record<string, unknown>): tf.Tensor {
    const input = Array.isArray(inputs) ? inputs[0] : inputs;
    if (kwargs['training'] !== true) return input;
    return tf.tidy(() => tf.dropout(input, this.rate, undefined, this.seed + this.step++));
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), rate: this.rate, noiseShape: null, seed: this.seed };
  }
}

function hiddenInitializer(activation: ResolvedModelSpec['activation'], seed: number) {
  // He for the rectifiers (relu, elu), Glorot for tanh: the usual variance-preserving choices.
  return activation === 'tanh' ? tf.initializers.glorotUniform({ seed }) : tf.initializers.heNormal({ seed });
}

/**
 * A compiled tfjs LayersModel for the spec. Layers are named (`hidden_1`,
 * `dropout_1`, …, `output`) so the saved topology does not depend on how
 * many models the process built before. Every random draw comes from
 * `seed`; biases start at zero.
 */
export function buildModel(spec: ResolvedModelSpec, shape: ModelShape, options: BuildOptions): tf.LayersModel {
  const rng = new SeededRng(options.seed);
  const nextSeed = () => rng.int(0, 2 ** 31 - 1);
  const regularizer = spec.l2 > 0 ? () => tf.regularizers.l2({ l2: spec.l2 }) : () => undefined;
  const model = tf.sequential({ name: spec.type });
  spec.layers.forEach((units, i) => {
    model.add(
      tf.layers.dense({
        name: `hidden_${i + 1}`,
        ...(i === 0 ? { inputShape: [shape.nFeatures] } : {}),
        units,
        activation: spec.activation,
        kernelInitializer: hiddenInitializer(spec.activation, nextSeed()),
        kernelRegularizer: regularizer(),
      }),
    );
    if (spec.dropout > 0) model.add(new SteppedDropout(spec.dropout, nextSeed(), `dropout_${i + 1}`));
  });
  const activation = shape.task === 'binary' ? 'sigmoid' : shape.task === 'multiclass' ? 'softmax' : 'linear';
  model.add(
    tf.layers.dense({
      name: 'output',
      ...(spec.layers.length === 0 ? { inputShape: [shape.nFeatures] } : {}),
      units: outputUnits(shape),
      activation,
      kernelInitializer: tf.initializers.glorotUniform({ seed: nextSeed() }),
      kernelRegularizer: regularizer(),
    }),
  );
  const optimizer = spec.optimizer === 'adam' ? tf.train.adam(spec.learningRate) : tf.train.sgd(spec.learningRate);
  model.compile({ optimizer, loss: lossFor(shape, options.weighted ?? false) });
  if (options.weighted) expectWeightColumn(model, targetColumns(shape, true));
  return model;
}

/**
 * `fit` checks each target tensor against the output's shape, so it rejects
 * the packed weight column ("target expected … shape [1] … received … [2]").
 * tfjs-layers 4.22 takes the shape for that check (and for nothing else)
 * from the inner model's private `feedOutputShapes`: widen it to the packed
 * width. Fails loudly if a tfjs upgrade moves that field.
 */
function expectWeightColumn(model: tf.Sequential, columns: number): void {
  const inner = (model as unknown as { model?: { feedOutputShapes?: (number | null)[][] } }).model;
  if (!inner || !Array.isArray(inner.feedOutputShapes)) throw new Error('tfjs-layers internals changed: cannot train with sample weights');
  inner.feedOutputShapes = inner.feedOutputShapes.map((s) => [...s.slice(0, -1), columns]);
}

/**
 * The targets `fit` expects, row-major n × `targetColumns`: the value or
 * 0/1 label (one column), or the one-hot class (K columns), then the
 * sample weight when `weights` is given ('ones' for unweighted rows, such
 * as validation data scored by a weighted loss).
 */
export function targetMatrix(y: ArrayLike<number>, n: number, shape: ModelShape, weights?: Float32Array | 'ones'): Float32Array {
  const units = outputUnits(shape);
  const cols = targetColumns(shape, weights !== undefined);
  const out = new Float32Array(n * cols);
  for (let i = 0; i < n; i++) {
    const row = i * cols;
    if (shape.task === 'multiclass') out[row + y[i]] = 1;
    else out[row] = y[i];
    if (weights !== undefined) out[row + units] = weights === 'ones' ? 1 : weights[i];
  }
  return out;
}
