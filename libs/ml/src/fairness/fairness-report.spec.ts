import { fairnessReport } from './fairness-report';

describe('fairnessReport', () => {
  it('binary: per-slice rates and the four disparities for each attribute, as plain JSON', () => {
    // group a: TP 2 FN 1 FP 1 TN 2; group c: no positives, pred [1,0] (see disparities.spec.ts)
    const yTrue = [1, 1, 1, 0, 0, 0, 0, 0];
    const yPred = [1, 1, 0, 1, 0, 0, 1, 0];
    const report = fairnessReport(yTrue, yPred, { group: ['a', 'a', 'a', 'a', 'a', 'a', 'c', 'c'], all: Array(8).fill('x') }, { task: 'binary' });
    expect(report.positiveLabel).toBe(1);
    // overall: correct rows 0,1,4,5,7 → 5/8; selected rows 0,1,3,6 → 4/8; TPR 2/3; FPR 2/5 (rows 3,6 of 3,4,5,6,7)
    expect(report.overall).toEqual({ count: 8, accuracy: 5 / 8, selectionRate: 1 / 2, truePositiveRate: 2 / 3, falsePositiveRate: 2 / 5 });
    expect(report.attributes.group.slices.c).toEqual({ count: 2, accuracy: 1 / 2, selectionRate: 1 / 2, truePositiveRate: null, falsePositiveRate: 1 / 2 });
    expect(report.attributes.group.slices.a.accuracy).toBeCloseTo(4 / 6, 12);
    expect(report.attributes.group.disparities).toEqual({
      demographicParityDifference: 0, // 1/2 vs 1/2
      demographicParityRatio: 1,
      equalOpportunityDifference: 0, // only a has positives
      equalizedOddsDifference: expect.closeTo(1 / 2 - 1 / 3, 12), // FPR 1/3 vs 1/2
    });
    // a single slice: no disparity
    expect(report.attributes.all.disparities?.equalizedOddsDifference).toBe(0);
    expect(JSON.parse(JSON.stringify(report))).toEqual(report);
  });

  it('binary: a missing rate becomes null in the disparities too', () => {
    const report = fairnessReport([0, 0], [1, 0], { g: ['a', 'b'] }, { task: 'binary' });
    expect(report.attributes.g.disparities?.equalOpportunityDifference).toBeNull();
  });

  it('multiclass: accuracy per slice, no disparities', () => {
    // x: rows 0,1 → 1 of 2 correct; missing: row 2 → correct
    const report = fairnessReport(['a', 'b', 'c'], ['a', 'c', 'c'], { s: [true, true, null] }, { task: 'multiclass' });
    expect(report.attributes.s).toEqual({ slices: { true: { count: 2, accuracy: 0.5 }, '(missing)': { count: 1, accuracy: 1 } } });
    expect(report.overall).toEqual({ count: 3, accuracy: 2 / 3 });
  });

  it('regression: rmse and mae per slice', () => {
    // x: residuals 0, 0; y: residuals −2, 4 → mae 3, rmse √((4+16)/2) = √10; overall mae 6/4, rmse √(20/4)
    const report = fairnessReport([1, 2, 3, 4], [1, 2, 5, 0], { s: ['x', 'x', 'y', 'y'] }, { task: 'regression' });
    expect(report.attributes.s.slices).toEqual({ x: { count: 2, rmse: 0, mae: 0 }, y: { count: 2, rmse: Math.sqrt(10), mae: 3 } });
    expect(report.overall).toEqual({ count: 4, rmse: Math.sqrt(5), mae: 1.5 });
  });

  it('still reports overall metrics without sensitive columns', () => {
    expect(fairnessReport([1, 0], [1, 1], {}, { task: 'binary' }).overall).toEqual({
      count: 2,
      accuracy: 0.5,
      selectionRate: 1,
      truePositiveRate: 1,
      falsePositiveRate: 1,
    });
  });

  it('rejects bad input', () => {
    expect(() => fairnessReport([0, 1, 2], [0, 1, 2], {}, { task: 'binary' })).toThrow(/3 labels/);
    expect(() => fairnessReport(['y', 'n'], ['y', 'n'], {}, { task: 'binary' })).toThrow(/positiveLabel/);
    expect(() => fairnessReport([1, 0], [1, 0], { s: ['a'] }, { task: 'binary' })).toThrow(/sensitiveColumns.s/);
    expect(() => fairnessReport(['a'], ['b'], {}, { task: 'regression' })).toThrow(/finite number/);
  });
});
