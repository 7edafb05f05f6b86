import { categories, type RecordedEvent, type RegisteredModelView } from '@mlp/contracts';
import type { Projection } from '@mlp/eventstore';
import { evolve, type RegisteredModelEvent, type RegisteredModelState } from './registered-model';

/** Registered models by name, rebuilt from `model-*` streams. */
export class RegisteredModelsProjection implements Projection {
  readonly name = 'registry.registered-models';
  readonly version = 1;
  readonly filter = { category: categories.model };
  private readonly models = new Map<string, RegisteredModelView>();

  canHandle(event: RecordedEvent): boolean {
    return event.type === 'RegisteredModelCreated' || event.type === 'RegisteredModelDescribed' || event.type === 'RegisteredModelTagged';
  }

  handle(event: RecordedEvent): void {
    const e = { type: event.type, data: event.data } as RegisteredModelEvent;
    const name = e.data.name;
    const current = this.models.get(name);
    const before: RegisteredModelState = current
      ? { status: 'Active', name, description: current.description, tags: current.tags }
      : { status: 'Empty' };
    const after = evolve(before, e);
    if (after.status !== 'Active') return;
    this.models.set(name, {
      name,
      description: after.description,
      tags: after.tags,
      createdAt: current?.createdAt ?? event.occurredAt,
      updatedAt: event.occurredAt,
      revision: event.revision,
    });
  }

  reset(): void {
    this.models.clear();
  }

  get(name: string): RegisteredModelView | undefined {
    return this.models.get(name);
  }

  list(): RegisteredModelView[] {
    return [...this.models.values()].sort((a, b) => a.name.localeCompare(b.name));
  }
}
