import { EventEmitter } from 'node:events';
import { categoryOf, upcasters as defaultUpcasters, type NewEvent, type RecordedEvent, type UpcasterRegistry } from '@mlp/contracts';
import type {
  AppendOptions,
  AppendResult,
  CheckpointStore,
  EventFilter,
  EventHandler,
  EventStore,
  ReadAllOptions,
  ReadStreamOptions,
  SubscribeOptions,
  Subscription,
} from './event-store';
import { validateAppend } from './append-plan';
import { assertStreamName } from '@mlp/contracts';

export interface EventStoreOptions {
  /** Applied to every event read; defaults to the platform catalogue's upcasters. */
  upcasters?: UpcasterRegistry;
  /** Poll interval of catch-up subscriptions when no in-process append wakes them (ms). */
  pollIntervalMs?: number;
}

export const DEFAULT_PAGE = 1000;

/** A promise settled from outside; rejections are marked handled (callers may never await it). */
export function deferred(): { promise: Promise<void>; resolve: () => void; reject: (err: unknown) => void } {
  let resolve!: () => void;
  let reject!: (err: unknown) => void;
  const promise = new Promise<void>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  promise.catch(() => undefined);
  return { promise, resolve, reject };
}

export function matchesFilter(filter: EventFilter | undefined, stream: string): boolean {
  return !filter || filter === 'all' || categoryOf(stream) === filter.category;
}

/** Forward/backward window over a whole stream, shared by adapters that load it at once. */
export function sliceStream<E extends { revision: number }>(events: E[], options: ReadStreamOptions = {}): E[] {
  const max = options.maxCount ?? Number.MAX_SAFE_INTEGER;
  if (options.direction === 'backward') {
    const from = options.from ?? Number.MAX_SAFE_INTEGER;
    return events.filter((e) => e.revision <= from).reverse().slice(0, max);
  }
  const from = options.from ?? 0;
  return events.filter((e) => e.revision >= from).slice(0, max);
}

/**
 * Behaviour written once for every adapter: input validation, upcasting on
 * read, and a catch-up subscription built on readAll (woken by local appends,
 * polling for appends made by other processes). Adapters with native live
 * delivery (JetStream) override subscribe.
 */
export abstract class BaseEventStore implements EventStore {
  abstract readonly kind: string;
  protected readonly upcasters: UpcasterRegistry;
  protected readonly pollIntervalMs: number;
  private readonly appended = new EventEmitter().setMaxListeners(0);
  private readonly subscriptions = new Set<Subscription>();

  protected constructor(options: EventStoreOptions = {}) {
    this.upcasters = options.upcasters ?? defaultUpcasters;
    this.pollIntervalMs = options.pollIntervalMs ?? 250;
  }

  protected abstract append(stream: string, events: readonly NewEvent[], options: Required<AppendOptions>): Promise<AppendResult>;
  protected abstract readStreamRaw(stream: string, options: ReadStreamOptions): Promise<RecordedEvent[]>;
  protected abstract readAllRaw(options: Required<Pick<ReadAllOptions, 'fromPosition' | 'maxCount'>> & ReadAllOptions): Promise<RecordedEvent[]>;
  abstract streamExists(stream: string): Promise<boolean>;
  abstract checkpoints(): CheckpointStore;
  abstract ping(): Promise<void>;
  protected abstract closeBackend(): Promise<void>;

  async appendToStream(stream: string, events: readonly NewEvent[], options: AppendOptions = {}): Promise<AppendResult> {
    validateAppend(stream, events);
    const result = await this.append(stream, events, { expectedRevision: options.expectedRevision ?? 'any' });
    this.appended.emit('append');
    return result;
  }

  async readStream(stream: string, options: ReadStreamOptions = {}): Promise<RecordedEvent[]> {
    assertStreamName(stream);
    const events = await this.readStreamRaw(stream, options);
    return events.map((e) => this.upcasters.upcast(e));
  }

  async readAll(options: ReadAllOptions = {}): Promise<RecordedEvent[]> {
    const events = await this.readAllRaw({
      ...options,
      fromPosition: Math.max(1, options.fromPosition ?? 1),
      maxCount: options.maxCount ?? DEFAULT_PAGE,
    });
    return events.map((e) => this.upcasters.upcast(e));
  }

  subscribe(options: SubscribeOptions, handler: EventHandler): Subscription {
    let closed = false;
    let wake: (() => void) | undefined;
    const onAppend = () => wake?.();
    this.appended.on('append', onAppend);
    const { promise: caughtUp, resolve: markCaughtUp, reject: failCaughtUp } = deferred();

    const run = async () => {
      let next = (options.fromCheckpoint ?? 0) + 1;
      let first = true;
      while (!closed) {
        const page = await this.readAll({ fromPosition: next, maxCount: DEFAULT_PAGE, filter: options.filter });
        for (const event of page) {
          if (closed) return;
          await handler(event);
          next = event.position + 1;
        }
        if (page.length < DEFAULT_PAGE) {
          if (first) markCaughtUp();
          first = false;
          if (closed) return;
          await new Promise<void>((resolve) => {
            const timer = setTimeout(resolve, this.pollIntervalMs);
            wake = () => {
              clearTimeout(timer);
              resolve();
            };
          });
          wake = undefined;
        }
      }
    };
    const done = run().then(
      () => {
        this.appended.off('append', onAppend);
        markCaughtUp();
      },
      (err: unknown) => {
        this.appended.off('append', onAppend);
        failCaughtUp(err);
        throw err;
      },
    );
    const subscription: Subscription = {
      caughtUp,
      done,
      close: async () => {
        closed = true;
        wake?.();
        await done.catch(() => undefined);
        this.subscriptions.delete(subscription);
      },
    };
    this.subscriptions.add(subscription);
    done.catch(() => undefined);
    return subscription;
  }

  async close(): Promise<void> {
    await Promise.all([...this.subscriptions].map((s) => s.close()));
    await this.closeBackend();
  }
}
