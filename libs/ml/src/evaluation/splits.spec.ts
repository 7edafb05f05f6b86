import { ValidationError } from '@mlp/contracts';
import { SeededRng } from '../random/seeded-rng';
import { groupSplit, randomSplit, stratifiedSplit, timeSplit } from './splits';

const sorted = (xs: number[]) => [...xs].sort((a, b) => a - b);
const expectPartition = (split: { train: number[]; test: number[] }, n: number) => {
  expect(sorted([...split.train, ...split.test])).toEqual(Array.from({ length: n }, (_, i) => i));
};

describe('randomSplit', () => {
  it('holds out ceil(test · n) rows, partitions, and repeats for a seed', () => {
    const split = randomSplit(10, { test: 0.25, rng: new SeededRng(1) });
    expect(split.test).toHaveLength(3);
    expectPartition(split, 10);
    expect(randomSplit(10, { test: 0.25, rng: new SeededRng(1) })).toEqual(split);
    expect(randomSplit(100, { test: 0.3, rng: new SeededRng(2) })).not.toEqual(randomSplit(100, { test: 0.3, rng: new SeededRng(3) }));
  });

  it('rejects fractions outside (0, 1) and splits leaving no training row', () => {
    expect(() => randomSplit(10, { test: 1, rng: new SeededRng(1) })).toThrow(ValidationError);
    expect(() => randomSplit(1, { test: 0.5, rng: new SeededRng(1) })).toThrow(ValidationError);
  });
});

describe('stratifiedSplit', () => {
  it('keeps each class within one row of its share', () => {
    const labels = [...Array(50).fill('a'), ...Array(30).fill('b'), ...Array(7).fill('c')];
    for (const seed of [1, 2, 3]) {
      const split = stratifiedSplit(labels, { test: 0.3, rng: new SeededRng(seed) });
      expectPartition(split, labels.length);
      expect(split.test).toHaveLength(Math.ceil(0.3 * labels.length));
      for (const [label, count] of [['a', 50], ['b', 30], ['c', 7]] as const) {
        const inTest = split.test.filter((i) => labels[i] === label).length;
        expect(Math.abs(inTest - (count * split.test.length) / labels.length)).toBeLessThan(1);
      }
    }
  });
});

describe('timeSplit', () => {
  it('puts the latest rows in test without leaking earlier rows', () => {
    const times = [5, 1, 9, 3, 7, 2, 8, 4, 6, 0];
    const split = timeSplit(times, { test: 0.3 });
    // times 7, 8, 9 are rows 4, 6, 2
    expect(split).toEqual({ train: [0, 1, 3, 5, 7, 8, 9], test: [2, 4, 6] });
  });

  it('never leaks and keeps ties on one side', () => {
    const rng = new SeededRng(4);
    for (let trial = 0; trial < 30; trial++) {
      const times = Array.from({ length: 25 }, () => rng.int(0, 6));
      if (new Set(times).size < 2) continue;
      const split = timeSplit(times, { test: 0.2 });
      expectPartition(split, times.length);
      expect(split.train.length).toBeGreaterThan(0);
      expect(split.test.length).toBeGreaterThan(0);
      const latestTrain = Math.max(...split.train.map((i) => times[i]));
      const earliestTest = Math.min(...split.test.map((i) => times[i]));
      expect(earliestTest).toBeGreaterThan(latestTrain);
    }
  });

  it('accepts Dates and rejects all-equal times', () => {
    const day = (d: number) => new Date(Date.UTC(2024, 0, d));
    expect(timeSplit([day(3), day(1), day(2), day(4)], { test: 0.5 })).toEqual({ train: [1, 2], test: [0, 3] });
    expect(() => timeSplit([1, 1, 1], { test: 0.5 })).toThrow(ValidationError);
  });
});

describe('groupSplit', () => {
  it('never puts a group on both sides and repeats for a seed', () => {
    const rng = new SeededRng(8);
    const groups = Array.from({ length: 60 }, () => `g${rng.int(0, 12)}`);
    const split = groupSplit(groups, { test: 0.25, rng: new SeededRng(5) });
    expectPartition(split, groups.length);
    const trainGroups = new Set(split.train.map((i) => groups[i]));
    const testGroups = new Set(split.test.map((i) => groups[i]));
    expect([...testGroups].filter((g) => trainGroups.has(g))).toEqual([]);
    expect(testGroups.size).toBe(Math.ceil(0.25 * new Set(groups).size));
    expect(groupSplit(groups, { test: 0.25, rng: new SeededRng(5) })).toEqual(split);
  });

  it('rejects a single group', () => {
    expect(() => groupSplit(['a', 'a'], { test: 0.5, rng: new SeededRng(1) })).toThrow(ValidationError);
  });
});
