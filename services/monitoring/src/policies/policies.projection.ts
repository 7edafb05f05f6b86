import { categories, type EventData, type MonitoringPolicy, type RecordedEvent } from '@mlp/contracts';
import type { VerifiableProjection } from '@mlp/eventstore';

export interface PolicyView {
  model: string;
  policy: MonitoringPolicy;
  sha256: string;
  appliedAt: string;
  appliedBy: string;
  /** The last schedule firing recorded (its scheduled time), null before the first. */
  lastScheduledAt: string | null;
}

/** The policy in force per model, and its last schedule firing, from `monitor-*`. */
export class PoliciesProjection implements VerifiableProjection {
  readonly name = 'monitoring.policies';
  readonly version = 1;
  readonly filter = { category: categories.monitor };
  private readonly policies = new Map<string, PolicyView>();
  private readonly fired = new Map<string, string>();
  private readonly listeners: ((view: PolicyView) => void)[] = [];

  canHandle(event: RecordedEvent): boolean {
    return event.type === 'MonitoringPolicyApplied' || event.type === 'RetrainingScheduleFired';
  }

  handle(event: RecordedEvent): void {
    if (event.type === 'RetrainingScheduleFired') {
      const d = event.data as EventData<'RetrainingScheduleFired'>;
      this.fired.set(d.model, d.scheduledAt);
      const view = this.policies.get(d.model);
      if (view) view.lastScheduledAt = d.scheduledAt;
      return;
    }
    const d = event.data as EventData<'MonitoringPolicyApplied'>;
    const view: PolicyView = { model: d.model, policy: d.policy, sha256: d.sha256, appliedAt: event.occurredAt, appliedBy: event.actor, lastScheduledAt: this.fired.get(d.model) ?? null };
    this.policies.set(d.model, view);
    for (const listener of this.listeners) listener(view);
  }

  reset(): void {
    this.policies.clear();
    this.fired.clear();
  }

  /** Applied policies and fired schedules as plain data (mlp replay projections compares it with a rebuild). */
  snapshot(): unknown {
    return { policies: this.policies, fired: this.fired };
  }

  /** Called for every policy applied (also while catching up). */
  onApplied(listener: (view: PolicyView) => void): void {
    this.listeners.push(listener);
  }

  get(model: string): PolicyView | undefined {
    return this.policies.get(model);
  }

  list(): PolicyView[] {
    return [...this.policies.values()].sort((a, b) => a.model.localeCompare(b.model));
  }
}
