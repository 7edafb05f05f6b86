import { z } from 'zod';

/**
 * Metadata every event carries (ARCHITECTURE.md, "Event sourcing rules").
 * `stream`, `revision` and `position` are assigned by the event store on append.
 */
export const eventMetadataSchema = z.object({
  occurredAt: z.iso.datetime({ offset: true }),
  correlationId: z.string().min(1),
  causationId: z.string().min(1).nullable(),
  actor: z.string().min(1),
  codeVersion: z.string().min(1),
});
export type EventMetadata = z.infer<typeof eventMetadataSchema>;

/** An event about to be appended. `id` is what makes appends idempotent. */
export const newEventSchema = eventMetadataSchema.extend({
  id: z.uuid(),
  type: z.string().regex(/^[A-Z][A-Za-z0-9]*$/, 'event type must be PascalCase'),
  schemaVersion: z.number().int().positive(),
  data: z.unknown(),
});

export interface NewEvent<T extends string = string, D = unknown> extends EventMetadata {
  id: string;
  type: T;
  schemaVersion: number;
  data: D;
}

/** An event as stored: the envelope of ARCHITECTURE.md. */
export interface RecordedEvent<T extends string = string, D = unknown> extends NewEvent<T, D> {
  stream: string;
  /** 0-based position of the event inside its stream. */
  revision: number;
  /** Global, strictly increasing position across all streams (starts at 1). */
  position: number;
}

/** An event as the read APIs show it (monitoring's `GET /events` and `/events/live`, `mlp events`): the envelope without its schema and code versions. */
export type EventView = Omit<RecordedEvent, 'schemaVersion' | 'codeVersion'>;

/** Fields a caller supplies once per request and that flow into every event it causes. */
export interface CommandMetadata {
  /** Time comes in with the command: deciders never read the clock. */
  now: string;
  correlationId: string;
  causationId: string | null;
  actor: string;
  /**
   * The client's id for this command (HTTP `Idempotency-Key`): the events it
   * records get ids derived from it and the stream, so the same command sent
   * again (or many times at once) records once and answers as the first did.
   */
  commandId?: string;
}
