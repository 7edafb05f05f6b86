import { categories, type RecordedEvent } from '@mlp/contracts';
import type { VerifiableProjection } from '@mlp/eventstore';

export interface MonitorView {
  model: string;
  policy: Record<string, unknown>;
  createdAt: string;
  /** The registry event this monitor was created for. */
  sourceEventId: string;
  causationId: string | null;
  correlationId: string;
}

/** Monitors by model, rebuilt from `monitor-*` streams. */
export class MonitorsProjection implements VerifiableProjection {
  readonly name = 'monitoring.monitors';
  readonly version = 1;
  readonly filter = { category: categories.monitor };
  private readonly monitors = new Map<string, MonitorView>();

  canHandle(event: RecordedEvent): boolean {
    return event.type === 'MonitorCreated';
  }

  handle(event: RecordedEvent): void {
    const data = event.data as { model: string; policy: Record<string, unknown>; sourceEventId: string };
    this.monitors.set(data.model, {
      model: data.model,
      policy: data.policy,
      createdAt: event.occurredAt,
      sourceEventId: data.sourceEventId,
      causationId: event.causationId,
      correlationId: event.correlationId,
    });
  }

  reset(): void {
    this.monitors.clear();
  }

  /** Every monitor as plain data (mlp replay projections compares it with a rebuild). */
  snapshot(): unknown {
    return { monitors: this.monitors };
  }

  get(model: string): MonitorView | undefined {
    return this.monitors.get(model);
  }

  list(): MonitorView[] {
    return [...this.monitors.values()].sort((a, b) => a.model.localeCompare(b.model));
  }
}
