import { categories, type EventData, type RecordedEvent } from '@mlp/contracts';
import type { VerifiableProjection } from '@mlp/eventstore';
import type { MonitoringSettings } from './monitoring-settings';
import { parseWindowSpec } from './window-spec';

/**
 * Keeps MonitoringSettings in step with each model's applied policy
 * (MonitoringPolicyApplied on `monitor-<model>`): its window, drift overrides
 * and share threshold, and its performance window and degradation rule.
 * Windows open when a policy arrives are told through `onApplied`.
 */
export class PolicySettingsProjection implements VerifiableProjection {
  readonly name = 'monitoring.policy-settings';
  readonly version = 1;
  readonly filter = { category: categories.monitor };
  private readonly models = new Set<string>();

  /** `onApplied` hears of each policy once it is in the settings (live: open windows adopt it; a rebuild passes none). */
  constructor(
    private readonly settings: MonitoringSettings,
    private readonly onApplied?: (model: string, event: RecordedEvent) => void,
  ) {}

  canHandle(event: RecordedEvent): boolean {
    return event.type === 'MonitoringPolicyApplied';
  }

  handle(event: RecordedEvent): void {
    const { model, policy } = event.data as EventData<'MonitoringPolicyApplied'>;
    const perf = policy.performance;
    this.settings.set(model, {
      window: 'size' in policy.window ? { size: policy.window.size } : parseWindowSpec(policy.window.duration, 'window.duration'),
      drift: { shareThreshold: policy.drift.shareThreshold, features: policy.drift.features },
      online: policy.onlineLearning?.enabled ? { minLabels: policy.onlineLearning.minLabels, minIntervalMinutes: policy.onlineLearning.minIntervalMinutes } : null,
      ...(perf ? { performance: { window: perf.window, rule: { metric: perf.metric, ...(perf.minimum !== undefined ? { minimum: perf.minimum } : {}), ...(perf.maxDrop !== undefined ? { maxDrop: perf.maxDrop } : {}) } } } : {}),
    });
    this.models.add(model);
    this.onApplied?.(model, event);
  }

  reset(): void {
    for (const m of this.models) this.settings.clear(m);
    this.models.clear();
  }

  /** Each model's window, drift and performance settings as plain data (mlp replay projections compares it with a rebuild). */
  snapshot(): unknown {
    return { settings: new Map([...this.models].map((m) => [m, this.settings.get(m)])) };
  }
}
