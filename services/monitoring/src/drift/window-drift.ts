import {
  DEFAULT_THRESHOLDS,
  defaultMethod,
  DRIFT_METHODS,
  featureDrift,
  featureStatistic,
  isDrifted,
  type DriftMethod,
  type FeatureDrift,
  type FeatureOptions,
  type PairCounts,
} from '@mlp/ml';
import type { CurrentWindow } from '../windows/current-window';
import { PREDICTION_COLUMN } from '../windows/current-window';
import type { Reference } from './reference';

/** Methods that need numbers (libs/ml refuses them on a categorical column). */
const NUMERIC_ONLY: ReadonlySet<DriftMethod> = new Set(['ks', 'wasserstein', 'anderson']);

export interface WindowDriftOptions {
  /** Per-feature method and threshold overrides (the feature named `prediction` is the model output). */
  features?: Readonly<Record<string, Pick<FeatureOptions, 'method' | 'threshold'>>>;
  /** Dataset drift when the share of drifted features is at least this (default 0.5). */
  shareThreshold?: number;
}

export interface WindowDrift {
  features: FeatureDrift[];
  prediction: FeatureDrift | null;
  driftShare: number;
  shareThreshold: number;
  datasetDrift: boolean;
  /** Override problems: the feature fell back to its default test. */
  warnings: string[];
}

/**
 * A closed window against the reference, with libs/ml's tests and Evidently's
 * default selection (by the reference sample's size and the values seen):
 * numeric columns from the window's sample, categorical ones from its exact
 * counts. Features the window never saw are left out.
 */
export function windowDrift(reference: Reference, window: CurrentWindow, options: WindowDriftOptions = {}): WindowDrift {
  const warnings: string[] = [];
  const one = (name: string): FeatureDrift | null => {
    const sketch = window.columns.get(name);
    const kind = reference.kinds[name];
    if (!sketch || !kind || sketch.count === 0) return null;
    let override = options.features?.[name] ?? {};
    if (override.method !== undefined && (!DRIFT_METHODS.includes(override.method) || (kind === 'categorical' && NUMERIC_ONLY.has(override.method)))) {
      warnings.push(`${name}: method '${override.method}' does not apply to a ${kind} column; the default test was used`);
      override = { ...(override.threshold !== undefined ? { threshold: override.threshold } : {}) };
    }
    if (kind === 'numeric') return featureDrift(name, reference.numeric.get(name)!, sketch.sample(), { ...override, kind: 'numeric' });
    const p = { kind: 'categorical' as const, counts: pairCounts(reference.categorical.get(name)!, sketch.counts) };
    const method = override.method ?? defaultMethod(p);
    const threshold = override.threshold ?? DEFAULT_THRESHOLDS[method];
    const { statistic, pValue } = featureStatistic(p, method);
    return { name, method, statistic, pValue, threshold, drifted: isDrifted(method, statistic, pValue, threshold) };
  };
  const features = Object.keys(reference.kinds)
    .filter((n) => n !== PREDICTION_COLUMN)
    .map(one)
    .filter((f): f is FeatureDrift => f !== null);
  const prediction = one(PREDICTION_COLUMN);
  const shareThreshold = options.shareThreshold ?? 0.5;
  const driftShare = features.length ? features.filter((f) => f.drifted).length / features.length : 0;
  return { features, prediction, driftShare, shareThreshold, datasetDrift: features.length > 0 && driftShare >= shareThreshold, warnings };
}

/** Reference and current value counts over the union of their values, keys sorted by code point (libs/ml's PairCounts order). */
export function pairCounts(reference: ReadonlyMap<string, number>, current: ReadonlyMap<string, number>): PairCounts {
  const keys = [...new Set([...reference.keys(), ...current.keys()])].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  const r = new Float64Array(keys.length);
  const c = new Float64Array(keys.length);
  let nr = 0;
  let nc = 0;
  keys.forEach((k, i) => {
    r[i] = reference.get(k) ?? 0;
    c[i] = current.get(k) ?? 0;
    nr += r[i];
    nc += c[i];
  });
  return { keys, reference: r, current: c, referenceSize: nr, currentSize: nc };
}
