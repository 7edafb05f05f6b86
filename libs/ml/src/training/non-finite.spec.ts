import { ValidationError } from '@mlp/contracts';
import { initBackend } from '../models';
import { codedColumn, type Frame } from '../preprocessing/frame';
import { planSplits } from './plan';
import { prepareTrainingData } from './prepare';
import { fitOnRows, modelSpecFor, runTrial } from './trainer';
import { parseTrainingSpec } from './training-spec';

jest.setTimeout(60_000);

beforeAll(async () => {
  await initBackend('wasm');
});

const n = 80;
const range = (k: number) => Array.from({ length: k }, (_, i) => i);

/** y = 1 when a > 40; `a` and `b` hold NaN, +Infinity and -Infinity in some rows, as a Parquet written with allowNonFinite does. */
function frameWithNonFinite(): Frame {
  const a: number[] = range(n).map((i) => (i * 37) % n);
  const y = a.map((v) => Number(v > 40));
  const b: number[] = range(n).map((i) => Math.sin(i) * 1e3);
  a[3] = Number.NaN;
  a[10] = Number.POSITIVE_INFINITY;
  b[5] = Number.NEGATIVE_INFINITY;
  b[6] = Number.POSITIVE_INFINITY;
  b[7] = Number.NaN;
  return { a, b, y };
}

const spec = (preprocessing: unknown[]) =>
  parseTrainingSpec({
    experiment: 'e',
    task: 'binary',
    data: { dataset: { name: 'd' }, label: 'y' },
    preprocessing,
    model: { type: 'mlp', layers: [8], epochs: 3, batchSize: 16 },
    cv: { folds: 2 },
  });

describe('training on non-finite numbers', () => {
  it('reads NaN and ±Infinity as missing, counts them, and an impute step gives finite weights', async () => {
    const s = spec([{ impute: 'mean' }, { scale: 'standard' }]);
    const prepared = prepareTrainingData(frameWithNonFinite(), { a: 'numeric', b: 'numeric', y: 'numeric' }, s);
    expect(prepared.nonFinite).toEqual({ a: 2, b: 3 });
    expect(prepared.warnings).toContain("column 'b': 3 non-finite values (NaN, ±Infinity) read as missing");
    const trained = await fitOnRows(prepared, s, range(n), undefined, modelSpecFor(s, {}), 7);
    try {
      expect(trained.model.history.map((h) => h.loss).every(Number.isFinite)).toBe(true);
      const saved = await trained.model.save('w');
      const values = new Float32Array(saved.weights);
      expect(values.length).toBeGreaterThan(0);
      expect(values.every((v) => Number.isFinite(v))).toBe(true);
      // The scaler learnt finite statistics from the finite values only.
      const scaler = (trained.pipeline.toJSON().steps[1].transformer as unknown as { params: Record<string, { center: number; scale: number }> }).params;
      for (const p of Object.values(scaler)) expect(Number.isFinite(p.center) && Number.isFinite(p.scale)).toBe(true);
    } finally {
      trained.model.dispose();
    }
    // A whole trial (CV folds) completes with finite scores.
    const result = await runTrial(prepared, s, planSplits(prepared, s).folds, {}, 3);
    expect(result.status).toBe('complete');
    expect(Object.values(result.metrics).every(Number.isFinite)).toBe(true);
  });

  it('without an impute step, refuses with an error naming the column instead of training on NaN', async () => {
    const s = spec([{ scale: 'standard' }]);
    const prepared = prepareTrainingData(frameWithNonFinite(), { a: 'numeric', b: 'numeric', y: 'numeric' }, s);
    const error = await fitOnRows(prepared, s, range(n), undefined, modelSpecFor(s, {}), 7).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(ValidationError);
    expect((error as ValidationError).message).toMatch(/^feature 'a' is missing at row 3 after preprocessing; add an impute/);
  });

  it('typed columns (Float32Array with NaN, coded categories) train to the same weights as the same values in plain cells', async () => {
    const s = spec([{ impute: 'median' }, { impute: 'most_frequent' }, { scale: 'robust' }, { encode: 'onehot', columns: 'categorical' }]);
    const base = frameWithNonFinite();
    // Plain cells with the values float32 holds, so both frames carry the same numbers.
    const b = Array.from(Float32Array.from(base.b as number[]));
    const plan = range(n).map((i) => (i % 7 === 0 ? null : ['basic', 'pro', 'team'][i % 3]));
    const cells: Frame = { a: base.a, b, plan, y: base.y };
    const typed: Frame = { a: Float32Array.from(base.a as number[]), b: Float32Array.from(b), plan: codedColumn(plan), y: base.y };
    const types = { a: 'numeric', b: 'numeric', plan: 'categorical', y: 'numeric' } as const;
    const fromCells = await fitOnRows(prepareTrainingData(cells, types, s), s, range(n), undefined, modelSpecFor(s, {}), 9);
    const fromTyped = await fitOnRows(prepareTrainingData(typed, types, s), s, range(n), undefined, modelSpecFor(s, {}), 9);
    try {
      expect(fromTyped.featureNames).toEqual(['a', 'b', 'plan=basic', 'plan=pro', 'plan=team']);
      expect(fromTyped.featureNames).toEqual(fromCells.featureNames);
      expect(await fromTyped.model.weightsSha256()).toBe(await fromCells.model.weightsSha256());
    } finally {
      fromCells.model.dispose();
      fromTyped.model.dispose();
    }
  });
});
