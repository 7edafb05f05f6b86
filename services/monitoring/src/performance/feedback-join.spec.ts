import type { FeedbackTelemetry, PredictionTelemetry } from '@mlp/contracts';
import { FeedbackJoin } from './feedback-join';
import { PerformanceWindow, scoreLabelled } from './performance-window';
import { degradation } from './degradation';

const prediction = (requestId: string, row: number, prediction: string, p1: number, arm = 'production', version = 1): PredictionTelemetry => ({
  requestId, row, model: 'churn', version, arm, instance: 'i', features: {}, prediction, probabilities: [1 - p1, p1], latencyMs: 1, at: `2026-12-01T00:00:${String(row).padStart(2, '0')}.000Z`,
});
const label = (requestId: string, row: number, label: string): FeedbackTelemetry => ({ requestId, row, model: 'churn', label, at: '2026-12-02T00:00:00.000Z' });

describe('feedback join', () => {
  it('joins a label that comes days later, one that comes before its prediction, and counts a second label as a duplicate', () => {
    const join = new FeedbackJoin();
    expect(join.addPrediction(prediction('r1', 0, 'yes', 0.9))).toBeUndefined();
    expect(join.addPrediction(prediction('r1', 1, 'no', 0.2))).toBeUndefined();
    const late = join.addLabel(label('r1', 1, 'yes'));
    expect(late).toMatchObject({ version: 1, arm: 'production', prediction: 'no', label: 'yes', predictedAt: '2026-12-01T00:00:01.000Z', labelledAt: '2026-12-02T00:00:00.000Z' });
    expect(join.addLabel(label('r2', 0, 'no'))).toBeUndefined(); // its prediction is not there yet
    expect(join.addPrediction(prediction('r2', 0, 'no', 0.1, 'canary', 2))).toMatchObject({ arm: 'canary', version: 2, label: 'no' });
    expect(join.addLabel(label('r1', 1, 'no'))).toBeUndefined();
    expect(join.counts).toMatchObject({ joined: 2, duplicates: 1 });
  });

  it('forgets the oldest predictions past its bound, and then cannot join their labels', () => {
    const join = new FeedbackJoin({ maxPredictions: 2 });
    for (let i = 0; i < 3; i++) join.addPrediction(prediction(`r${i}`, 0, 'yes', 0.9));
    expect(join.counts.forgottenPredictions).toBe(1);
    expect(join.addLabel(label('r0', 0, 'yes'))).toBeUndefined();
    expect(join.addLabel(label('r2', 0, 'yes'))).toBeDefined();
  });
});

describe('performance window', () => {
  it('keeps the last `size` labelled predictions and scores them like training (accuracy, roc_auc by hand)', () => {
    const w = new PerformanceWindow(4, 2);
    const rows = [
      { p: 0.9, pred: 'yes', y: 'no' }, // pushed out by the fifth
      { p: 0.8, pred: 'yes', y: 'yes' },
      { p: 0.3, pred: 'no', y: 'yes' },
      { p: 0.6, pred: 'yes', y: 'no' },
      { p: 0.1, pred: 'no', y: 'no' },
    ].map((r, i) => ({ model: 'm', version: 1, arm: 'a', prediction: r.pred, probabilities: [1 - r.p, r.p], label: r.y, predictedAt: `t${i}`, labelledAt: 'x' }));
    const due = rows.map((r) => w.add(r));
    expect(due).toEqual([false, true, false, true, false]);
    expect(w.contents().map((r) => r.predictedAt)).toEqual(['t1', 't2', 't3', 't4']);
    const s = scoreLabelled(w.contents(), 'binary', ['no', 'yes']);
    expect(s).toMatchObject({ labelled: 4, correct: 2, unknownLabels: 0 });
    expect(s.metrics.accuracy).toBe(0.5);
    // positives score 0.8, 0.3; negatives 0.6, 0.1: of the 4 pairs, 3 are ordered right → 0.75
    expect(s.metrics.roc_auc).toBeCloseTo(0.75, 12);
  });

  it('scores regression with rmse and leaves out labels that are not classes', () => {
    const r = (pred: number | string, y: number | string) => ({ model: 'm', version: 1, arm: 'a', prediction: pred, label: y, predictedAt: 't', labelledAt: 't' });
    expect(scoreLabelled([r(1, 2), r(3, 3)], 'regression', []).metrics.rmse).toBeCloseTo(Math.sqrt(0.5), 12);
    expect(scoreLabelled([r('a', 'a'), r('a', 'zzz')], 'multiclass', ['a', 'b', 'c'])).toMatchObject({ labelled: 1, correct: 1, unknownLabels: 1 });
  });
});

describe('degradation rule', () => {
  it('trips below a minimum, past a drop from the holdout value, and reads minimum as maximum for lower-is-better metrics', () => {
    expect(degradation({ metric: 'roc_auc', minimum: 0.75 }, { roc_auc: 0.61 }, {})).toBe('roc_auc 0.61 < minimum 0.75');
    expect(degradation({ metric: 'roc_auc', minimum: 0.75 }, { roc_auc: 0.8 }, {})).toBeNull();
    expect(degradation({ metric: 'roc_auc', maxDrop: 0.03 }, { roc_auc: 0.85 }, { roc_auc: 0.9 })).toBe('roc_auc 0.85 is 0.05 worse than the holdout 0.9 (allowed 0.03)');
    expect(degradation({ metric: 'roc_auc', maxDrop: 0.03 }, { roc_auc: 0.88 }, { roc_auc: 0.9 })).toBeNull();
    expect(degradation({ metric: 'rmse', minimum: 2 }, { rmse: 2.5 }, {})).toBe('rmse 2.5 > maximum 2');
    expect(degradation({ metric: 'rmse', maxDrop: 0.1 }, { rmse: 1.05 }, { rmse: 1 })).toBeNull();
    expect(degradation({ metric: 'f1', minimum: 0.5 }, { accuracy: 0.1 }, {})).toBeNull();
  });
});
