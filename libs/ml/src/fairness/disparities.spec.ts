import { demographicParityDifference, demographicParityRatio, equalOpportunityDifference, equalizedOddsDifference } from './disparities';

describe('fairlearn user-guide example (common fairness metrics)', () => {
  const yTrue = [0, 1, 1, 1, 1, 0, 1, 0, 1, 0, 0, 0, 1, 1, 1, 1, 1, 1];
  const yPred = [0, 0, 1, 0, 1, 1, 1, 0, 0, 1, 1, 1, 1, 0, 0, 1, 1, 0];
  const sf = ['b', 'b', 'a', 'b', 'b', 'c', 'c', 'c', 'a', 'a', 'c', 'a', 'b', 'c', 'c', 'b', 'c', 'c'];
  // a (rows 2,8,9,11):  selection 3/4, TPR 1/2, FPR 2/2
  // b (rows 0,1,3,4,12,15): selection 3/6, TPR 3/5, FPR 0/1
  // c (rows 5,6,7,10,13,14,16,17): selection 4/8, TPR 2/5, FPR 2/3

  it('matches the documented values', () => {
    expect(demographicParityDifference(yTrue, yPred, sf)).toBeCloseTo(0.25, 12); // docs: 0.25
    expect(demographicParityRatio(yTrue, yPred, sf)).toBeCloseTo(2 / 3, 12); // docs: 0.66666...
    expect(equalizedOddsDifference(yTrue, yPred, sf)).toBeCloseTo(1, 12); // docs: 1.0
  });

  it('equal opportunity difference is the TPR spread 3/5 − 2/5', () => {
    expect(equalOpportunityDifference(yTrue, yPred, sf)).toBeCloseTo(0.2, 12);
  });
});

describe('hand-worked groups', () => {
  // a: yTrue [1,1,1,0,0,0], yPred [1,1,0,1,0,0] → TP 2 FN 1 FP 1 TN 2: sel 1/2, TPR 2/3, FPR 1/3
  // b: yTrue [1,1,0,0],     yPred [1,1,1,1]     → TP 2 FN 0 FP 2 TN 0: sel 1,   TPR 1,   FPR 1
  // c: yTrue [0,0],         yPred [1,0]         → no positives:        sel 1/2, TPR —,   FPR 1/2
  const yTrue = [1, 1, 1, 0, 0, 0, 1, 1, 0, 0, 0, 0];
  const yPred = [1, 1, 0, 1, 0, 0, 1, 1, 1, 1, 1, 0];
  const ab = ['a', 'a', 'a', 'a', 'a', 'a', 'b', 'b', 'b', 'b'];
  const abc = [...ab, 'c', 'c'];

  it('two groups', () => {
    const t = yTrue.slice(0, 10);
    const p = yPred.slice(0, 10);
    expect(demographicParityDifference(t, p, ab)).toBeCloseTo(1 / 2, 12);
    expect(demographicParityRatio(t, p, ab)).toBeCloseTo(1 / 2, 12);
    expect(equalOpportunityDifference(t, p, ab)).toBeCloseTo(1 / 3, 12);
    // max(TPR spread 1/3, FPR spread 2/3)
    expect(equalizedOddsDifference(t, p, ab)).toBeCloseTo(2 / 3, 12);
  });

  it('skips a group without positives in the TPR spread but keeps its FPR', () => {
    expect(equalOpportunityDifference(yTrue, yPred, abc)).toBeCloseTo(1 / 3, 12);
    // FPR 1/3, 1, 1/2 → spread 2/3; TPR 2/3, 1 → 1/3
    expect(equalizedOddsDifference(yTrue, yPred, abc)).toBeCloseTo(2 / 3, 12);
    expect(demographicParityDifference(yTrue, yPred, abc)).toBeCloseTo(1 / 2, 12);
  });

  it('is NaN when no group has the rate defined; the ratio is 1 when nobody is selected', () => {
    expect(equalOpportunityDifference([0, 0], [1, 0], ['a', 'b'])).toBeNaN();
    // no positives anywhere: equalized odds falls back to the FPR spread 1 − 0
    expect(equalizedOddsDifference([0, 0], [1, 0], ['a', 'b'])).toBe(1);
    expect(demographicParityRatio([1, 0], [0, 0], ['a', 'b'])).toBe(1);
    expect(demographicParityDifference([1, 0], [0, 0], ['a', 'b'])).toBe(0);
  });

  it('honours positiveLabel with string labels', () => {
    // a: pred yes 1 of 2; b: pred yes 0 of 2
    expect(demographicParityDifference(['yes', 'no', 'yes', 'no'], ['yes', 'no', 'no', 'no'], ['a', 'a', 'b', 'b'], { positiveLabel: 'yes' })).toBe(0.5);
  });
});
