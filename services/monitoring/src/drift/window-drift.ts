import { DRIFT_METHODS, DriftReference, type DriftMethod, type FeatureDrift, type FeatureOptions } from '@mlp/ml';
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
  /** Values per numeric column a window keeps for exact tests (then libs/ml's grid and reservoir). */
  exactLimit?: number;
  seed?: number;
}

export interface PreparedReference {
  drift: DriftReference;
  shareThreshold: number;
  /** Override problems: those features use their default test. */
  warnings: string[];
}

/**
 * The reference sample prepared once for libs/ml's DriftReference, with the
 * column kinds the baseline recorded and the overrides that apply (an
 * unknown method, or a numeric-only one on a categorical column, is dropped
 * with a warning instead of failing every window).
 */
export function prepareReference(reference: Reference, options: WindowDriftOptions = {}): PreparedReference {
  const warnings: string[] = [];
  const features: Record<string, FeatureOptions> = {};
  for (const [name, kind] of Object.entries(reference.kinds)) {
    const o: FeatureOptions = { kind, ...options.features?.[name] };
    if (o.method !== undefined && (!DRIFT_METHODS.includes(o.method) || (kind === 'categorical' && NUMERIC_ONLY.has(o.method)))) {
      warnings.push(`${name}: method '${o.method}' does not apply to a ${kind} column; the default test is used`);
      delete o.method;
    }
    features[name] = o;
  }
  for (const name of Object.keys(options.features ?? {})) if (!(name in reference.kinds)) warnings.push(`${name}: not a column of the reference; its override is ignored`);
  const drift = DriftReference.build(reference.sample, { columns: Object.keys(reference.kinds), features, exactLimit: options.exactLimit, seed: options.seed });
  return { drift, shareThreshold: options.shareThreshold ?? 0.5, warnings };
}

export interface WindowDrift {
  features: FeatureDrift[];
  prediction: FeatureDrift | null;
  driftShare: number;
  shareThreshold: number;
  datasetDrift: boolean;
}

/**
 * A window's report with Evidently's default selection per feature (libs/ml
 * decides by the reference sample's size and the values seen): the input
 * features make the drift share, the model output (`prediction`) is reported
 * apart as prediction drift.
 */
export function windowDrift(window: CurrentWindow, shareThreshold: number): WindowDrift {
  const all = window.drift.report().features;
  const features = all.filter((f) => f.name !== PREDICTION_COLUMN);
  const prediction = all.find((f) => f.name === PREDICTION_COLUMN) ?? null;
  const driftShare = features.length ? features.filter((f) => f.drifted).length / features.length : 0;
  return { features, prediction, driftShare, shareThreshold, datasetDrift: features.length > 0 && driftShare >= shareThreshold };
}
