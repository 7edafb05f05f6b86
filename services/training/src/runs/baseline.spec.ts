import { columnStats, sampleRows } from './baseline';

describe('training baseline', () => {
  it('describes a numeric column like numpy (mean, sample std with ddof=1, bounds) with missing values counted apart', () => {
    // numpy: np.mean([1,2,4,8]) = 3.75, np.std([1,2,4,8], ddof=1) = 3.095695936834452
    expect(columnStats([1, 2, null, 4, Number.NaN, 8])).toEqual({ kind: 'numeric', count: 4, missing: 2, mean: 3.75, std: expect.closeTo(3.095695936834452, 12), min: 1, max: 8 });
  });

  it('counts categorical values, the most frequent first', () => {
    expect(columnStats(['b', 'a', 'b', null, true, 'b', 'a'])).toEqual({ kind: 'categorical', count: 6, missing: 1, top: { b: 3, a: 2, true: 1 }, distinct: 3 });
  });

  it('samples distinct rows deterministically, in row order, and keeps every row of a small set', () => {
    const rows = Array.from({ length: 1000 }, (_, i) => i * 2);
    const a = sampleRows(rows, 100, 7);
    expect(a).toHaveLength(100);
    expect(new Set(a).size).toBe(100);
    expect(a.every((r) => rows.includes(r))).toBe(true);
    expect([...a].sort((x, y) => x - y)).toEqual(a);
    expect(sampleRows(rows, 100, 7)).toEqual(a);
    expect(sampleRows(rows, 100, 8)).not.toEqual(a);
    expect(sampleRows([5, 3], 100, 1)).toEqual([5, 3]);
  });
});
