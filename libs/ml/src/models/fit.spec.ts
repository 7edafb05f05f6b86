import { ValidationError } from '@mlp/contracts';
import * as tf from '@tensorflow/tfjs';
import { SeededRng } from '../random/seeded-rng';
import { initBackend } from './backend';
import { buildModel } from './build-model';
import { CHUNK_ROWS, type EpochLogs, fitModel, type TrainingData } from './fit';
import { resolveModelSpec } from './model-spec';
import { argmaxRows, blobs, mapRows, meanSquaredError, uniformRows } from './test-data.fixture';

jest.setTimeout(60_000);

beforeAll(async () => {
  await initBackend('wasm');
});

/** y = 2·x1 − 3·x2 + 1 on [-1, 1]², no noise. */
function plane(seed: number, n: number): TrainingData & { x: Float32Array } {
  const x = uniformRows(new SeededRng(seed), n, 2);
  return { x, y: mapRows(x, 2, ([a, b]) => 2 * a - 3 * b + 1), n, d: 2, task: 'regression' };
}

describe('fitModel: models recover what generated the data', () => {
  it('linear regression recovers the coefficients of y = 2·x1 − 3·x2 + 1', async () => {
    const model = await fitModel({ type: 'linear', learningRate: 0.1, epochs: 60, batchSize: 32 }, plane(1, 128), { seed: 7 });
    // f(0,0) = b, f(1,0) − f(0,0) = w1, f(0,1) − f(0,0) = w2.
    const [f00, f10, f01] = model.predict(new Float32Array([0, 0, 1, 0, 0, 1]), 3);
    expect(f00).toBeCloseTo(1, 2);
    expect(f10 - f00).toBeCloseTo(2, 2);
    expect(f01 - f00).toBeCloseTo(-3, 2);
    expect(model.history).toHaveLength(60);
    expect(model.bestEpoch).toBe(59);
    expect(model.stoppedEpoch).toBeNull();
    model.dispose();
  });

  it('logistic regression separates a linearly separable set (accuracy 1)', async () => {
    // Label x1 + x2 > 0, keeping only points at least 0.2 from the boundary.
    const raw = uniformRows(new SeededRng(2), 400, 2);
    const rows: number[] = [];
    const labels: number[] = [];
    for (let i = 0; i < 400; i++) {
      const s = raw[2 * i] + raw[2 * i + 1];
      if (Math.abs(s) < 0.2) continue;
      rows.push(raw[2 * i], raw[2 * i + 1]);
      labels.push(s > 0 ? 1 : 0);
    }
    const n = labels.length;
    const data: TrainingData & { x: Float32Array } = { x: Float32Array.from(rows), y: Float32Array.from(labels), n, d: 2, task: 'binary' };
    const model = await fitModel({ type: 'logistic', learningRate: 0.2, epochs: 40, batchSize: 64 }, data, { seed: 3 });
    const p = model.predict(data.x, n);
    expect(p).toHaveLength(n);
    const correct = labels.filter((label, i) => (p[i] > 0.5 ? 1 : 0) === label).length;
    expect(correct).toBe(n);
    model.dispose();
  });

  it('multinomial logistic regression classifies three clusters, with rows of probabilities summing to 1', async () => {
    const centres = [
      [0, 0],
      [4, 0],
      [0, 4],
    ];
    const { x, y, n } = blobs(new SeededRng(4), centres, 30, 0.5);
    // Reference: the nearest-centre rule (Bayes-optimal for equal spherical blobs) is perfect on this draw.
    const nearest = argmaxRows(Float32Array.from(Array.from({ length: n * 3 }, (_, k) => -Math.hypot(x[2 * Math.floor(k / 3)] - centres[k % 3][0], x[2 * Math.floor(k / 3) + 1] - centres[k % 3][1]))), 3);
    expect(nearest).toEqual(Array.from(y));

    const model = await fitModel({ type: 'logistic', learningRate: 0.1, epochs: 60, batchSize: 32 }, { x, y, n, d: 2, task: 'multiclass' }, { seed: 5 });
    expect(model.outputSize).toBe(3);
    const p = model.predict(x, n);
    expect(p).toHaveLength(n * 3);
    for (let i = 0; i < n; i++) expect(p[3 * i] + p[3 * i + 1] + p[3 * i + 2]).toBeCloseTo(1, 5);
    expect(argmaxRows(p, 3)).toEqual(Array.from(y));
    model.dispose();
  });

  it('an mlp regressor fits y = x² far better than the best line', async () => {
    const n = 256;
    const x = uniformRows(new SeededRng(6), n, 1, -2, 2);
    const y = mapRows(x, 1, ([v]) => v * v);
    const data: TrainingData = { x, y, n, d: 1, task: 'regression' };
    const linear = await fitModel({ type: 'linear', learningRate: 0.1, epochs: 60, batchSize: 256 }, data, { seed: 1 });
    const mlp = await fitModel({ type: 'mlp', layers: [32, 16], activation: 'tanh', learningRate: 0.05, epochs: 80, batchSize: 128 }, data, { seed: 1 });
    const linearMse = meanSquaredError(linear.predict(x, n), y);
    const mlpMse = meanSquaredError(mlp.predict(x, n), y);
    // For x ~ U(−2, 2) the best line for x² is the constant E[x²] = 4/3, leaving
    // E[x⁴] − E[x²]² = 16/5 − 16/9 = 64/45 ≈ 1.42 (up to sampling error).
    expect(linearMse).toBeGreaterThan(1.2);
    expect(linearMse).toBeLessThan(1.65);
    expect(mlpMse).toBeLessThan(0.05 * linearMse);
    linear.dispose();
    mlp.dispose();
  });

  // Constant input: the model learns one number c minimising mean(w·loss(y, c)).
  // Rows: four y=0 with w=1 and four y=1 with w=3 → c = Σw·y / Σw = 12/16 = 0.75
  // for both squared error and cross-entropy; unweighted, c = 0.5.
  it.each([
    ['regression', 'linear'],
    ['binary', 'logistic'],
  ] as const)('sampleWeight shifts a %s model to the weighted mean (0.75, unweighted 0.5)', async (task, type) => {
    const n = 8;
    const base: TrainingData = { x: new Float32Array(n), y: Float32Array.from([0, 0, 0, 0, 1, 1, 1, 1]), n, d: 1, task };
    const spec = { type, learningRate: 0.1, epochs: 100, batchSize: 8 };
    const weighted = await fitModel(spec, { ...base, sampleWeight: Float32Array.from([1, 1, 1, 1, 3, 3, 3, 3]) }, { seed: 1 });
    const plain = await fitModel(spec, base, { seed: 1 });
    expect(weighted.predict(new Float32Array([0]), 1)[0]).toBeCloseTo(0.75, 2);
    expect(plain.predict(new Float32Array([0]), 1)[0]).toBeCloseTo(0.5, 2);
    weighted.dispose();
    plain.dispose();
  });
});

describe('fitModel: determinism', () => {
  const spec = { type: 'mlp' as const, layers: [16, 8], dropout: 0.2, l2: 1e-4, learningRate: 0.01, epochs: 4, batchSize: 16 };
  const data = plane(8, 96);

  it('the same seed gives bit-identical weights and history; another seed does not', async () => {
    const a = await fitModel(spec, data, { seed: 11 });
    const b = await fitModel(spec, data, { seed: 11 });
    const c = await fitModel(spec, data, { seed: 12 });
    const [sa, sb, sc] = await Promise.all([a.weightsSha256(), b.weightsSha256(), c.weightsSha256()]);
    expect(sa).toMatch(/^[0-9a-f]{64}$/);
    expect(sb).toBe(sa);
    expect(sc).not.toBe(sa);
    expect(b.history).toEqual(a.history);
    [a, b, c].forEach((m) => m.dispose());
  });

  it('dropout draws a new mask at every training step, reproducibly from the seed, and is off at inference', () => {
    const resolved = resolveModelSpec({ type: 'mlp', layers: [32], dropout: 0.5 });
    const input = tf.ones([4, 3]);
    const steps = (seed: number) => {
      const model = buildModel(resolved, { nFeatures: 3, task: 'regression' }, { seed });
      const train = [0, 1].map(() => tf.tidy(() => Array.from((model.apply(input, { training: true }) as tf.Tensor).dataSync())));
      const infer = [0, 1].map(() => tf.tidy(() => Array.from((model.apply(input, { training: false }) as tf.Tensor).dataSync())));
      model.optimizer.dispose();
      model.dispose();
      return { train, infer };
    };
    const first = steps(21);
    expect(first.train[1]).not.toEqual(first.train[0]);
    expect(first.infer[1]).toEqual(first.infer[0]);
    expect(steps(21)).toEqual(first);
    input.dispose();
  });
});

describe('fitModel: early stopping', () => {
  // y = 2x + noise: the validation loss falls to the noise floor, then moves by less than minDelta.
  function noisyLine(seed: number, n: number): { x: Float32Array; y: Float32Array; n: number } {
    const rng = new SeededRng(seed);
    const x = uniformRows(rng, n, 1);
    return { x, y: mapRows(x, 1, ([v]) => 2 * v + rng.normal(0, 0.1)), n };
  }
  const train = noisyLine(31, 128);
  const validation = noisyLine(32, 64);

  it('stops on a plateau before `epochs` and restores the best epoch’s weights', async () => {
    const patience = 3;
    const minDelta = 1e-3;
    const model = await fitModel(
      { type: 'linear', learningRate: 0.05, epochs: 300, batchSize: 32, earlyStopping: { patience, minDelta } },
      { ...train, d: 1, task: 'regression', validation },
      { seed: 3 },
    );
    expect(model.monitor).toBe('val_loss');
    expect(model.stopReason).toBe('early-stopping');
    expect(model.stoppedEpoch).toBeLessThan(299);
    expect(model.history).toHaveLength((model.stoppedEpoch as number) + 1);
    // Keras semantics: stop after `patience` epochs without an improvement larger than minDelta.
    expect(model.stoppedEpoch).toBe(model.bestEpoch + patience);
    const best = model.history[model.bestEpoch].val_loss as number;
    for (const later of model.history.slice(model.bestEpoch + 1)) expect(later.val_loss as number).toBeGreaterThanOrEqual(best - minDelta);
    // The returned model is the best epoch's: its validation MSE, computed here from predictions, is that epoch's val_loss.
    const restoredMse = meanSquaredError(model.predict(validation.x, validation.n), validation.y);
    expect(restoredMse).toBeCloseTo(best, 6);
    expect(Math.abs(restoredMse - (model.history.at(-1)?.val_loss as number))).toBeGreaterThan(1e-7);
    model.dispose();
  });

  it('monitors the training loss without validation data', async () => {
    const model = await fitModel(
      { type: 'linear', learningRate: 0.05, epochs: 300, batchSize: 32, earlyStopping: { patience: 2, minDelta: 1e-3 } },
      { ...train, d: 1, task: 'regression' },
      { seed: 3 },
    );
    expect(model.monitor).toBe('loss');
    expect(model.stopReason).toBe('early-stopping');
    expect(model.history[0].val_loss).toBeUndefined();
    model.dispose();
  });
});

describe('fitModel: callbacks', () => {
  it('awaits onEpoch after every epoch and stops when shouldStop says so', async () => {
    const seen: Array<[number, EpochLogs]> = [];
    let polls = 0;
    const model = await fitModel({ type: 'linear', epochs: 50, batchSize: 64 }, plane(9, 64), {
      seed: 1,
      onEpoch: async (epoch, logs) => {
        await new Promise((resolve) => setTimeout(resolve, 1));
        seen.push([epoch, logs]);
      },
      shouldStop: () => ++polls >= 3,
    });
    expect(seen.map(([epoch]) => epoch)).toEqual([0, 1, 2]);
    expect(seen.map(([, logs]) => logs)).toEqual(model.history.map(({ epoch: _epoch, ...logs }) => logs));
    expect(model.stopReason).toBe('cancelled');
    expect(model.stoppedEpoch).toBe(2);
    model.dispose();
  });
});

describe('fitModel: input validation', () => {
  const good = plane(10, 8);
  it.each<[string, Partial<TrainingData>, string]>([
    ['x of the wrong length', { x: new Float32Array(15) }, 'x'],
    ['a NaN feature', { x: Float32Array.from(good.x, (v, i) => (i === 3 ? NaN : v)) }, 'x[3]'],
    ['a binary label of 2', { task: 'binary', y: Float32Array.from([0, 1, 2, 0, 1, 0, 1, 0]) }, 'y[2]'],
    ['a class index beyond nClasses', { task: 'multiclass', nClasses: 3, y: Int32Array.from([0, 1, 2, 3, 0, 1, 2, 0]) }, 'y[3]'],
    ['a negative sample weight', { sampleWeight: Float32Array.from([1, 1, -1, 1, 1, 1, 1, 1]) }, 'sampleWeight[2]'],
    ['validation x of the wrong width', { validation: { x: new Float32Array(3), y: new Float32Array(2), n: 2 } }, 'validation.x'],
  ])('rejects %s', async (_name, patch, path) => {
    const spec = { type: 'mlp' as const, epochs: 1 };
    const attempt = fitModel(spec, { ...good, ...patch }, { seed: 1 });
    await expect(attempt).rejects.toThrow(ValidationError);
    await attempt.catch((e: ValidationError) => expect(e.details.map((d) => d.path)).toEqual([path]));
  });

  it('rejects a model type that cannot do the task', async () => {
    await expect(fitModel({ type: 'linear' }, { ...good, task: 'binary', y: new Float32Array(8) }, { seed: 1 })).rejects.toThrow(/linear model cannot do binary/);
  });
});

describe('fitModel: memory', () => {
  it('leaves no tensor behind after fit (validation, weights, early stopping), predict, save and dispose', async () => {
    const before = tf.memory().numTensors;
    const { x, y, n } = blobs(new SeededRng(12), [[0, 0], [3, 3], [0, 3]], 20, 0.5);
    const model = await fitModel(
      { type: 'mlp', layers: [8], dropout: 0.1, l2: 1e-3, epochs: 6, batchSize: 16, earlyStopping: { patience: 2 } },
      { x, y, n, d: 2, task: 'multiclass', sampleWeight: new Float32Array(n).fill(2), validation: { x, y, n } },
      { seed: 1 },
    );
    model.predict(x, n);
    await model.save();
    await model.weightsSha256();
    model.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it('disposes everything when a callback fails mid-training, and passes the error on', async () => {
    const before = tf.memory().numTensors;
    const failing = fitModel({ type: 'mlp', layers: [4], epochs: 5, earlyStopping: { patience: 2 } }, plane(13, 16), {
      seed: 1,
      onEpoch: (epoch) => {
        if (epoch === 1) throw new Error('progress sink is down');
      },
    });
    await expect(failing).rejects.toThrow('progress sink is down');
    expect(tf.memory().numTensors).toBe(before);
  });
});

describe('fitModel: epochs in chunks', () => {
  it('trains on more rows than CHUNK_ROWS exactly as one fit over the whole permuted epoch does', async () => {
    const n = CHUNK_ROWS + 300;
    const seed = 11;
    const data = plane(5, n);
    const spec = { type: 'mlp' as const, layers: [8], epochs: 1, batchSize: 256, learningRate: 0.01 };
    const ours = await fitModel(spec, data, { seed });
    // The same model, rows in the same seeded order, one tfjs fit over all of them at once.
    const bare = buildModel(resolveModelSpec(spec), { nFeatures: 2, task: 'regression' }, { seed });
    const order = new SeededRng((seed ^ 0x9e3779b9) >>> 0).permutation(n);
    const xs = tf.tensor2d(Float32Array.from(order.flatMap((r) => [data.x[2 * r], data.x[2 * r + 1]])), [n, 2]);
    const ys = tf.tensor2d(Float32Array.from(order.map((r) => data.y[r])), [n, 1]);
    const h = await bare.fit(xs, ys, { epochs: 1, batchSize: 256, shuffle: false, verbose: 0 });
    const probe = new Float32Array([0, 0, 0.5, -0.5, -1, 1]);
    const expected = (bare.predict(tf.tensor2d(probe, [3, 2])) as tf.Tensor).dataSync();
    expect(Array.from(ours.predict(probe, 3))).toEqual(Array.from(expected));
    expect(ours.history[0].loss).toBeCloseTo(h.history.loss[0] as number, 5);
    tf.dispose([xs, ys]);
    bare.optimizer.dispose();
    bare.dispose();
    ours.dispose();
  });

  it('a RowSource (rows made chunk by chunk) trains to the same weights as the whole x array', async () => {
    const n = CHUNK_ROWS + 500;
    const data = plane(6, n);
    const spec = { type: 'mlp' as const, layers: [4], epochs: 2, batchSize: 512 };
    const asked: number[] = [];
    const source = {
      rows: (indices: readonly number[]) => {
        asked.push(indices.length);
        return Float32Array.from(indices.flatMap((r) => [data.x[2 * r], data.x[2 * r + 1]]));
      },
    };
    const fromArray = await fitModel(spec, data, { seed: 4 });
    const fromSource = await fitModel(spec, { ...data, x: source }, { seed: 4 });
    expect(await fromSource.weightsSha256()).toBe(await fromArray.weightsSha256());
    // Never more than one chunk of rows at a time.
    expect(Math.max(...asked)).toBeLessThanOrEqual(CHUNK_ROWS);
    fromArray.dispose();
    fromSource.dispose();
    const bad = { rows: (indices: readonly number[]) => new Float32Array(indices.length * 2).fill(Number.NaN) };
    await expect(fitModel(spec, { ...data, x: bad }, { seed: 4 })).rejects.toThrow(/must be finite/);
  });
});
