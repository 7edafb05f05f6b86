import type { DriftMethod } from '@mlp/ml';
import type { DegradationRule } from '../performance/degradation';
import type { OnlineBounds } from '../online/online-learning';
import { DEFAULT_WINDOW, type WindowSpec } from './window-spec';

/** How one model is monitored. The policy (monitoring-policy) sets it per model; env defaults apply otherwise. */
export interface ModelMonitoring {
  window: WindowSpec;
  drift: {
    shareThreshold: number;
    /** Per-feature overrides; `prediction` is the model output. */
    features: Record<string, { method?: DriftMethod; threshold?: number }>;
  };
  performance: {
    /** Labelled predictions per sliding window, and how many new ones between two evaluations (default a fifth of the window). */
    window: number;
    step: number;
    /** null: metrics are recorded but never judged degraded. */
    rule: DegradationRule | null;
  };
  /** Online learning bounds from the policy; null when it is off. */
  online: OnlineBounds;
}

/** A sliding window moves by a fifth of its size: each label is scored in five overlapping windows. */
export const defaultStep = (window: number): number => Math.max(1, Math.round(window / 5));

export interface MonitoringDefaults {
  window?: WindowSpec;
  performanceWindow?: number;
}

/**
 * The monitoring settings of every model: defaults from the environment, and
 * per-model settings from the applied policy. A change applies to windows
 * opened after it.
 */
export class MonitoringSettings {
  private readonly models = new Map<string, ModelMonitoring>();
  readonly defaults: ModelMonitoring;

  constructor(defaults: MonitoringDefaults = {}) {
    const size = defaults.performanceWindow ?? 500;
    this.defaults = {
      window: defaults.window ?? DEFAULT_WINDOW,
      drift: { shareThreshold: 0.5, features: {} },
      performance: { window: size, step: defaultStep(size), rule: null },
      online: null,
    };
  }

  get(model: string): ModelMonitoring {
    return this.models.get(model) ?? this.defaults;
  }

  /** Sets a model's settings (fields left out keep their defaults). */
  set(model: string, settings: { window?: WindowSpec; drift?: Partial<ModelMonitoring['drift']>; performance?: Partial<ModelMonitoring['performance']>; online?: OnlineBounds }): void {
    const d = this.defaults;
    const window = settings.performance?.window ?? d.performance.window;
    this.models.set(model, {
      window: settings.window ?? d.window,
      drift: { ...d.drift, ...settings.drift },
      performance: { window, step: settings.performance?.step ?? defaultStep(window), rule: settings.performance?.rule ?? null },
      online: settings.online ?? null,
    });
  }

  clear(model: string): void {
    this.models.delete(model);
  }
}
