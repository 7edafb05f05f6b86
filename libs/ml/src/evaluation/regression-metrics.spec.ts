import { ValidationError } from '@mlp/contracts';
import { meanAbsoluteError, meanAbsolutePercentageError, meanSquaredError, r2Score, rootMeanSquaredError } from './regression-metrics';

// sklearn documentation example data.
const yTrue = [3, -0.5, 2, 7];
const yPred = [2.5, 0.0, 2, 8];

describe('regression metrics', () => {
  it('match sklearn reference values', () => {
    expect(meanAbsoluteError(yTrue, yPred)).toBeCloseTo(0.5, 12);
    expect(meanSquaredError(yTrue, yPred)).toBeCloseTo(0.375, 12);
    expect(rootMeanSquaredError(yTrue, yPred)).toBeCloseTo(Math.sqrt(0.375), 12);
    expect(r2Score(yTrue, yPred)).toBeCloseTo(0.9486081370449679, 12);
    expect(meanAbsolutePercentageError(yTrue, yPred)).toBeCloseTo(0.3273809523809524, 12);
  });

  it('give R² of 1 for perfect predictions and can go negative', () => {
    expect(r2Score([1, 2, 3], [1, 2, 3])).toBe(1);
    expect(r2Score([1, 2, 3], [3, 2, 1])).toBeCloseTo(-3, 12);
  });

  it('follow sklearn for a constant target: 1 when perfect, else 0', () => {
    expect(r2Score([2, 2, 2], [2, 2, 2])).toBe(1);
    expect(r2Score([2, 2, 2], [2, 2, 3])).toBe(0);
  });

  it('keep MAPE finite for a zero target', () => {
    const value = meanAbsolutePercentageError([0, 1], [1, 1]);
    expect(Number.isFinite(value)).toBe(true);
    expect(value).toBeGreaterThan(1e15);
  });

  it('reject empty, mismatched and non-finite inputs', () => {
    expect(() => meanAbsoluteError([], [])).toThrow(ValidationError);
    expect(() => meanSquaredError([1, 2], [1])).toThrow(ValidationError);
    expect(() => r2Score([1, NaN], [1, 2])).toThrow(/yTrue\[1\]/);
  });
});
