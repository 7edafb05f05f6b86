import type { NewEvent, RecordedEvent } from '@mlp/contracts';

/** What the caller believes the stream's last revision is. */
export type ExpectedRevision = 'any' | 'no_stream' | 'stream_exists' | number;

export interface AppendOptions {
  /** Default 'any'. */
  expectedRevision?: ExpectedRevision;
}

export interface AppendResult {
  /** Revision of the stream's last event after the append: pass it as the next expectedRevision. */
  nextExpectedRevision: number;
  /** Global position of the last appended (or, for an idempotent re-append, already stored) event. */
  position: number;
}

export interface ReadStreamOptions {
  /** First revision to return (forward) or the highest one (backward). */
  from?: number;
  direction?: 'forward' | 'backward';
  maxCount?: number;
}

/** `'all'` or one category: the stream-name prefix before the first '-'. */
export type EventFilter = 'all' | { category: string };

export interface ReadAllOptions {
  /** Inclusive; positions start at 1. */
  fromPosition?: number;
  /** Default 1000. */
  maxCount?: number;
  filter?: EventFilter;
}

export interface SubscribeOptions {
  filter?: EventFilter;
  /** Position of the last event the consumer already handled: delivery starts after it. */
  fromCheckpoint?: number;
}

export type EventHandler = (event: RecordedEvent) => Promise<void> | void;

export interface Subscription {
  /** Resolves once every event that existed at subscribe time was handled. */
  readonly caughtUp: Promise<void>;
  /** Settles when the subscription ends: resolves on close(), rejects with the handler's or the backend's error. */
  readonly done: Promise<void>;
  close(): Promise<void>;
}

/** Durable consumer positions for catch-up subscriptions. */
export interface CheckpointStore {
  load(name: string): Promise<number | undefined>;
  save(name: string, position: number): Promise<void>;
  /** Every saved checkpoint, by name (process-manager lag); absent where the backend cannot list them (EventStoreDB without projections). */
  list?(): Promise<{ name: string; position: number }[]>;
}

/**
 * The event store port. Every adapter passes the same contract suite
 * (contract/event-store.contract.ts). Reads return events upcast to their
 * newest schema version.
 */
export interface EventStore {
  readonly kind: string;
  /**
   * Appends atomically where the backend allows (JetStream: one message per
   * event, chained by expected subject sequence). Idempotent by event id:
   * events already stored in this stream are not stored again.
   * Throws ExpectedVersionConflictError when `expectedRevision` does not hold.
   */
  appendToStream(stream: string, events: readonly NewEvent[], options?: AppendOptions): Promise<AppendResult>;
  /** Events of one stream; `[]` when it does not exist. */
  readStream(stream: string, options?: ReadStreamOptions): Promise<RecordedEvent[]>;
  streamExists(stream: string): Promise<boolean>;
  /** One page of the global log, in position order. */
  readAll(options?: ReadAllOptions): Promise<RecordedEvent[]>;
  /** Catch-up subscription: delivers stored events after the checkpoint in order, then live ones. */
  subscribe(options: SubscribeOptions, handler: EventHandler): Subscription;
  /** Checkpoints kept next to the events (same database, KV bucket, …). */
  checkpoints(): CheckpointStore;
  /** Throws when the backend cannot serve requests: used by readiness checks. */
  ping(): Promise<void>;
  close(): Promise<void>;
}
