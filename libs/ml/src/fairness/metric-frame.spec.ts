import { accuracy } from '../evaluation/classification-metrics';
import { falsePositiveRate, groupRows, metricFrame, selectionRate, truePositiveRate } from './metric-frame';

describe('binary rates', () => {
  // yTrue [1,1,1,0,0,0], yPred [1,1,0,1,0,0]: TP 2, FN 1, FP 1, TN 2
  const t = [1, 1, 1, 0, 0, 0];
  const p = [1, 1, 0, 1, 0, 0];

  it('selection rate = predicted positives / rows; TPR = TP/(TP+FN); FPR = FP/(FP+TN)', () => {
    expect(selectionRate(t, p)).toBe(3 / 6);
    expect(truePositiveRate(t, p)).toBe(2 / 3);
    expect(falsePositiveRate(t, p)).toBe(1 / 3);
  });

  it('honours positiveLabel', () => {
    // with 0 positive: positives are rows 3,4,5 (pred 1,0,0 → TP 2 of 3); negatives rows 0,1,2 (pred 1,1,0 → FP 1 of 3)
    expect(selectionRate(t, p, { positiveLabel: 0 })).toBe(3 / 6);
    expect(truePositiveRate(t, p, { positiveLabel: 0 })).toBe(2 / 3);
    expect(falsePositiveRate(t, p, { positiveLabel: 0 })).toBe(1 / 3);
  });

  it('is NaN when the conditioning class is absent', () => {
    expect(truePositiveRate([0, 0], [1, 0])).toBeNaN();
    expect(falsePositiveRate([1, 1], [1, 0])).toBeNaN();
  });
});

describe('metricFrame', () => {
  it('computes every metric overall and per group, with counts and a "(missing)" group last', () => {
    const yTrue = [1, 0, 1, 1, 0];
    const yPred = [1, 1, 1, 0, 0];
    const sex = ['f', 'm', null, 'f', 'm'];
    const mf = metricFrame(yTrue, yPred, sex, { accuracy, selectionRate: (t, p) => selectionRate(t, p) });
    // overall: correct rows 0,2,4 → 3/5; predicted positives rows 0,1,2 → 3/5
    expect(mf.overall).toEqual({ accuracy: 3 / 5, selectionRate: 3 / 5 });
    // f: rows 0,3 → correct 1 of 2, selected 1 of 2; m: rows 1,4 → correct 1 of 2, selected 1 of 2; missing: row 2
    expect(mf.byGroup).toEqual({
      f: { accuracy: 1 / 2, selectionRate: 1 / 2, count: 2 },
      m: { accuracy: 1 / 2, selectionRate: 1 / 2, count: 2 },
      '(missing)': { accuracy: 1, selectionRate: 1, count: 1 },
    });
    expect(Object.keys(mf.byGroup)).toEqual(['f', 'm', '(missing)']);
  });

  it('orders groups booleans, numbers, strings and rejects ambiguous group names', () => {
    expect([...groupRows(['x', 10, false, 2, NaN, 'x']).entries()]).toEqual([
      ['false', [2]],
      ['2', [3]],
      ['10', [1]],
      ['x', [0, 5]],
      ['(missing)', [4]],
    ]);
    expect(() => groupRows([1, '1'])).toThrow(/both name group '1'/);
  });

  it('rejects mismatched lengths and a metric named count', () => {
    expect(() => metricFrame([1, 0], [1, 0], ['a'], { accuracy })).toThrow(/sensitive/);
    expect(() => metricFrame([1], [1], ['a'], { count: () => 0 })).toThrow(/reserved/);
  });
});
