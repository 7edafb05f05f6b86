import { ValidationError } from '@mlp/contracts';
import { SeededRng } from '../random/seeded-rng';
import {
  accuracy,
  averagePrecision,
  brierScore,
  calibrationCurve,
  confusionMatrix,
  f1Score,
  logLoss,
  precision,
  precisionRecallF1,
  recall,
  rocAuc,
  rocAucOvr,
  rocCurve,
} from './classification-metrics';

// Reference values from the scikit-learn documentation examples unless marked "by hand".
describe('confusionMatrix', () => {
  it('matches sklearn for numeric labels', () => {
    expect(confusionMatrix([2, 0, 2, 2, 0, 1], [0, 0, 2, 2, 0, 2])).toEqual({
      labels: [0, 1, 2],
      matrix: [
        [2, 0, 0],
        [0, 0, 1],
        [1, 0, 2],
      ],
    });
  });

  it('follows the given label order and ignores other labels', () => {
    const yTrue = ['cat', 'ant', 'cat', 'cat', 'ant', 'bird'];
    const yPred = ['ant', 'ant', 'cat', 'cat', 'ant', 'cat'];
    expect(confusionMatrix(yTrue, yPred, ['ant', 'bird', 'cat']).matrix).toEqual([
      [2, 0, 0],
      [0, 0, 1],
      [1, 0, 2],
    ]);
    expect(confusionMatrix(yTrue, yPred, ['cat', 'ant']).matrix).toEqual([
      [2, 1],
      [0, 2],
    ]);
  });

  it('rejects mismatched lengths', () => {
    expect(() => confusionMatrix([1, 0], [1])).toThrow(ValidationError);
  });
});

describe('accuracy', () => {
  it('is the fraction of exact matches', () => {
    expect(accuracy([0, 2, 1, 3], [0, 1, 2, 3])).toBe(0.5);
    expect(accuracy(['a', 'b'], ['a', 'b'])).toBe(1);
  });
});

describe('precision, recall and F1', () => {
  const yTrue = [0, 1, 2, 0, 1, 2];
  const yPred = [0, 2, 1, 0, 0, 1];

  it('averages multiclass scores macro, micro and weighted like sklearn', () => {
    expect(f1Score(yTrue, yPred, { average: 'macro' })).toBeCloseTo(0.26666666, 6);
    expect(f1Score(yTrue, yPred, { average: 'micro' })).toBeCloseTo(0.33333333, 6);
    expect(f1Score(yTrue, yPred, { average: 'weighted' })).toBeCloseTo(0.26666666, 6);
    expect(precision(yTrue, yPred, { average: 'macro' })).toBeCloseTo(0.22222222, 6);
    expect(precision(yTrue, yPred, { average: 'micro' })).toBeCloseTo(0.33333333, 6);
    expect(recall(yTrue, yPred, { average: 'macro' })).toBeCloseTo(0.33333333, 6);
  });

  it('weights by support (by hand)', () => {
    // class 0: P 1, R 1/2, F1 2/3 (support 2); class 1: P 1/2, R 1, F1 2/3 (support 1); class 2: P 1, R 1, F1 1 (support 1)
    const result = precisionRecallF1([0, 0, 1, 2], [0, 1, 1, 2], { average: 'weighted' });
    expect(result.precision).toBeCloseTo((2 * 1 + 0.5 + 1) / 4, 12);
    expect(result.recall).toBeCloseTo((2 * 0.5 + 1 + 1) / 4, 12);
    expect(result.f1).toBeCloseTo((2 * (2 / 3) + 2 / 3 + 1) / 4, 12);
    expect(result.perClass.map((c) => c.support)).toEqual([2, 1, 1]);
  });

  it('scores the positive label for binary targets (by hand)', () => {
    const result = precisionRecallF1([0, 1, 1, 0, 1], [0, 1, 0, 0, 1]);
    expect(result.precision).toBe(1);
    expect(result.recall).toBeCloseTo(2 / 3, 12);
    expect(result.f1).toBeCloseTo(0.8, 12);
    expect(precisionRecallF1(['no', 'yes', 'yes'], ['yes', 'yes', 'no'], { positiveLabel: 'yes' }).precision).toBe(0.5);
  });

  it('returns 0 where a ratio is 0/0', () => {
    expect(precisionRecallF1([0, 0], [0, 0])).toMatchObject({ precision: 0, recall: 0, f1: 0 });
    expect(precision([1, 1], [0, 0])).toBe(0);
  });

  it('rejects binary averaging of multiclass data and a missing positive label', () => {
    expect(() => f1Score(yTrue, yPred)).toThrow(/binary/);
    expect(() => f1Score(['a', 'b'], ['a', 'b'])).toThrow(ValidationError);
  });
});

describe('rocAuc and rocCurve', () => {
  it('matches sklearn roc_auc_score', () => {
    expect(rocAuc([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8])).toBeCloseTo(0.75, 12);
  });

  it('counts tied scores as half (by hand)', () => {
    expect(rocAuc([0, 0, 1, 1], [0.1, 0.5, 0.5, 0.9])).toBeCloseTo(0.875, 12);
    expect(rocAuc([0, 1], [0.3, 0.3])).toBe(0.5);
    expect(rocAuc(['b', 'a', 'b'], [0.9, 0.2, 0.1], { positiveLabel: 'b' })).toBe(0.5);
  });

  it('builds sklearn roc_curve points (drop_intermediate=False)', () => {
    expect(rocCurve([1, 1, 2, 2], [0.1, 0.4, 0.35, 0.8], { positiveLabel: 2 })).toEqual({
      fpr: [0, 0, 0.5, 0.5, 1],
      tpr: [0, 0.5, 0.5, 1, 1],
      thresholds: [Infinity, 0.8, 0.4, 0.35, 0.1],
    });
  });

  it('equals the trapezoidal area under the ROC curve, ties included', () => {
    const rng = new SeededRng(11);
    for (let trial = 0; trial < 20; trial++) {
      const y = Array.from({ length: 40 }, (_, i) => (i < 2 ? i : rng.int(0, 2)));
      const scores = y.map((t) => Math.round((rng.next() + 0.3 * t) * 10) / 10);
      const { fpr, tpr } = rocCurve(y, scores);
      let area = 0;
      for (let i = 1; i < fpr.length; i++) area += ((fpr[i] - fpr[i - 1]) * (tpr[i] + tpr[i - 1])) / 2;
      expect(rocAuc(y, scores)).toBeCloseTo(area, 12);
    }
  });

  it('rejects a target with a single class', () => {
    expect(() => rocAuc([1, 1], [0.2, 0.4])).toThrow(ValidationError);
  });

  it('averages one-vs-rest AUCs for multiclass (by hand)', () => {
    const probabilities = [
      [0.8, 0.1, 0.1],
      [0.4, 0.5, 0.1],
      [0.3, 0.6, 0.1],
      [0.2, 0.2, 0.6],
      [0.1, 0.3, 0.6],
      [0.5, 0.2, 0.3],
    ];
    // per class: 7/8, 5.5/8, 6.5/8
    expect(rocAucOvr([0, 0, 1, 1, 2, 2], probabilities)).toBeCloseTo(19 / 24, 12);
    expect(() => rocAucOvr([0, 0, 1, 1, 2, 2], probabilities, { labels: [0, 1] })).toThrow(ValidationError);
  });
});

describe('averagePrecision', () => {
  it('matches sklearn average_precision_score', () => {
    expect(averagePrecision([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8])).toBeCloseTo(0.833333333, 8);
  });

  it('treats tied scores as one threshold (by hand)', () => {
    // threshold .5: P 1/2, R 1/2; threshold .2: P 2/3, R 1
    expect(averagePrecision([1, 0, 1], [0.5, 0.5, 0.2])).toBeCloseTo(0.25 + 1 / 3, 12);
  });

  it('rejects a target without positives', () => {
    expect(() => averagePrecision([0, 0], [0.1, 0.2])).toThrow(ValidationError);
  });
});

describe('logLoss', () => {
  it('matches sklearn log_loss with string labels', () => {
    const probabilities = [
      [0.1, 0.9],
      [0.9, 0.1],
      [0.8, 0.2],
      [0.35, 0.65],
    ];
    expect(logLoss(['spam', 'ham', 'ham', 'spam'], probabilities)).toBeCloseTo(0.21616187468057912, 10);
  });

  it('accepts the positive-class probability for two classes', () => {
    expect(logLoss([0, 1], [0.2, 0.7])).toBeCloseTo(-(Math.log(0.8) + Math.log(0.7)) / 2, 12);
  });

  it('clips probabilities at 1e-15 so certain mistakes stay finite', () => {
    expect(logLoss([0, 1], [1, 1])).toBeCloseTo(-(Math.log(1e-15) + Math.log(1 - 1e-15)) / 2, 8);
  });

  it('rejects rows that do not sum to 1 and a single known class', () => {
    expect(() => logLoss([0, 1], [[0.5, 0.6], [0.5, 0.5]])).toThrow(/sum to 1/);
    expect(() => logLoss([1, 1], [[0.5, 0.5], [0.5, 0.5]])).toThrow(ValidationError);
    expect(logLoss([1, 1], [[0.5, 0.5], [0.5, 0.5]], { labels: [0, 1] })).toBeCloseTo(Math.log(2), 12);
  });
});

describe('brierScore', () => {
  it('matches sklearn brier_score_loss', () => {
    expect(brierScore([0, 1, 1, 0], [0.1, 0.9, 0.8, 0.3])).toBeCloseTo(0.0375, 12);
    expect(brierScore(['ham', 'spam', 'spam', 'ham'], [0.1, 0.9, 0.8, 0.3], { positiveLabel: 'spam' })).toBeCloseTo(0.0375, 12);
  });

  it('rejects probabilities outside [0, 1]', () => {
    expect(() => brierScore([0, 1], [0.1, 1.2])).toThrow(ValidationError);
  });
});

describe('calibrationCurve', () => {
  it('matches sklearn calibration_curve with uniform bins', () => {
    const curve = calibrationCurve([0, 0, 0, 0, 1, 1, 1, 1, 1], [0.1, 0.2, 0.3, 0.4, 0.65, 0.7, 0.8, 0.9, 1], { bins: 3 });
    expect(curve.probTrue).toEqual([0, 0.5, 1]);
    expect(curve.probPred[0]).toBeCloseTo(0.2, 12);
    expect(curve.probPred[1]).toBeCloseTo(0.525, 12);
    expect(curve.probPred[2]).toBeCloseTo(0.85, 12);
    expect(curve.counts).toEqual([3, 2, 4]);
  });

  it('leaves out empty bins', () => {
    expect(calibrationCurve([0, 1], [0.05, 0.95], { bins: 10 })).toEqual({ probTrue: [0, 1], probPred: [0.05, 0.95], counts: [1, 1] });
  });
});
