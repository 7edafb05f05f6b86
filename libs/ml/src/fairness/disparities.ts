import type { BinaryOptions } from '../evaluation/classification-metrics';
import type { Label } from '../evaluation/metric-inputs';
import { type SensitiveValue, falsePositiveRate, metricFrame, selectionRate, truePositiveRate } from './metric-frame';

/**
 * fairlearn's disparity metrics with the default `method='between_groups'`
 * (largest minus smallest group value) and, for equalized odds,
 * `agg='worst_case'`. A group whose rate is undefined (TPR of a group with no
 * positive rows, FPR of one with no negatives) is left out of that
 * difference — fairlearn would count its rate as 0 instead. The result is
 * NaN when no group has the rate defined.
 */

type Rate = (yTrue: readonly Label[], yPred: readonly Label[], options: BinaryOptions) => number;

function groupRates(yTrue: readonly Label[], yPred: readonly Label[], sensitive: readonly SensitiveValue[], rate: Rate, options: BinaryOptions): number[] {
  const { byGroup } = metricFrame(yTrue, yPred, sensitive, { rate: (t, p) => rate(t, p, options) });
  return Object.values(byGroup)
    .map((g) => g.rate)
    .filter((r) => !Number.isNaN(r));
}

function spread(values: number[]): number {
  return values.length === 0 ? NaN : Math.max(...values) - Math.min(...values);
}

/** Max − min selection rate across groups. */
export function demographicParityDifference(
  yTrue: readonly Label[],
  yPred: readonly Label[],
  sensitive: readonly SensitiveValue[],
  options: BinaryOptions = {},
): number {
  return spread(groupRates(yTrue, yPred, sensitive, selectionRate, options));
}

/** Min / max selection rate across groups; 1 when every group's rate is 0. */
export function demographicParityRatio(
  yTrue: readonly Label[],
  yPred: readonly Label[],
  sensitive: readonly SensitiveValue[],
  options: BinaryOptions = {},
): number {
  const rates = groupRates(yTrue, yPred, sensitive, selectionRate, options);
  const max = Math.max(...rates);
  return max === 0 ? 1 : Math.min(...rates) / max;
}

/** Max − min true-positive rate across the groups that have positive rows. */
export function equalOpportunityDifference(
  yTrue: readonly Label[],
  yPred: readonly Label[],
  sensitive: readonly SensitiveValue[],
  options: BinaryOptions = {},
): number {
  return spread(groupRates(yTrue, yPred, sensitive, truePositiveRate, options));
}

/** The larger of the true-positive-rate and false-positive-rate differences. */
export function equalizedOddsDifference(
  yTrue: readonly Label[],
  yPred: readonly Label[],
  sensitive: readonly SensitiveValue[],
  options: BinaryOptions = {},
): number {
  const tpr = spread(groupRates(yTrue, yPred, sensitive, truePositiveRate, options));
  const fpr = spread(groupRates(yTrue, yPred, sensitive, falsePositiveRate, options));
  if (Number.isNaN(tpr)) return fpr;
  if (Number.isNaN(fpr)) return tpr;
  return Math.max(tpr, fpr);
}
