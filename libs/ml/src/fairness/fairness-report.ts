import { accuracy } from '../evaluation/classification-metrics';
import { type Label, invalid, requireFinite, requireSameLength, sortedLabels } from '../evaluation/metric-inputs';
import { meanAbsoluteError, rootMeanSquaredError } from '../evaluation/regression-metrics';
import {
  demographicParityDifference,
  demographicParityRatio,
  equalOpportunityDifference,
  equalizedOddsDifference,
} from './disparities';
import { type MetricFn, type SensitiveValue, falsePositiveRate, metricFrame, selectionRate, truePositiveRate } from './metric-frame';

export type FairnessTask = 'binary' | 'multiclass' | 'regression';

export interface FairnessReportOptions {
  task: FairnessTask;
  /** Positive class of a binary task; default 1. */
  positiveLabel?: Label;
}

/** Metrics of one slice; `null` where a rate is undefined (e.g. TPR of a slice without positives). */
export type SliceMetrics = { count: number } & Record<string, number | null>;

export interface BinaryDisparities {
  demographicParityDifference: number | null;
  demographicParityRatio: number | null;
  equalOpportunityDifference: number | null;
  equalizedOddsDifference: number | null;
}

export interface AttributeReport {
  slices: Record<string, SliceMetrics>;
  /** Binary tasks only. */
  disparities?: BinaryDisparities;
}

export interface FairnessReport {
  task: FairnessTask;
  positiveLabel?: Label;
  overall: SliceMetrics;
  attributes: Record<string, AttributeReport>;
}

/**
 * Per-slice metrics for every sensitive attribute — binary: accuracy,
 * selectionRate, truePositiveRate, falsePositiveRate and the four fairlearn
 * disparities; multiclass: accuracy; regression: rmse and mae. Plain JSON:
 * undefined values (NaN) are `null`.
 */
export function fairnessReport(
  yTrue: readonly Label[],
  yPred: readonly Label[],
  sensitiveColumns: Record<string, readonly SensitiveValue[]>,
  options: FairnessReportOptions,
): FairnessReport {
  requireSameLength(yTrue, yPred, 'yTrue', 'yPred');
  const { task } = options;
  const positiveLabel = options.positiveLabel ?? 1;
  const metrics = metricsFor(yTrue, yPred, task, positiveLabel);
  const overall = jsonSlice({ ...Object.fromEntries(Object.entries(metrics).map(([m, fn]) => [m, fn(yTrue, yPred)])), count: yTrue.length });
  const attributes: Record<string, AttributeReport> = {};
  for (const [name, sensitive] of Object.entries(sensitiveColumns)) {
    requireSameLength(yTrue, sensitive, 'yTrue', `sensitiveColumns.${name}`);
    const { byGroup } = metricFrame(yTrue, yPred, sensitive, metrics);
    const slices = Object.fromEntries(Object.entries(byGroup).map(([g, m]) => [g, jsonSlice(m)]));
    attributes[name] = task === 'binary' ? { slices, disparities: disparities(yTrue, yPred, sensitive, positiveLabel) } : { slices };
  }
  return { task, ...(task === 'binary' ? { positiveLabel } : {}), overall, attributes };
}

function metricsFor(yTrue: readonly Label[], yPred: readonly Label[], task: FairnessTask, positiveLabel: Label): Record<string, MetricFn<Label>> {
  switch (task) {
    case 'binary': {
      const present = sortedLabels(yTrue, yPred);
      if (present.length > 2) throw invalid('task', `is 'binary' but there are ${present.length} labels`);
      if (present.length === 2 && !present.includes(positiveLabel)) {
        throw invalid('positiveLabel', `${JSON.stringify(positiveLabel)} is not one of the labels ${JSON.stringify(present)}`);
      }
      const o = { positiveLabel };
      return {
        accuracy,
        selectionRate: (t, p) => selectionRate(t, p, o),
        truePositiveRate: (t, p) => truePositiveRate(t, p, o),
        falsePositiveRate: (t, p) => falsePositiveRate(t, p, o),
      };
    }
    case 'multiclass':
      return { accuracy };
    case 'regression':
      requireFinite(yTrue as number[], 'yTrue');
      requireFinite(yPred as number[], 'yPred');
      return { rmse: (t, p) => rootMeanSquaredError(t as number[], p as number[]), mae: (t, p) => meanAbsoluteError(t as number[], p as number[]) };
    default: {
      const never: never = task;
      throw invalid('task', `must be 'binary', 'multiclass' or 'regression', received ${JSON.stringify(never)}`);
    }
  }
}

function disparities(yTrue: readonly Label[], yPred: readonly Label[], sensitive: readonly SensitiveValue[], positiveLabel: Label): BinaryDisparities {
  const o = { positiveLabel };
  return {
    demographicParityDifference: orNull(demographicParityDifference(yTrue, yPred, sensitive, o)),
    demographicParityRatio: orNull(demographicParityRatio(yTrue, yPred, sensitive, o)),
    equalOpportunityDifference: orNull(equalOpportunityDifference(yTrue, yPred, sensitive, o)),
    equalizedOddsDifference: orNull(equalizedOddsDifference(yTrue, yPred, sensitive, o)),
  };
}

function jsonSlice(m: Record<string, number>): SliceMetrics {
  return Object.fromEntries(Object.entries(m).map(([k, v]) => [k, orNull(v)])) as SliceMetrics;
}

const orNull = (v: number): number | null => (Number.isFinite(v) ? v : null);
