import { SeededRng } from '../random/seeded-rng';
import { randomOverSample, randomUnderSample } from './resampling';

// Labels of 12 rows. Training fold = rows 0..8: class 0 ×5 (rows 0,1,2,3,4), 1 ×3 (5,6,7), 2 ×1 (8).
// Rows 9..11 play the test fold and must never come back.
const labels = [0, 0, 0, 0, 0, 1, 1, 1, 2, 1, 2, 2];
const train = [0, 1, 2, 3, 4, 5, 6, 7, 8];

function countByLabel(rows: number[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const r of rows) out[labels[r]] = (out[labels[r]] ?? 0) + 1;
  return out;
}

describe('randomOverSample', () => {
  it('tops every class up to the majority count, keeping the original rows first', () => {
    const rows = randomOverSample(train, labels, new SeededRng(7));
    // majority 5 → class 1 gains 2, class 2 gains 4: 9 + 6 = 15 rows
    expect(countByLabel(rows)).toEqual({ 0: 5, 1: 5, 2: 5 });
    expect(rows.slice(0, train.length)).toEqual(train);
    expect(rows.slice(train.length, train.length + 2).every((r) => labels[r] === 1)).toBe(true);
    expect(rows.slice(train.length + 2)).toEqual([8, 8, 8, 8]);
  });

  it('only returns rows from `indices` and is deterministic per seed', () => {
    const a = randomOverSample(train, labels, new SeededRng(1));
    expect(a.every((r) => train.includes(r))).toBe(true);
    expect(randomOverSample(train, labels, new SeededRng(1))).toEqual(a);
  });

  it('leaves balanced data unchanged and rejects bad indices', () => {
    expect(randomOverSample([0, 5], labels, new SeededRng(1))).toEqual([0, 5]);
    expect(() => randomOverSample([], labels, new SeededRng(1))).toThrow(/must not be empty/);
    expect(() => randomOverSample([0, 12], labels, new SeededRng(1))).toThrow(/indices\[1\]/);
  });
});

describe('randomUnderSample', () => {
  it('cuts every class down to the minority count, without replacement, sorted', () => {
    const rows = randomUnderSample(train, labels, new SeededRng(3));
    expect(countByLabel(rows)).toEqual({ 0: 1, 1: 1, 2: 1 });
    expect(rows).toContain(8);
    expect([...rows].sort((x, y) => x - y)).toEqual(rows);
  });

  it('draws distinct rows from `indices` only, deterministically per seed', () => {
    const fold = [1, 2, 3, 4, 5, 6, 7, 9]; // class 0 ×4, class 1 ×4 (rows 5,6,7,9): nothing to cut
    expect(randomUnderSample(fold, labels, new SeededRng(2))).toEqual(fold);
    const a = randomUnderSample([0, 1, 2, 3, 4, 5, 6], labels, new SeededRng(11)); // 5 vs 2 → 2 vs 2
    expect(countByLabel(a)).toEqual({ 0: 2, 1: 2 });
    expect(new Set(a).size).toBe(4);
    expect(a.every((r) => r <= 6)).toBe(true);
    expect(randomUnderSample([0, 1, 2, 3, 4, 5, 6], labels, new SeededRng(11))).toEqual(a);
  });

  it('varies the kept rows with the seed', () => {
    const kept = new Set<string>();
    for (let seed = 0; seed < 20; seed++) kept.add(randomUnderSample(train, labels, new SeededRng(seed)).join(','));
    expect(kept.size).toBeGreaterThan(1);
  });
});
