import {
  accuracy,
  averagePrecision,
  brierScore,
  calibrationCurve,
  confusionMatrix,
  logLoss,
  precisionRecallF1,
  rocAuc,
  rocAucOvr,
  type CalibrationCurve,
  type ConfusionMatrix,
} from '../evaluation/classification-metrics';
import { ValidationError } from '@mlp/contracts';
import { meanAbsoluteError, meanAbsolutePercentageError, r2Score, rootMeanSquaredError } from '../evaluation/regression-metrics';
import type { TrainingTask as Task } from './training-spec';

/** Model output for n rows: binary P(class 1); multiclass n×K probabilities row-major; regression values. */
export interface ModelOutput {
  task: Task;
  values: Float32Array | number[];
  nClasses: number;
}

/** Hard predictions (class indices, or values for regression). */
export function predictions(out: ModelOutput): number[] {
  const { values, task, nClasses } = out;
  if (task === 'regression') return Array.from(values);
  if (task === 'binary') return Array.from(values, (p) => (p >= 0.5 ? 1 : 0));
  const n = values.length / nClasses;
  const pred: number[] = [];
  for (let i = 0; i < n; i++) {
    let best = 0;
    for (let k = 1; k < nClasses; k++) if (values[i * nClasses + k] > values[i * nClasses + best]) best = k;
    pred.push(best);
  }
  return pred;
}

/** Per-row probability vectors, renormalized in float64 (float32 softmax rows may sum to 1 ± 1e-7). */
function probabilityRows(values: Float32Array | number[], nClasses: number): number[][] {
  const rows: number[][] = [];
  for (let i = 0; i < values.length / nClasses; i++) {
    const row = Array.from({ length: nClasses }, (_, k) => Math.min(Math.max(values[i * nClasses + k], 0), 1));
    const s = row.reduce((a, b) => a + b, 0) || 1;
    rows.push(row.map((p) => p / s));
  }
  return rows;
}

/**
 * Every metric of the task on y (class indices, or values). A metric that is
 * undefined on these rows (e.g. ROC AUC with one class present: the metric
 * functions say so with a ValidationError) or not finite is left out rather
 * than reported as a made-up number, and `omitted[name]` says why. Any other
 * error is a bug and is thrown.
 */
export function scoreTask(y: readonly number[], out: ModelOutput, omitted: Record<string, string> = {}): Record<string, number> {
  const m: Record<string, number> = {};
  const put = (name: string, f: () => number) => {
    let v: number;
    try {
      v = f();
    } catch (err) {
      if (!(err instanceof ValidationError)) throw err;
      omitted[name] = err.message;
      return;
    }
    if (Number.isFinite(v)) m[name] = v;
    else omitted[name] = `not a finite number (${v})`;
  };
  const pred = predictions(out);
  if (out.task === 'regression') {
    put('rmse', () => rootMeanSquaredError(y, pred));
    put('mae', () => meanAbsoluteError(y, pred));
    put('r2', () => r2Score(y, pred));
    put('mape', () => meanAbsolutePercentageError(y, pred));
    return m;
  }
  const labels = Array.from({ length: out.nClasses }, (_, k) => k);
  put('accuracy', () => accuracy(y, pred));
  if (out.task === 'binary') {
    const p = Array.from(out.values, (v) => Math.min(Math.max(v, 0), 1));
    const prf = precisionRecallF1(y, pred, { average: 'binary', positiveLabel: 1, labels });
    m.precision = prf.precision;
    m.recall = prf.recall;
    m.f1 = prf.f1;
    put('f1_macro', () => precisionRecallF1(y, pred, { average: 'macro', labels }).f1);
    put('f1_weighted', () => precisionRecallF1(y, pred, { average: 'weighted', labels }).f1);
    put('roc_auc', () => rocAuc(y, p));
    put('pr_auc', () => averagePrecision(y, p));
    put('log_loss', () => logLoss(y, p, { labels }));
    put('brier', () => brierScore(y, p));
    return m;
  }
  const rows = probabilityRows(out.values, out.nClasses);
  const macro = precisionRecallF1(y, pred, { average: 'macro', labels });
  m.precision = macro.precision;
  m.recall = macro.recall;
  m.f1 = macro.f1;
  m.f1_macro = macro.f1;
  put('f1_weighted', () => precisionRecallF1(y, pred, { average: 'weighted', labels }).f1);
  put('roc_auc', () => rocAucOvr(y, rows, { labels }));
  put('log_loss', () => logLoss(y, rows, { labels }));
  return m;
}

/** Confusion matrix and (binary) calibration curve, for the evaluation report. */
export function diagnostics(y: readonly number[], out: ModelOutput): { confusionMatrix?: ConfusionMatrix; calibration?: CalibrationCurve } {
  if (out.task === 'regression') return {};
  const labels = Array.from({ length: out.nClasses }, (_, k) => k);
  const cm = confusionMatrix(y, predictions(out), labels);
  if (out.task !== 'binary') return { confusionMatrix: cm };
  return { confusionMatrix: cm, calibration: calibrationCurve(y, Array.from(out.values, (v) => Math.min(Math.max(v, 0), 1)), { bins: 10 }) };
}

/** A model that ignores the features: the majority class's frequencies, or the training mean. */
export function naiveOutput(task: Task, yTrain: readonly number[], nClasses: number, nRows: number): ModelOutput {
  if (task === 'regression') {
    const mean = yTrain.reduce((a, b) => a + b, 0) / yTrain.length;
    return { task, nClasses, values: new Array<number>(nRows).fill(mean) };
  }
  const freq = new Array<number>(nClasses).fill(0);
  for (const c of yTrain) freq[c]++;
  const p = freq.map((f) => f / yTrain.length);
  if (task === 'binary') return { task, nClasses, values: new Array<number>(nRows).fill(p[1]) };
  const values: number[] = [];
  for (let i = 0; i < nRows; i++) values.push(...p);
  return { task, nClasses, values };
}

/**
 * The index (into the sorted `classes`) of a binary task's positive class:
 * `positiveLabel` from the spec (matched by value, or by its text, so `"1"`
 * finds 1), else the second class in sorted order — the class whose
 * probability binary models output.
 */
export function positiveClassIndex(classes: readonly (string | number | boolean)[], positiveLabel?: string | number | boolean): number {
  if (positiveLabel === undefined) return 1;
  let i = classes.findIndex((c) => c === positiveLabel);
  if (i < 0) i = classes.findIndex((c) => String(c) === String(positiveLabel));
  if (i < 0) {
    throw new ValidationError(`evaluation.positiveLabel ${JSON.stringify(positiveLabel)} is not one of the classes ${JSON.stringify(classes)}`, [
      { path: 'evaluation.positiveLabel', message: `not one of ${classes.map((c) => JSON.stringify(c)).join(', ')}` },
    ]);
  }
  return i;
}
