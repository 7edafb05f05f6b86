import { diagnostics, naiveOutput, positiveClassIndex, predictions, scoreTask } from './scoring';

describe('scoreTask', () => {
  it('scores a binary case worked by hand', () => {
    const y = [1, 0, 1, 1, 0, 0];
    const p = [0.9, 0.6, 0.7, 0.4, 0.2, 0.1];
    const m = scoreTask(y, { task: 'binary', nClasses: 2, values: Float32Array.from(p) });
    // Threshold 0.5 → predictions [1, 1, 1, 0, 0, 0]: TP rows 0, 2; FP row 1; FN row 3; TN rows 4, 5.
    expect(predictions({ task: 'binary', nClasses: 2, values: p })).toEqual([1, 1, 1, 0, 0, 0]);
    expect(m.accuracy).toBeCloseTo(4 / 6, 10);
    expect(m.precision).toBeCloseTo(2 / 3, 10); // 2 / (2 + 1)
    expect(m.recall).toBeCloseTo(2 / 3, 10); // 2 / (2 + 1)
    expect(m.f1).toBeCloseTo(2 / 3, 10);
    // Class 0 is symmetric (TP 2, FP 1, FN 1), so macro and weighted F1 are 2/3 too.
    expect(m.f1_macro).toBeCloseTo(2 / 3, 10);
    expect(m.f1_weighted).toBeCloseTo(2 / 3, 10);
    // ROC AUC = share of (positive, negative) pairs ranked right: positives 0.9, 0.7, 0.4 vs negatives
    // 0.6, 0.2, 0.1 → 3 + 3 + 2 = 8 of 9.
    expect(m.roc_auc).toBeCloseTo(8 / 9, 10);
    // Average precision, by descending score 0.9(+) 0.7(+) 0.6(−) 0.4(+): each recall step of 1/3 at
    // precision 1, 1, 3/4 → 1/3 + 1/3 + 1/4 = 11/12.
    expect(m.pr_auc).toBeCloseTo(11 / 12, 10);
    // Brier: (0.01 + 0.36 + 0.09 + 0.36 + 0.04 + 0.01)/6 = 0.87/6 = 0.145 (float32 inputs: 6 places).
    expect(m.brier).toBeCloseTo(0.145, 6);
    // Log loss: −mean ln P(true class) = −(ln .9 + ln .4 + ln .7 + ln .4 + ln .8 + ln .9)/6 ≈ 0.437185
    expect(m.log_loss).toBeCloseTo(0.437185, 5);
  });

  it('predicts the argmax class for multiclass (first class on a tie) and macro-averages', () => {
    const values = [0.2, 0.5, 0.3, 0.6, 0.3, 0.1, 0.1, 0.1, 0.8, 0.3, 0.4, 0.3, 0.4, 0.4, 0.2];
    const out = { task: 'multiclass' as const, nClasses: 3, values };
    expect(predictions(out)).toEqual([1, 0, 2, 1, 0]);
    const m = scoreTask([1, 0, 2, 2, 0], out);
    // 4 of 5 right (row 3 is class 2, predicted 1).
    expect(m.accuracy).toBeCloseTo(0.8, 10);
    // precision per class: 0 → 2/2, 1 → 1/2, 2 → 1/1; recall: 0 → 2/2, 1 → 1/1, 2 → 1/2
    expect(m.precision).toBeCloseTo(2.5 / 3, 10);
    expect(m.recall).toBeCloseTo(2.5 / 3, 10);
    // F1 per class: 1, 2/3, 2/3 → 7/9
    expect(m.f1).toBeCloseTo(7 / 9, 10);
    expect(m.f1_macro).toBe(m.f1);
    expect(m.roc_auc).toEqual(expect.any(Number));
    expect(m.log_loss).toEqual(expect.any(Number));
    expect(m.brier).toBeUndefined(); // binary only
  });

  it('scores regression like the sklearn docs example', () => {
    // sklearn: y_true [3, −0.5, 2, 7], y_pred [2.5, 0.0, 2, 8] → MSE 0.375, MAE 0.5, R² 0.948608…, MAPE 0.327380…
    const m = scoreTask([3, -0.5, 2, 7], { task: 'regression', nClasses: 1, values: [2.5, 0.0, 2, 8] });
    expect(m.rmse).toBeCloseTo(Math.sqrt(0.375), 10);
    expect(m.mae).toBeCloseTo(0.5, 10);
    expect(m.r2).toBeCloseTo(0.948608137, 8);
    expect(m.mape).toBeCloseTo(0.3273809523809524, 10);
    expect(m.accuracy).toBeUndefined();
  });

  it('leaves out a metric that is undefined on the rows instead of reporting NaN', () => {
    // One class only: ROC AUC has no (positive, negative) pair.
    const m = scoreTask([1, 1, 1], { task: 'binary', nClasses: 2, values: [0.9, 0.2, 0.7] });
    expect(m).not.toHaveProperty('roc_auc');
    expect(m.accuracy).toBeCloseTo(2 / 3, 10);
    for (const [name, v] of Object.entries(m)) expect([name, Number.isFinite(v)]).toEqual([name, true]);
  });

  it('says why each metric was left out', () => {
    const omitted: Record<string, string> = {};
    scoreTask([1, 1, 1], { task: 'binary', nClasses: 2, values: [0.9, 0.2, 0.7] }, omitted);
    expect(omitted.roc_auc).toMatch(/positive and a negative class/);
    expect(omitted.pr_auc).toBeUndefined(); // defined: there are positive rows
    // A prediction overflowing float64: the squared error is Infinity, so RMSE is left out as not finite.
    const reg: Record<string, string> = {};
    const m = scoreTask([0, 1], { task: 'regression', nClasses: 1, values: [1e200, 1] }, reg);
    expect(m).not.toHaveProperty('rmse');
    expect(reg.rmse).toMatch(/not a finite number \(Infinity\)/);
    expect(m.mae).toBe(5e199);
  });

  it('throws an error that does not mean "undefined on these rows" instead of dropping the metric', () => {
    // Targets whose reads fail half-way (as a bug or a detached buffer would): not a ValidationError.
    const y = new Proxy([0.5, 1, 1.5], {
      get(target, key, receiver) {
        if (key === '2') throw new RangeError('target buffer detached');
        return Reflect.get(target, key, receiver);
      },
    });
    expect(() => scoreTask(y, { task: 'regression', nClasses: 1, values: [0.4, 0.9, 1.6] })).toThrow(RangeError);
  });
});

describe('positiveClassIndex', () => {
  it('finds the spec positive label among the sorted classes, by value or text, defaulting to the second class', () => {
    expect(positiveClassIndex(['no', 'yes'])).toBe(1);
    expect(positiveClassIndex(['no', 'yes'], 'no')).toBe(0);
    expect(positiveClassIndex([0, 1], '0')).toBe(0);
    expect(positiveClassIndex([false, true], true)).toBe(1);
    expect(() => positiveClassIndex(['no', 'yes'], 'maybe')).toThrow(/evaluation.positiveLabel "maybe" is not one of the classes/);
  });
});

describe('naiveOutput', () => {
  it('predicts the training class frequencies, or the training mean', () => {
    // 3 of 5 training labels are 1 → P(1) = 0.6 for every row
    const binary = naiveOutput('binary', [0, 1, 1, 0, 1], 2, 3);
    expect(binary).toEqual({ task: 'binary', nClasses: 2, values: [0.6, 0.6, 0.6] });
    // frequencies 1/4, 1/4, 2/4, repeated per row
    const multi = naiveOutput('multiclass', [0, 2, 2, 1], 3, 2);
    expect(multi.values).toEqual([0.25, 0.25, 0.5, 0.25, 0.25, 0.5]);
    expect(predictions(multi)).toEqual([2, 2]);
    // mean of 1, 2, 6 = 3
    expect(naiveOutput('regression', [1, 2, 6], 1, 2).values).toEqual([3, 3]);
  });

  it('scores as chance: every row tied, so ROC AUC is 0.5', () => {
    const m = scoreTask([0, 1, 1, 0], naiveOutput('binary', [0, 1, 1], 2, 4));
    expect(m.roc_auc).toBe(0.5);
    // P(1) = 2/3 ≥ 0.5: every row predicted 1 → accuracy 2/4
    expect(m.accuracy).toBe(0.5);
  });
});

describe('diagnostics', () => {
  it('gives the confusion matrix (and for binary a calibration curve)', () => {
    const d = diagnostics([1, 0, 1, 1, 0, 0], { task: 'binary', nClasses: 2, values: [0.9, 0.6, 0.7, 0.4, 0.2, 0.1] });
    // rows: true 0, true 1; columns: predicted 0, predicted 1
    expect(d.confusionMatrix).toEqual({
      labels: [0, 1],
      matrix: [
        [2, 1],
        [1, 2],
      ],
    });
    expect(d.calibration).toBeDefined();
    expect(diagnostics([1.5], { task: 'regression', nClasses: 1, values: [1] })).toEqual({});
  });
});
