import { categories, type EventData, type ListAlertsQuery, type RecordedEvent } from '@mlp/contracts';
import type { VerifiableProjection } from '@mlp/eventstore';

export interface AlertView {
  alertId: string;
  model: string;
  version?: number;
  condition: string;
  severity: string;
  status: 'active' | 'resolved';
  message: string;
  details: Record<string, unknown>;
  raisedAt: string;
  resolvedAt: string | null;
  resolution: string | null;
  /** Whether the policy sends it to its webhook, and what happened to each transition. */
  notify: boolean;
  deliveries: { transition: string; outcome: 'delivered' | 'failed'; attempts: number; status?: number; error?: string; at: string }[];
  cause: { eventId: string; type: string };
}

/** Alerts, active and resolved, with their webhook deliveries, from `monitor-*`. */
export class AlertsProjection implements VerifiableProjection {
  readonly name = 'monitoring.alerts';
  readonly version = 1;
  readonly filter = { category: categories.monitor };
  private readonly alerts = new Map<string, AlertView>();

  canHandle(event: RecordedEvent): boolean {
    return ['AlertRaised', 'AlertResolved', 'AlertDelivered', 'AlertDeliveryFailed'].includes(event.type);
  }

  handle(event: RecordedEvent): void {
    switch (event.type) {
      case 'AlertRaised': {
        const d = event.data as EventData<'AlertRaised'>;
        this.alerts.set(d.alertId, {
          alertId: d.alertId,
          model: d.model,
          ...(d.version !== undefined ? { version: d.version } : {}),
          condition: d.condition,
          severity: d.severity,
          status: 'active',
          message: d.message,
          details: d.details,
          raisedAt: event.occurredAt,
          resolvedAt: null,
          resolution: null,
          notify: d.notify,
          deliveries: [],
          cause: d.cause,
        });
        return;
      }
      case 'AlertResolved': {
        const d = event.data as EventData<'AlertResolved'>;
        const a = this.alerts.get(d.alertId);
        if (a) Object.assign(a, { status: 'resolved', resolvedAt: event.occurredAt, resolution: d.message });
        return;
      }
      case 'AlertDelivered': {
        const d = event.data as EventData<'AlertDelivered'>;
        this.alerts.get(d.alertId)?.deliveries.push({ transition: d.transition, outcome: 'delivered', attempts: d.attempts, status: d.status, at: event.occurredAt });
        return;
      }
      case 'AlertDeliveryFailed': {
        const d = event.data as EventData<'AlertDeliveryFailed'>;
        this.alerts.get(d.alertId)?.deliveries.push({ transition: d.transition, outcome: 'failed', attempts: d.attempts, error: d.error, at: event.occurredAt });
        return;
      }
    }
  }

  reset(): void {
    this.alerts.clear();
  }

  /** Every alert as plain data (mlp replay projections compares it with a rebuild). */
  snapshot(): unknown {
    return { alerts: this.alerts };
  }

  /** Newest first. */
  list(query: ListAlertsQuery): AlertView[] {
    return [...this.alerts.values()]
      .filter((a) => (query.model === undefined || a.model === query.model) && (query.status === 'all' || a.status === query.status))
      .sort((a, b) => b.raisedAt.localeCompare(a.raisedAt) || b.alertId.localeCompare(a.alertId))
      .slice(0, query.limit);
  }
}
