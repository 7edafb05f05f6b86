import { initBackend } from '../models';
import type { Frame } from '../preprocessing/frame';
import type { AffineParams } from '../preprocessing/scalers';
import type { TargetEncoding } from '../preprocessing/encoders';
import { pipelineFromSpec } from './preprocessing-from-spec';
import { prepareTrainingData } from './prepare';
import { fitOnRows, modelSpecFor } from './trainer';
import { parseTrainingSpec } from './training-spec';
import { asCells } from '../preprocessing/test-helpers';

/**
 * THE LEAKAGE TEST. Validation rows carry values no training row has (x = 1e6,
 * category 'z' always labelled 1): if anything fitted on them, the learnt
 * scaler and encoder parameters would move far from the hand-computed
 * training-only values below.
 */

const spec = parseTrainingSpec({
  experiment: 'leak',
  task: 'binary',
  data: { dataset: { name: 'd' }, label: 'y' },
  preprocessing: [{ scale: 'standard' }, { encode: 'target' }],
  model: { type: 'logistic', epochs: 1, batchSize: 32 },
  seed: 3,
});

// 100 rows; every 5th row (4, 9, …, 99) is a validation row, interleaved so a
// mix-up of positions and row ids would show.
const n = 100;
const rows = Array.from({ length: n }, (_, i) => i);
const valRows = rows.filter((i) => i % 5 === 4);
const trainRows = rows.filter((i) => i % 5 !== 4);
const x: number[] = new Array(n);
const cat: string[] = new Array(n);
const y: number[] = new Array(n);
trainRows.forEach((r, k) => {
  x[r] = k + 1; // 1..80
  cat[r] = k < 40 ? 'a' : 'b';
  // 'a': ones at k = 0, 4, …, 36 → 10 of 40; 'b': ones at even k → 20 of 40
  y[r] = k < 40 ? Number(k % 4 === 0) : Number(k % 2 === 0);
});
for (const r of valRows) {
  x[r] = 1e6;
  cat[r] = 'z';
  y[r] = 1;
}
const frame: Frame = { x, cat, y };
const prepared = prepareTrainingData(frame, { x: 'numeric', cat: 'categorical', y: 'numeric' }, spec);

type StepJson<P> = { name: string; columns: string[]; transformer: { kind: string; params: Record<string, P> } };

describe('no leakage from validation rows into preprocessing', () => {
  beforeAll(async () => {
    await initBackend('wasm');
  });

  it('fits the scaler and the target encoder on the training rows only', async () => {
    expect(trainRows).toHaveLength(80);
    const trained = await fitOnRows(prepared, spec, trainRows, valRows, modelSpecFor(spec, {}), 11);
    try {
      const steps = trained.pipeline.toJSON().steps as unknown as StepJson<unknown>[];
      const [scale, encode] = steps;
      expect(scale.transformer.kind).toBe('StandardScaler');
      expect(scale.columns).toEqual(['x']);
      expect(encode.transformer.kind).toBe('TargetEncoder');
      expect(encode.columns).toEqual(['cat']);

      // x over the training rows is 1..80: mean 81/2 = 40.5, population variance (80² − 1)/12 = 533.25.
      // (With the validation rows the mean would be 0.8·40.5 + 0.2·1e6 = 200 032.4.)
      const sc = (scale as StepJson<AffineParams>).transformer.params.x;
      expect(sc.center).toBe(40.5);
      expect(sc.scale).toBeCloseTo(Math.sqrt(533.25), 10);

      // Training labels: 10 + 20 = 30 ones in 80 rows → prior 0.375 (0.5 if the 20 validation ones counted).
      // Smoothed with m = 10: a = (10 + 10·0.375)/(40 + 10) = 0.275; b = (20 + 3.75)/50 = 0.475.
      const te = (encode as StepJson<TargetEncoding>).transformer.params.cat;
      expect(te.categories).toEqual(['a', 'b']);
      expect(te.categories).not.toContain('z');
      expect(te.prior).toBe(0.375);
      expect(te.encodings[0]).toBeCloseTo(0.275, 12);
      expect(te.encodings[1]).toBeCloseTo(0.475, 12);

      // The validation rows are only transformed: 'z' is unknown, so it gets the training prior.
      const v = asCells(trained.pipeline.transform({ x: [1e6], cat: ['z'] }));
      expect(v.cat).toEqual([0.375]);
      expect(v.x[0]).toBeCloseTo((1e6 - 40.5) / Math.sqrt(533.25), 6);
      expect(trained.featureNames).toEqual(['x', 'cat']);
      // and early stopping's validation loss was computed on them.
      expect(trained.epochs).toHaveLength(1);
      expect(trained.epochs[0].metrics.val_loss).toEqual(expect.any(Number));
    } finally {
      trained.model.dispose();
    }
  });

  describe('out-of-fold target encoding of the training rows', () => {
    // 6 rows in two folds; row 5 is the only 's'.
    const f: Frame = { x: [1, 2, 3, 4, 5, 6], cat: ['a', 'a', 'b', 'b', 'a', 's'] };
    const labels = [1, 0, 1, 1, 0, 1];
    const folds = [
      [0, 2, 4],
      [1, 3, 5],
    ];

    it("encodes each row from the other folds only: a single-row category gets the other fold's prior", () => {
      const p = pipelineFromSpec(spec);
      const out = asCells(p.fitTransformOutOfFold(f, labels, folds));
      // Row 5 ('s', fold 1) from fold 0 (rows 0, 2, 4; labels 1, 1, 0): no 's' there → prior 2/3.
      expect(out.cat[5]).toBeCloseTo(2 / 3, 12);
      // Row 0 ('a', fold 0) from fold 1 (rows 1, 3, 5; labels 0, 1, 1): prior 2/3, one 'a' with label 0
      // → (0 + 10·2/3)/(1 + 10) = 20/33.
      expect(out.cat[0]).toBeCloseTo(20 / 33, 12);
      // The full fit, kept for new data, uses all six rows: prior 4/6, 's' → (1 + 10·2/3)/11 = 23/33.
      const full = asCells(p.transform(f));
      expect(full.cat[5]).toBeCloseTo(23 / 33, 12);
      expect(out.cat[5]).not.toBeCloseTo(full.cat[5] as number, 6);
    });

    it("never uses a row's own label: flipping it leaves the row's encoding unchanged", () => {
      const base = asCells(pipelineFromSpec(spec).fitTransformOutOfFold(f, labels, folds)).cat;
      for (let r = 0; r < labels.length; r++) {
        const flipped = labels.map((v, i) => (i === r ? 1 - v : v));
        const again = asCells(pipelineFromSpec(spec).fitTransformOutOfFold(f, flipped, folds)).cat;
        expect(again[r]).toBe(base[r]);
        // …while the rows of the other fold, which do learn from it, change.
        const otherFold = folds.find((fold) => !fold.includes(r))!;
        expect(otherFold.some((o) => again[o] !== base[o])).toBe(true);
      }
    });
  });
});
