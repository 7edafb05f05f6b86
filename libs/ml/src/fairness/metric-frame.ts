import type { BinaryOptions } from '../evaluation/classification-metrics';
import { type Label, invalid, requireSameLength } from '../evaluation/metric-inputs';
import { type Cell, compareCategories, isMissing } from '../preprocessing/frame';

/** A value of a sensitive attribute; `null` (or NaN) is the "(missing)" group. */
export type SensitiveValue = Cell;
export type MetricFn<T> = (yTrue: readonly T[], yPred: readonly T[]) => number;

export interface MetricFrameResult {
  overall: Record<string, number>;
  byGroup: Record<string, Record<string, number> & { count: number }>;
}

/** Label of the group of rows whose sensitive value is missing. */
export const MISSING_GROUP = '(missing)';

/** fairlearn `selection_rate`: the fraction of predictions equal to the positive label (y_true is ignored). */
export function selectionRate(yTrue: readonly Label[], yPred: readonly Label[], options: BinaryOptions = {}): number {
  requireSameLength(yTrue, yPred, 'yTrue', 'yPred');
  const positive = options.positiveLabel ?? 1;
  return yPred.filter((p) => p === positive).length / yPred.length;
}

/** P(ŷ = positive | y = positive); NaN when no row is positive (fairlearn would report 0). */
export function truePositiveRate(yTrue: readonly Label[], yPred: readonly Label[], options: BinaryOptions = {}): number {
  return conditionalSelectionRate(yTrue, yPred, options.positiveLabel ?? 1, true);
}

/** P(ŷ = positive | y ≠ positive); NaN when no row is negative (fairlearn would report 0). */
export function falsePositiveRate(yTrue: readonly Label[], yPred: readonly Label[], options: BinaryOptions = {}): number {
  return conditionalSelectionRate(yTrue, yPred, options.positiveLabel ?? 1, false);
}

function conditionalSelectionRate(yTrue: readonly Label[], yPred: readonly Label[], positive: Label, truth: boolean): number {
  requireSameLength(yTrue, yPred, 'yTrue', 'yPred');
  let rows = 0;
  let selected = 0;
  for (let i = 0; i < yTrue.length; i++) {
    if ((yTrue[i] === positive) !== truth) continue;
    rows++;
    if (yPred[i] === positive) selected++;
  }
  return rows === 0 ? NaN : selected / rows;
}

/**
 * Row indices of each group of a sensitive attribute, keyed by the value as
 * text: groups sorted like categories (booleans, numbers, strings), then
 * "(missing)". Two values with the same text (1 and '1') are rejected.
 */
export function groupRows(sensitive: readonly SensitiveValue[], path = 'sensitive'): Map<string, number[]> {
  const groups = new Map<string, { value: SensitiveValue; rows: number[] }>();
  sensitive.forEach((v, i) => {
    const value = isMissing(v) ? null : v;
    const key = value === null ? MISSING_GROUP : String(value);
    const group = groups.get(key);
    if (!group) groups.set(key, { value, rows: [i] });
    else if (group.value !== value) throw invalid(`${path}[${i}]`, `${JSON.stringify(value)} and ${JSON.stringify(group.value)} both name group '${key}'`);
    else group.rows.push(i);
  });
  const order = ([, a]: [string, { value: SensitiveValue }], [, b]: [string, { value: SensitiveValue }]) =>
    a.value === null ? 1 : b.value === null ? -1 : compareCategories(a.value, b.value);
  return new Map([...groups.entries()].sort(order).map(([key, g]) => [key, g.rows]));
}

/**
 * fairlearn `MetricFrame`: every metric on all rows (`overall`) and on the
 * rows of each sensitive group (`byGroup`, with the group's row `count`).
 */
export function metricFrame<T>(
  yTrue: readonly T[],
  yPred: readonly T[],
  sensitive: readonly SensitiveValue[],
  metrics: Record<string, MetricFn<T>>,
): MetricFrameResult {
  requireSameLength(yTrue, yPred, 'yTrue', 'yPred');
  requireSameLength(yTrue, sensitive, 'yTrue', 'sensitive');
  if (Object.prototype.hasOwnProperty.call(metrics, 'count')) throw invalid('metrics.count', "is reserved for the group size");
  const evaluate = (t: readonly T[], p: readonly T[]) => Object.fromEntries(Object.entries(metrics).map(([name, fn]) => [name, fn(t, p)]));
  const byGroup: MetricFrameResult['byGroup'] = {};
  for (const [group, rows] of groupRows(sensitive)) {
    byGroup[group] = { ...evaluate(rows.map((i) => yTrue[i]), rows.map((i) => yPred[i])), count: rows.length };
  }
  return { overall: evaluate(yTrue, yPred), byGroup };
}
