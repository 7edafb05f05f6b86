import { z } from 'zod';
import { randomUUID } from 'node:crypto';
import type { EventDefinition } from './event-definition';
import type { CommandMetadata, NewEvent, RecordedEvent } from './envelope';
import { ValidationError } from './errors';
import { UpcasterRegistry } from './upcasters';
import { toFieldIssues } from './validation';
import { ingestionEvents } from './events/ingestion.events';
import { featureStoreEvents } from './events/feature-store.events';
import { trainingEvents } from './events/training.events';
import { registryEvents, registryUpcasters } from './events/registry.events';
import { monitoringEvents } from './events/monitoring.events';
import { monitoringPolicyEvents } from './events/monitoring-policy.events';
import { authEvents } from './events/auth.events';
import { servingEvents } from './events/serving.events';
import { batchEvents } from './events/batch.events';
import { deploymentEvents } from './events/deployment.events';

/** Every event type of the platform at its current schema version. */
export const eventCatalogue = {
  ...ingestionEvents,
  ...featureStoreEvents,
  ...trainingEvents,
  ...registryEvents,
  ...monitoringEvents,
  ...monitoringPolicyEvents,
  ...authEvents,
  ...servingEvents,
  ...batchEvents,
  ...deploymentEvents,
} as const;

export type EventCatalogue = typeof eventCatalogue;
export type EventType = keyof EventCatalogue;
export type EventData<T extends EventType> = z.output<EventCatalogue[T]['schema']>;
export type EventInput<T extends EventType> = z.input<EventCatalogue[T]['schema']>;

/** `{type, data}` for any catalogued event: the unit deciders emit. */
export type DomainEvent<T extends EventType = EventType> = { [K in T]: { type: K; data: EventData<K> } }[T];
/** The same, with the input shape (defaults not yet applied). */
export type DomainEventInput<T extends EventType = EventType> = { [K in T]: { type: K; data: EventInput<K> } }[T];

export type StoredDomainEvent<T extends EventType = EventType> = {
  [K in T]: RecordedEvent<K, EventData<K>>;
}[T];

/**
 * Upcasters for superseded schema versions. Example kept as the reference:
 * RegisteredModelCreated v1 had no `tags` and an optional description;
 * v2 (current) requires both, so v1 payloads are upcast with defaults.
 */
export const upcasters = new UpcasterRegistry().register({
  type: 'RegisteredModelCreated',
  from: 1,
  upcast: (data) => {
    const v1 = data as { name: string; description?: string };
    return { name: v1.name, description: v1.description ?? '', tags: {} };
  },
});
for (const upcaster of registryUpcasters) upcasters.register(upcaster);

export function isCataloguedType(type: string): type is EventType {
  return Object.prototype.hasOwnProperty.call(eventCatalogue, type);
}

export function definitionOf(type: string): EventDefinition | undefined {
  return isCataloguedType(type) ? eventCatalogue[type] : undefined;
}

/** Validates `data` against the current schema of `type`; returns parsed data (defaults applied). */
export function validateEventData<T extends EventType>(type: T, data: unknown): EventData<T> {
  const def = eventCatalogue[type];
  if (!def) {
    throw new ValidationError(`unknown event type '${String(type)}'`, [{ path: 'type', message: 'not in the event catalogue' }]);
  }
  const result = def.schema.safeParse(data);
  if (!result.success) {
    const issues = toFieldIssues(result.error).map((i) => ({ ...i, path: i.path ? `data.${i.path}` : 'data' }));
    throw new ValidationError(
      `event ${type} v${def.schemaVersion} has invalid data: ${issues.map((i) => `${i.path}: ${i.message}`).join('; ')}`,
      issues,
    );
  }
  return result.data as EventData<T>;
}

export interface EnvelopeOptions {
  /** Fixes the event id, for deterministic ids (idempotent process managers). */
  id?: string;
  codeVersion: string;
}

/** Wraps a validated domain event in the append envelope. */
export function toNewEvent<T extends EventType>(
  event: DomainEventInput<T> | DomainEvent<T>,
  meta: CommandMetadata,
  options: EnvelopeOptions,
): NewEvent<T, EventData<T>> {
  const type = event.type as T;
  return {
    id: options.id ?? randomUUID(),
    type,
    schemaVersion: eventCatalogue[type].schemaVersion,
    data: validateEventData(type, event.data),
    occurredAt: meta.now,
    correlationId: meta.correlationId,
    causationId: meta.causationId,
    actor: meta.actor,
    codeVersion: options.codeVersion,
  };
}
