import { ValidationError } from '@mlp/contracts';
import { SeededRng } from '../random/seeded-rng';
import { groupKFold, kFold, stratifiedKFold, timeSeriesSplit } from './cross-validation';
import { IndexSplit } from './metric-inputs';

const all = (n: number) => Array.from({ length: n }, (_, i) => i);
const sorted = (xs: number[]) => [...xs].sort((a, b) => a - b);

/** Each fold partitions 0..n-1 and the test folds together cover every row once. */
function expectFoldsPartition(folds: IndexSplit[], n: number): void {
  for (const fold of folds) expect(sorted([...fold.train, ...fold.test])).toEqual(all(n));
  expect(sorted(folds.flatMap((f) => f.test))).toEqual(all(n));
}

describe('kFold', () => {
  it('matches sklearn KFold without shuffling', () => {
    expect(kFold(4, 2)).toEqual([
      { train: [2, 3], test: [0, 1] },
      { train: [0, 1], test: [2, 3] },
    ]);
    expect(kFold(5, 3).map((f) => f.test)).toEqual([[0, 1], [2, 3], [4]]);
  });

  it('shuffles deterministically with a seeded rng', () => {
    const folds = kFold(23, 4, { shuffle: true, rng: new SeededRng(1) });
    expectFoldsPartition(folds, 23);
    expect(folds.map((f) => f.test.length)).toEqual([6, 6, 6, 5]);
    expect(kFold(23, 4, { shuffle: true, rng: new SeededRng(1) })).toEqual(folds);
    expect(folds).not.toEqual(kFold(23, 4));
  });

  it('validates k against n', () => {
    expect(() => kFold(3, 4)).toThrow(/cannot exceed the number of rows \(3\)/);
    expect(() => kFold(10, 1)).toThrow(ValidationError);
    expect(() => kFold(10, 2.5)).toThrow(ValidationError);
    expect(() => kFold(10, 2, { shuffle: true })).toThrow(/rng/);
  });
});

describe('stratifiedKFold', () => {
  it('keeps each class within one row of its share per fold', () => {
    const rng = new SeededRng(2);
    const labels = Array.from({ length: 97 }, () => ['x', 'y', 'z'][Math.min(2, Math.floor(rng.next() * 2.4))]);
    for (const shuffleRng of [undefined, new SeededRng(3)]) {
      const folds = stratifiedKFold(labels, 5, shuffleRng);
      expectFoldsPartition(folds, labels.length);
      for (const label of ['x', 'y', 'z']) {
        const total = labels.filter((l) => l === label).length;
        for (const fold of folds) {
          const inFold = fold.test.filter((i) => labels[i] === label).length;
          expect(Math.abs(inFold - total / 5)).toBeLessThan(1);
        }
      }
      const sizes = folds.map((f) => f.test.length);
      expect(Math.max(...sizes) - Math.min(...sizes)).toBeLessThanOrEqual(1);
    }
  });

  it('validates k against n', () => {
    expect(() => stratifiedKFold([0, 1], 3)).toThrow(ValidationError);
  });
});

describe('timeSeriesSplit', () => {
  it('matches sklearn TimeSeriesSplit(n_splits=5) on 6 samples', () => {
    expect(timeSeriesSplit(6, 5)).toEqual([
      { train: [0], test: [1] },
      { train: [0, 1], test: [2] },
      { train: [0, 1, 2], test: [3] },
      { train: [0, 1, 2, 3], test: [4] },
      { train: [0, 1, 2, 3, 4], test: [5] },
    ]);
  });

  it('uses test folds of n // (k + 1) at the end with an expanding window', () => {
    // sklearn: n=10, k=3 -> test_size 2, test starts 4, 6, 8
    expect(timeSeriesSplit(10, 3)).toEqual([
      { train: [0, 1, 2, 3], test: [4, 5] },
      { train: [0, 1, 2, 3, 4, 5], test: [6, 7] },
      { train: [0, 1, 2, 3, 4, 5, 6, 7], test: [8, 9] },
    ]);
    for (const fold of timeSeriesSplit(50, 4)) expect(Math.max(...fold.train)).toBeLessThan(Math.min(...fold.test));
  });

  it('validates k against n', () => {
    expect(() => timeSeriesSplit(5, 5)).toThrow(/k \+ 1/);
    expect(() => timeSeriesSplit(5, 1)).toThrow(ValidationError);
  });
});

describe('groupKFold', () => {
  it('assigns the largest groups first to the lightest fold (by hand)', () => {
    // sizes a 3, b 2, c 1, d 1: a->0, b->1, c->1, d->0
    expect(groupKFold(['a', 'a', 'a', 'b', 'b', 'c', 'd'], 2)).toEqual([
      { train: [3, 4, 5], test: [0, 1, 2, 6] },
      { train: [0, 1, 2, 6], test: [3, 4, 5] },
    ]);
  });

  it('never splits a group across folds', () => {
    const rng = new SeededRng(6);
    const groups = Array.from({ length: 80 }, () => rng.int(0, 15));
    const folds = groupKFold(groups, 4);
    expectFoldsPartition(folds, groups.length);
    for (const fold of folds) {
      const testGroups = new Set(fold.test.map((i) => groups[i]));
      expect(fold.train.filter((i) => testGroups.has(groups[i]))).toEqual([]);
    }
  });

  it('needs at least k groups', () => {
    expect(() => groupKFold([1, 1, 2, 2], 3)).toThrow(/number of groups \(2\)/);
  });
});
