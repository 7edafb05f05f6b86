import type { IndexSplit } from '../evaluation/metric-inputs';
import type { Frame } from '../preprocessing/frame';
import { planSplits, type SplitPlan } from './plan';
import { type PreparedData, prepareTrainingData } from './prepare';
import { parseTrainingSpec, type TrainingSpec } from './training-spec';

const n = 100;
const range = (k: number) => Array.from({ length: k }, (_, i) => i);
/** 37 is coprime with 100, so i ↦ 37·i mod 100 gives 100 distinct times in scrambled row order. */
const frame: Frame = {
  label: range(n).map((i) => (i % 3 === 0 ? 1 : 0)),
  x: range(n).map((i) => (i * 13) % 17),
  ts: range(n).map((i) => (37 * i) % n),
  customer: range(n).map((i) => `g${i % 20}`), // 20 groups of 5 rows
};

function setup(overrides: Record<string, unknown>): { spec: TrainingSpec; prepared: PreparedData } {
  const spec = parseTrainingSpec({ experiment: 'e', task: 'binary', data: { dataset: { name: 'd' }, label: 'label' }, model: { type: 'logistic' }, ...overrides });
  return { spec, prepared: prepareTrainingData(frame, { label: 'numeric', x: 'numeric', ts: 'numeric', customer: 'categorical' }, spec) };
}

/** Every row of the data in exactly one side. */
function expectPartition(split: IndexSplit, rows: readonly number[]): void {
  expect([...split.train, ...split.test].sort((a, b) => a - b)).toEqual([...rows].sort((a, b) => a - b));
}

/** Folds draw only from the holdout's training rows, and every such row is validated exactly once (for a k-fold CV). */
function expectFoldsInsideHoldoutTrain(plan: SplitPlan, everyRowValidatedOnce: boolean): void {
  const train = new Set(plan.holdout.train);
  for (const f of plan.folds) {
    for (const r of [...f.train, ...f.test]) expect(train.has(r)).toBe(true);
    expect(f.test.some((r) => f.train.includes(r))).toBe(false);
  }
  if (everyRowValidatedOnce) expect(plan.folds.flatMap((f) => f.test).sort((a, b) => a - b)).toEqual(plan.holdout.train);
}

describe('planSplits', () => {
  it('is a function of the seed: the same seed gives the same indices and hash, another seed another', () => {
    const a = setup({ seed: 7, cv: { folds: 5 } });
    const first = planSplits(a.prepared, a.spec);
    const again = planSplits(a.prepared, a.spec);
    expect(again).toEqual(first);
    expect(first.indicesSha256).toMatch(/^[0-9a-f]{64}$/);
    const b = setup({ seed: 8, cv: { folds: 5 } });
    const other = planSplits(b.prepared, b.spec);
    expect(other.indicesSha256).not.toBe(first.indicesSha256);
    expect(other.holdout.test).not.toEqual(first.holdout.test);
  });

  it('holds out the test fraction and partitions the rows (random split, k-fold CV)', () => {
    const { spec, prepared } = setup({ split: { method: 'random', test: 0.25 }, cv: { folds: 4 } });
    const plan = planSplits(prepared, spec);
    expect(plan.holdout.test).toHaveLength(25);
    expectPartition(plan.holdout, range(n));
    expect(plan.folds).toHaveLength(4);
    for (const f of plan.folds) expectPartition(f, plan.holdout.train);
    expectFoldsInsideHoldoutTrain(plan, true);
  });

  it('never lets a test row into a fold, whatever the CV method', () => {
    const variants: Record<string, unknown>[] = [
      {},
      { cv: { folds: 3, method: 'stratified' } },
      { split: { method: 'stratified' }, cv: { folds: 5, method: 'stratified' } },
      { split: { method: 'group', column: 'customer' }, cv: { folds: 4, method: 'group' } },
      { split: { method: 'time', column: 'ts' }, cv: { folds: 4, method: 'timeseries' } },
      { split: { method: 'time', column: 'ts' } },
    ];
    for (const v of variants) {
      const { spec, prepared } = setup(v);
      const plan = planSplits(prepared, spec);
      expect(plan.folds.length).toBeGreaterThan(0);
      expectFoldsInsideHoldoutTrain(plan, spec.cv !== undefined && spec.cv.method !== 'timeseries');
    }
  });

  it('time split: every test row is later than every training row; each time-series fold validates on later rows', () => {
    const { spec, prepared } = setup({ split: { method: 'time', column: 'ts', test: 0.2 }, cv: { folds: 4, method: 'timeseries' } });
    const time = (r: number) => prepared.order![r] as number;
    const plan = planSplits(prepared, spec);
    // ts is a permutation of 0..99, so the holdout is exactly the times 80..99.
    expect(plan.holdout.test.map(time).sort((a, b) => a - b)).toEqual(range(20).map((i) => 80 + i));
    expect(Math.max(...plan.holdout.train.map(time))).toBeLessThan(Math.min(...plan.holdout.test.map(time)));
    // TimeSeriesSplit over 80 rows, 4 folds: size floor(80/5) = 16, validation blocks start at 16, 32, 48, 64.
    expect(plan.folds.map((f) => [f.train.length, f.test.length])).toEqual([
      [16, 16],
      [32, 16],
      [48, 16],
      [64, 16],
    ]);
    for (const f of plan.folds) expect(Math.max(...f.train.map(time))).toBeLessThan(Math.min(...f.test.map(time)));
  });

  it('time split without CV: the validation rows are the latest 20% of the training rows', () => {
    const { spec, prepared } = setup({ split: { method: 'time', column: 'ts', test: 0.2 } });
    const time = (r: number) => prepared.order![r] as number;
    const [f] = planSplits(prepared, spec).folds;
    expect(f.test.map(time).sort((a, b) => a - b)).toEqual(range(16).map((i) => 64 + i));
    expect(Math.max(...f.train.map(time))).toBeLessThan(Math.min(...f.test.map(time)));
  });

  it('group split: no group has rows on both sides, in the holdout or in any fold', () => {
    const { spec, prepared } = setup({ split: { method: 'group', column: 'customer', test: 0.2 }, cv: { folds: 4, method: 'group' } });
    const group = (r: number) => prepared.groups![r];
    const plan = planSplits(prepared, spec);
    const disjoint = (s: IndexSplit) => {
      const test = new Set(s.test.map(group));
      expect(s.train.filter((r) => test.has(group(r)))).toEqual([]);
    };
    disjoint(plan.holdout);
    // ceil(0.2 · 20 groups) = 4 groups of 5 rows held out
    expect(new Set(plan.holdout.test.map(group)).size).toBe(4);
    expect(plan.holdout.test).toHaveLength(20);
    for (const f of plan.folds) disjoint(f);
  });
});
