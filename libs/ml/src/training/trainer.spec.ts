import { initBackend } from '../models';
import { planSplits } from './plan';
import { prepareTrainingData, type PreparedData } from './prepare';
import { fitOnRows, modelSpecFor, predictRows, runTrial, summarize } from './trainer';
import { parseTrainingSpec, type TrainingSpec } from './training-spec';

const range = (k: number) => Array.from({ length: k }, (_, i) => i);

function binarySpec(overrides: Record<string, unknown> = {}): TrainingSpec {
  return parseTrainingSpec({ experiment: 'e', task: 'binary', data: { dataset: { name: 'd' }, label: 'y' }, model: { type: 'logistic', epochs: 2, batchSize: 16 }, ...overrides });
}

/** 60 rows, y = 1 when x > 30, plus a 3-level category. */
function separable(spec: TrainingSpec): PreparedData {
  const n = 60;
  const x = range(n).map((i) => (i * 41) % n); // a permutation of 0..59
  return prepareTrainingData({ x, plan: x.map((v) => ['a', 'b', 'c'][v % 3]), y: x.map((v) => Number(v > 30)) }, { x: 'numeric', plan: 'categorical', y: 'numeric' }, spec);
}

describe('modelSpecFor', () => {
  it("lays a trial's parameters over the spec's model, reading lr as learningRate", () => {
    const spec = binarySpec({ model: { type: 'mlp', layers: [4], epochs: 7 } });
    expect(modelSpecFor(spec, { lr: 0.05, layers: [8, 4] })).toEqual({ type: 'mlp', layers: [8, 4], epochs: 7, batchSize: 256, learningRate: 0.05 });
  });
});

describe('summarize', () => {
  it('gives the mean and population std of each metric over the folds that have it', () => {
    const s = summarize([{ accuracy: 0.8, roc_auc: 0.9 }, { accuracy: 0.6 }, { accuracy: 0.7, roc_auc: 0.7 }]);
    // accuracy: mean 2.1/3 = 0.7; deviations 0.1, −0.1, 0 → std √(0.02/3) = 0.0816497
    // roc_auc (2 folds): mean 0.8; deviations ±0.1 → std 0.1
    expect(Object.keys(s.metrics)).toEqual(['accuracy', 'roc_auc']);
    expect(s.metrics.accuracy).toBeCloseTo(0.7, 12);
    expect(s.std.accuracy).toBeCloseTo(Math.sqrt(0.02 / 3), 12);
    expect(s.metrics.roc_auc).toBeCloseTo(0.8, 12);
    expect(s.std.roc_auc).toBeCloseTo(0.1, 12);
    expect(summarize([])).toEqual({ metrics: {}, std: {} });
  });
});

describe('fitOnRows and runTrial', () => {
  beforeAll(async () => {
    await initBackend('wasm');
  });

  it('is deterministic: the same seed gives the same weights, another seed other weights', async () => {
    const spec = binarySpec({ preprocessing: [{ scale: 'standard' }, { encode: 'target' }], model: { type: 'mlp', layers: [4], dropout: 0.2, epochs: 3, batchSize: 8 } });
    const prepared = separable(spec);
    const train = range(48);
    const val = range(12).map((i) => 48 + i);
    const model = modelSpecFor(spec, {});
    const fits = [await fitOnRows(prepared, spec, train, val, model, 5), await fitOnRows(prepared, spec, train, val, model, 5), await fitOnRows(prepared, spec, train, val, model, 6)];
    try {
      const [a, b, c] = await Promise.all(fits.map((f) => f.model.weightsSha256()));
      expect(a).toMatch(/^[0-9a-f]{64}$/);
      expect(b).toBe(a);
      expect(c).not.toBe(a);
      expect(fits[1].epochs).toEqual(fits[0].epochs);
      expect(fits[1].pipeline.toJSON()).toEqual(fits[0].pipeline.toJSON());
    } finally {
      for (const f of fits) f.model.dispose();
    }
  });

  it('runs every fold, or stops after the fold where afterFold asks to prune', async () => {
    const spec = binarySpec({ cv: { folds: 3 }, preprocessing: [{ encode: 'onehot' }] });
    const prepared = separable(spec);
    const { folds } = planSplits(prepared, spec);
    const seen: [number, number][] = [];
    const complete = await runTrial(prepared, spec, folds, {}, 9, {
      afterFold: (k, scores) => {
        seen.push([k, scores.length]);
        return k === 2; // asking on the last fold changes nothing: the trial already ran fully
      },
    });
    expect(seen).toEqual([
      [0, 1],
      [1, 2],
      [2, 3],
    ]);
    expect(complete.status).toBe('complete');
    expect(complete.folds).toHaveLength(3);
    expect(complete.epochs.map((e) => [e.fold, e.epochs.length])).toEqual([
      [0, 2],
      [1, 2],
      [2, 2],
    ]);
    expect({ metrics: complete.metrics, std: complete.std }).toEqual(summarize(complete.folds));
    expect(Object.keys(complete.folds[0])).toEqual(expect.arrayContaining(['accuracy', 'roc_auc', 'log_loss']));

    const pruned = await runTrial(prepared, spec, folds, {}, 9, { afterFold: (k) => k === 0 });
    expect(pruned.status).toBe('pruned');
    expect(pruned.folds).toHaveLength(1);
    expect(pruned.epochs).toHaveLength(1);
    // The first fold is fitted from the same seed either way.
    expect(pruned.folds[0]).toEqual(complete.folds[0]);
    expect(pruned.metrics).toEqual(pruned.folds[0]);
    expect(Object.values(pruned.std).every((s) => s === 0)).toBe(true);
  });

  describe('class imbalance', () => {
    // 100 rows, 10 of class 1. x is ±1 alternating within each class, so it carries no
    // information and a logistic model learns only its bias: at the optimum the mean
    // predicted P(1) equals the (weighted) share of class 1 among the rows it trained on.
    const n = 100;
    const y = range(n).map((i) => Number(i < 10));
    const x = range(n).map((i) => (i % 2 === 0 ? 1 : -1));
    const model = { type: 'logistic' as const, epochs: 60, batchSize: 100, learningRate: 0.2 };
    const meanP = async (imbalance?: string): Promise<{ p: number; sha: string }> => {
      const spec = binarySpec({ model, ...(imbalance ? { imbalance: { method: imbalance } } : {}) });
      const prepared = prepareTrainingData({ x, y }, { x: 'numeric', y: 'numeric' }, spec);
      const trained = await fitOnRows(prepared, spec, range(n), undefined, modelSpecFor(spec, {}), 1);
      try {
        const out = predictRows(trained, prepared, range(n), 'binary');
        return { p: Array.from(out.values).reduce((a, b) => a + b, 0) / n, sha: await trained.model.weightsSha256() };
      } finally {
        trained.model.dispose();
      }
    };

    it('trains on the class shares as given without handling, and on balanced classes with each method', async () => {
      const none = await meanP();
      // 10/100 positives → P ≈ 0.1
      expect(none.p).toBeCloseTo(0.1, 1);
      // oversample: 90 + 90 rows; undersample: 10 + 10 rows; class_weight: 10·(100/20) = 90·(100/180) = 50 each → P ≈ 0.5
      for (const method of ['oversample', 'undersample', 'class_weight']) {
        const r = await meanP(method);
        expect([method, r.p]).toEqual([method, expect.closeTo(0.5, 1)]);
        expect(r.sha).not.toBe(none.sha);
      }
    }, 30_000);

    it('scores validation rows unweighted beside class-weighted training rows', async () => {
      const spec = binarySpec({ imbalance: { method: 'class_weight' }, model: { type: 'logistic', epochs: 1 } });
      const prepared = prepareTrainingData({ x, y }, { x: 'numeric', y: 'numeric' }, spec);
      const trained = await fitOnRows(prepared, spec, range(80), range(20).map((i) => 80 + i), modelSpecFor(spec, {}), 1);
      try {
        expect(trained.epochs[0].metrics).toEqual({ loss: expect.any(Number), val_loss: expect.any(Number) });
      } finally {
        trained.model.dispose();
      }
    });
  });
});
