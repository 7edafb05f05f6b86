import { classWeights, sampleWeights } from './class-weights';

describe('classWeights (sklearn compute_class_weight "balanced")', () => {
  it('is n / (n_classes · count)', () => {
    // y [0,0,0,1]: n 4, 2 classes → class 0: 4/(2·3) = 2/3; class 1: 4/(2·1) = 2
    const w = classWeights([0, 0, 0, 1]);
    expect([...w.keys()]).toEqual([0, 1]);
    expect(w.get(0)).toBeCloseTo(2 / 3, 12);
    expect(w.get(1)).toBe(2);
  });

  it('gives every class the same total weight', () => {
    // 6 rows, 3 classes: a 6/(3·1) = 2, b 6/(3·2) = 1, c 6/(3·3) = 2/3; each class totals 2
    const y = ['c', 'b', 'a', 'c', 'b', 'c'];
    const w = classWeights(y);
    expect([...w.entries()]).toEqual([
      ['a', 2],
      ['b', 1],
      ['c', expect.closeTo(2 / 3, 12)],
    ]);
    const perRow = sampleWeights(y, w);
    expect(perRow).toEqual([2 / 3, 1, 2, 2 / 3, 1, 2 / 3].map((v) => expect.closeTo(v, 12)));
    expect(perRow.reduce((s, v) => s + v, 0)).toBeCloseTo(6, 12);
  });

  it('rejects empty y, an unknown mode and labels without a weight', () => {
    expect(() => classWeights([])).toThrow(/must not be empty/);
    expect(() => classWeights([0], 'other' as never)).toThrow(/must be 'balanced'/);
    expect(() => sampleWeights([0, 2], new Map([[0, 1]]))).toThrow(/y\[1\] has no class weight/);
  });
});
