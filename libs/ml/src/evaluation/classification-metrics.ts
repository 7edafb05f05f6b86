/**
 * Classification metrics with scikit-learn semantics (names in camelCase).
 * Undefined ratios (0/0) are 0, sklearn's default `zero_division` value.
 * Probabilities of several classes are rows whose columns follow `labels`
 * (by default the sorted distinct labels of `yTrue`, like sklearn's
 * `classes_`).
 */
import { Label, invalid, mean, requireFinite, requireSameLength, safeDivide, sortedLabels } from './metric-inputs';

export interface ConfusionMatrix {
  labels: Label[];
  /** matrix[i][j]: rows whose true label is labels[i] and predicted label is labels[j]. */
  matrix: number[][];
}

/** Rows whose true or predicted label is not in `labels` are left out, like sklearn. */
export function confusionMatrix(yTrue: readonly Label[], yPred: readonly Label[], labels?: readonly Label[]): ConfusionMatrix {
  requireSameLength(yTrue, yPred, 'yTrue', 'yPred');
  const classes = labels ? [...labels] : sortedLabels(yTrue, yPred);
  if (classes.length === 0) throw invalid('labels', 'must not be empty');
  const position = new Map<Label, number>(classes.map((label, i) => [label, i]));
  if (position.size !== classes.length) throw invalid('labels', 'must be distinct');
  const matrix = classes.map(() => classes.map(() => 0));
  for (let i = 0; i < yTrue.length; i++) {
    const row = position.get(yTrue[i]);
    const column = position.get(yPred[i]);
    if (row !== undefined && column !== undefined) matrix[row][column]++;
  }
  return { labels: classes, matrix };
}

export function accuracy(yTrue: readonly Label[], yPred: readonly Label[]): number {
  requireSameLength(yTrue, yPred, 'yTrue', 'yPred');
  let correct = 0;
  for (let i = 0; i < yTrue.length; i++) if (yTrue[i] === yPred[i]) correct++;
  return correct / yTrue.length;
}

export type Averaging = 'binary' | 'macro' | 'micro' | 'weighted';

export interface PrecisionRecallOptions {
  /** Default 'binary'. */
  average?: Averaging;
  /** The positive class for 'binary'; default 1. */
  positiveLabel?: Label;
  /** Classes to average over; default every label in yTrue or yPred. */
  labels?: readonly Label[];
}

export interface ClassScores {
  label: Label;
  precision: number;
  recall: number;
  f1: number;
  /** Rows whose true label is this class. */
  support: number;
}

export interface PrecisionRecallF1 {
  precision: number;
  recall: number;
  f1: number;
  perClass: ClassScores[];
}

export function precisionRecallF1(yTrue: readonly Label[], yPred: readonly Label[], options: PrecisionRecallOptions = {}): PrecisionRecallF1 {
  requireSameLength(yTrue, yPred, 'yTrue', 'yPred');
  const average = options.average ?? 'binary';
  const present = sortedLabels(yTrue, yPred);
  let classes: Label[];
  if (average === 'binary') {
    const positive = options.positiveLabel ?? 1;
    if (present.length > 2) {
      throw invalid('average', `is 'binary' but there are ${present.length} labels; choose 'macro', 'micro' or 'weighted'`);
    }
    if (present.length === 2 && !present.includes(positive)) {
      throw invalid('positiveLabel', `${JSON.stringify(positive)} is not one of the labels ${JSON.stringify(present)}`);
    }
    classes = [positive];
  } else {
    classes = options.labels ? [...options.labels] : present;
    if (classes.length === 0) throw invalid('labels', 'must not be empty');
  }

  const counts = classes.map(() => ({ tp: 0, fp: 0, fn: 0 }));
  const position = new Map<Label, number>(classes.map((label, i) => [label, i]));
  for (let i = 0; i < yTrue.length; i++) {
    const truth = position.get(yTrue[i]);
    const predicted = position.get(yPred[i]);
    if (yTrue[i] === yPred[i]) {
      if (truth !== undefined) counts[truth].tp++;
    } else {
      if (truth !== undefined) counts[truth].fn++;
      if (predicted !== undefined) counts[predicted].fp++;
    }
  }
  const scores = (tp: number, fp: number, fn: number) => ({
    precision: safeDivide(tp, tp + fp),
    recall: safeDivide(tp, tp + fn),
    f1: safeDivide(2 * tp, 2 * tp + fp + fn),
  });
  const perClass: ClassScores[] = classes.map((label, i) => {
    const { tp, fp, fn } = counts[i];
    return { label, ...scores(tp, fp, fn), support: tp + fn };
  });

  if (average === 'micro') {
    const sum = (key: 'tp' | 'fp' | 'fn') => counts.reduce((s, c) => s + c[key], 0);
    return { ...scores(sum('tp'), sum('fp'), sum('fn')), perClass };
  }
  const weights = perClass.map((c) => (average === 'weighted' ? c.support : 1));
  const totalWeight = weights.reduce((s, w) => s + w, 0);
  const averaged = (key: 'precision' | 'recall' | 'f1') =>
    safeDivide(
      perClass.reduce((s, c, i) => s + c[key] * weights[i], 0),
      totalWeight,
    );
  return { precision: averaged('precision'), recall: averaged('recall'), f1: averaged('f1'), perClass };
}

export const precision = (yTrue: readonly Label[], yPred: readonly Label[], options?: PrecisionRecallOptions): number =>
  precisionRecallF1(yTrue, yPred, options).precision;
export const recall = (yTrue: readonly Label[], yPred: readonly Label[], options?: PrecisionRecallOptions): number =>
  precisionRecallF1(yTrue, yPred, options).recall;
export const f1Score = (yTrue: readonly Label[], yPred: readonly Label[], options?: PrecisionRecallOptions): number =>
  precisionRecallF1(yTrue, yPred, options).f1;

export interface BinaryOptions {
  /** The positive class; default 1. */
  positiveLabel?: Label;
}

/** yTrue as 0/1 for the positive class; yTrue must hold at most two labels. */
function binaryTargets(yTrue: readonly Label[], positiveLabel: Label = 1): number[] {
  const present = sortedLabels(yTrue);
  if (present.length > 2) throw invalid('yTrue', `must hold at most two labels for a binary metric, found ${JSON.stringify(present)}`);
  if (!present.includes(positiveLabel) && !present.every((label) => label === 0 || label === 1)) {
    throw invalid('positiveLabel', `${JSON.stringify(positiveLabel)} is not one of the labels ${JSON.stringify(present)}`);
  }
  return yTrue.map((label) => (label === positiveLabel ? 1 : 0));
}

function requireBothClasses(targets: readonly number[], metric: string): void {
  const positives = targets.reduce((s, t) => s + t, 0);
  if (positives === 0 || positives === targets.length) {
    throw invalid('yTrue', `must contain both the positive and a negative class: ${metric} is undefined otherwise`);
  }
}

/** 1-based ranks, ties getting the mean of the ranks they span. */
function averageRanks(values: readonly number[]): number[] {
  const order = values.map((_, i) => i).sort((a, b) => values[a] - values[b]);
  const ranks = new Array<number>(values.length);
  for (let start = 0; start < order.length; ) {
    let end = start + 1;
    while (end < order.length && values[order[end]] === values[order[start]]) end++;
    const rank = (start + 1 + end) / 2;
    for (let i = start; i < end; i++) ranks[order[i]] = rank;
    start = end;
  }
  return ranks;
}

/**
 * Area under the ROC curve for a binary target (sklearn `roc_auc_score`).
 * Computed from average ranks (Mann–Whitney U), which equals the trapezoidal
 * area of the ROC curve with tied scores counted as half.
 */
export function rocAuc(yTrue: readonly Label[], scores: readonly number[], options: BinaryOptions = {}): number {
  requireSameLength(yTrue, scores, 'yTrue', 'scores');
  requireFinite(scores, 'scores');
  const targets = binaryTargets(yTrue, options.positiveLabel);
  requireBothClasses(targets, 'ROC AUC');
  return binaryAuc(targets, scores);
}

function binaryAuc(targets: readonly number[], scores: readonly number[]): number {
  const ranks = averageRanks(scores);
  let positives = 0;
  let positiveRankSum = 0;
  for (let i = 0; i < targets.length; i++) {
    if (targets[i] === 1) {
      positives++;
      positiveRankSum += ranks[i];
    }
  }
  const negatives = targets.length - positives;
  return (positiveRankSum - (positives * (positives + 1)) / 2) / (positives * negatives);
}

export interface RocCurve {
  fpr: number[];
  tpr: number[];
  /** Descending distinct scores, led by Infinity for the (0, 0) point. */
  thresholds: number[];
}

/** sklearn `roc_curve(..., drop_intermediate=False)`: one point per distinct score. */
export function rocCurve(yTrue: readonly Label[], scores: readonly number[], options: BinaryOptions = {}): RocCurve {
  requireSameLength(yTrue, scores, 'yTrue', 'scores');
  requireFinite(scores, 'scores');
  const targets = binaryTargets(yTrue, options.positiveLabel);
  requireBothClasses(targets, 'the ROC curve');
  const positives = targets.reduce((s, t) => s + t, 0);
  const negatives = targets.length - positives;
  const curve: RocCurve = { fpr: [0], tpr: [0], thresholds: [Infinity] };
  for (const { threshold, tp, fp } of cumulativeCounts(targets, scores)) {
    curve.fpr.push(fp / negatives);
    curve.tpr.push(tp / positives);
    curve.thresholds.push(threshold);
  }
  return curve;
}

/** True and false positives when predicting positive at score >= threshold, per distinct score, descending. */
function cumulativeCounts(targets: readonly number[], scores: readonly number[]): Array<{ threshold: number; tp: number; fp: number }> {
  const order = scores.map((_, i) => i).sort((a, b) => scores[b] - scores[a]);
  const points: Array<{ threshold: number; tp: number; fp: number }> = [];
  let tp = 0;
  let fp = 0;
  for (let i = 0; i < order.length; i++) {
    if (targets[order[i]] === 1) tp++;
    else fp++;
    const last = i === order.length - 1 || scores[order[i + 1]] !== scores[order[i]];
    if (last) points.push({ threshold: scores[order[i]], tp, fp });
  }
  return points;
}

export interface MulticlassScoreOptions {
  /** Class of each probability column; default the sorted labels of yTrue. */
  labels?: readonly Label[];
}

/** Multiclass ROC AUC, one-vs-rest, macro average (sklearn `multi_class='ovr', average='macro'`). */
export function rocAucOvr(yTrue: readonly Label[], probabilities: readonly (readonly number[])[], options: MulticlassScoreOptions = {}): number {
  requireSameLength(yTrue, probabilities, 'yTrue', 'probabilities');
  const labels = classColumns(yTrue, probabilities, options.labels);
  const aucs = labels.map((label, column) => {
    const targets = yTrue.map((y): number => (y === label ? 1 : 0));
    const positives = targets.reduce((s, t) => s + t, 0);
    if (positives === 0) throw invalid('yTrue', `has no rows of class ${JSON.stringify(label)}: its one-vs-rest AUC is undefined`);
    if (positives === targets.length) throw invalid('yTrue', 'must contain more than one class');
    return binaryAuc(
      targets,
      probabilities.map((row) => row[column]),
    );
  });
  return mean(aucs);
}

/**
 * Average precision (sklearn `average_precision_score`): the area under the
 * precision–recall curve as Σ (Rₙ − Rₙ₋₁)·Pₙ over distinct thresholds, without
 * interpolation.
 */
export function averagePrecision(yTrue: readonly Label[], scores: readonly number[], options: BinaryOptions = {}): number {
  requireSameLength(yTrue, scores, 'yTrue', 'scores');
  requireFinite(scores, 'scores');
  const targets = binaryTargets(yTrue, options.positiveLabel);
  const positives = targets.reduce((s, t) => s + t, 0);
  if (positives === 0) throw invalid('yTrue', 'has no positive rows: average precision is undefined');
  let previousRecall = 0;
  let area = 0;
  for (const { tp, fp } of cumulativeCounts(targets, scores)) {
    const recallHere = tp / positives;
    area += (recallHere - previousRecall) * (tp / (tp + fp));
    previousRecall = recallHere;
  }
  return area;
}

function classColumns(yTrue: readonly Label[], probabilities: readonly (readonly number[])[], labels?: readonly Label[]): Label[] {
  const classes = labels ? [...labels] : sortedLabels(yTrue);
  if (new Set(classes).size !== classes.length) throw invalid('labels', 'must be distinct');
  const known = new Set(classes);
  yTrue.forEach((y, i) => {
    if (!known.has(y)) throw invalid(`yTrue[${i}]`, `${JSON.stringify(y)} is not one of the labels ${JSON.stringify(classes)}`);
  });
  probabilities.forEach((row, i) => {
    if (row.length !== classes.length) {
      throw invalid(`probabilities[${i}]`, `must have one column per class (${classes.length}: ${JSON.stringify(classes)}), received ${row.length}`);
    }
    requireProbabilities(row, `probabilities[${i}]`);
  });
  return classes;
}

function requireProbabilities(values: readonly number[], name: string): void {
  values.forEach((p, i) => {
    if (typeof p !== 'number' || !(p >= 0 && p <= 1)) throw invalid(`${name}[${i}]`, `must be a probability in [0, 1], received ${p}`);
  });
}

export interface LogLossOptions extends MulticlassScoreOptions {
  /** Probabilities are clipped to [eps, 1 − eps]; default 1e-15. */
  eps?: number;
}

/**
 * Cross-entropy (sklearn `log_loss`). `probabilities` is either one row per
 * sample with a column per class, or, for two classes, the probability of the
 * second label. Rows must sum to 1 (within 1e-6).
 */
export function logLoss(yTrue: readonly Label[], probabilities: readonly number[] | readonly (readonly number[])[], options: LogLossOptions = {}): number {
  requireSameLength(yTrue, probabilities, 'yTrue', 'probabilities');
  const eps = options.eps ?? 1e-15;
  let rows: ReadonlyArray<readonly number[]>;
  if ((probabilities as readonly unknown[]).every((p) => typeof p === 'number')) {
    requireProbabilities(probabilities as readonly number[], 'probabilities');
    rows = (probabilities as readonly number[]).map((p) => [1 - p, p]);
  } else {
    rows = probabilities as ReadonlyArray<readonly number[]>;
  }
  const labels = classColumns(yTrue, rows, options.labels);
  if (labels.length < 2) {
    throw invalid('labels', `yTrue holds only ${JSON.stringify(labels)}; pass every class in labels so the probabilities can be matched to classes`);
  }
  rows.forEach((row, i) => {
    const sum = row.reduce((s, p) => s + p, 0);
    if (Math.abs(sum - 1) > 1e-6) throw invalid(`probabilities[${i}]`, `must sum to 1, sums to ${sum}`);
  });
  const column = new Map<Label, number>(labels.map((label, i) => [label, i]));
  let total = 0;
  for (let i = 0; i < yTrue.length; i++) {
    const p = Math.min(Math.max(rows[i][column.get(yTrue[i]) as number], eps), 1 - eps);
    total -= Math.log(p);
  }
  return total / yTrue.length;
}

/** Mean squared difference between the positive-class probability and the 0/1 outcome. */
export function brierScore(yTrue: readonly Label[], probPositive: readonly number[], options: BinaryOptions = {}): number {
  requireSameLength(yTrue, probPositive, 'yTrue', 'probPositive');
  requireProbabilities(probPositive, 'probPositive');
  const targets = binaryTargets(yTrue, options.positiveLabel);
  return mean(targets.map((t, i) => (probPositive[i] - t) ** 2));
}

export interface CalibrationCurve {
  /** Fraction of positives in each non-empty bin. */
  probTrue: number[];
  /** Mean predicted probability in each non-empty bin. */
  probPred: number[];
  /** Rows in each non-empty bin. */
  counts: number[];
}

/**
 * Reliability diagram data (sklearn `calibration_curve`, strategy 'uniform').
 * Bins are [k/bins, (k+1)/bins), the last one closed at 1; empty bins are left out.
 */
export function calibrationCurve(yTrue: readonly Label[], probPositive: readonly number[], options: BinaryOptions & { bins?: number } = {}): CalibrationCurve {
  requireSameLength(yTrue, probPositive, 'yTrue', 'probPositive');
  requireProbabilities(probPositive, 'probPositive');
  const bins = options.bins ?? 5;
  if (!Number.isInteger(bins) || bins < 1) throw invalid('bins', `must be a positive integer, received ${bins}`);
  const targets = binaryTargets(yTrue, options.positiveLabel);
  const positives = new Array<number>(bins).fill(0);
  const predicted = new Array<number>(bins).fill(0);
  const counts = new Array<number>(bins).fill(0);
  probPositive.forEach((p, i) => {
    const bin = Math.min(Math.floor(p * bins), bins - 1);
    positives[bin] += targets[i];
    predicted[bin] += p;
    counts[bin]++;
  });
  const curve: CalibrationCurve = { probTrue: [], probPred: [], counts: [] };
  for (let bin = 0; bin < bins; bin++) {
    if (counts[bin] === 0) continue;
    curve.probTrue.push(positives[bin] / counts[bin]);
    curve.probPred.push(predicted[bin] / counts[bin]);
    curve.counts.push(counts[bin]);
  }
  return curve;
}

