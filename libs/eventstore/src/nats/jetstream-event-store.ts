import {
  AckPolicy,
  connect,
  DeliverPolicy,
  ErrorCode,
  headers as natsHeaders,
  nanos,
  RetentionPolicy,
  StorageType,
  type ConnectionOptions,
  type JetStreamClient,
  type JetStreamManager,
  type KV,
  type NatsConnection,
  type NatsError,
} from 'nats';
import { InfrastructureError, subjects, type NewEvent, type RecordedEvent } from '@mlp/contracts';
import { BaseEventStore, DEFAULT_PAGE, deferred, type EventStoreOptions } from '../base-event-store';
import type {
  AppendOptions,
  AppendResult,
  CheckpointStore,
  EventFilter,
  EventHandler,
  ReadAllOptions,
  ReadStreamOptions,
  SubscribeOptions,
  Subscription,
} from '../event-store';
import { revisionMatches } from '../append-plan';
import { sliceStream } from '../base-event-store';
import { ExpectedVersionConflictError } from '../errors';

export interface JetStreamEventStoreOptions extends EventStoreOptions {
  servers: string | string[];
  /** NATS credentials (token, user/pass or a creds authenticator), as @mlp/messaging's natsAuth builds them. */
  auth?: Pick<ConnectionOptions, 'token' | 'user' | 'pass' | 'authenticator'>;
  /** JetStream stream replicas (R3 in a cluster). */
  replicas?: number;
  /** Window in which a re-published event id is recognised as a duplicate (ms). Default 24 h. */
  duplicateWindowMs?: number;
  /** Name of the KV bucket that holds subscription checkpoints. */
  checkpointBucket?: string;
}

/** Body of one JetStream message: one event. */
interface StoredBody extends NewEvent {
  revision: number;
}

interface Tail {
  revision: number;
  seq: number;
  id: string;
}

const REVISION_HEADER = 'Mlp-Revision';
const FETCH_PAGE = 10_000;
/** Tries of a read's consumer request that times out. */
const READ_ATTEMPTS = 3;

function isNotFound(err: unknown): boolean {
  const e = err as NatsError & { api_error?: { code?: number } };
  return e?.code === '404' || e?.api_error?.code === 404 || /no message found|not found/i.test(e?.message ?? '');
}

/** A JetStream API request that got no answer in time (a busy or just-restarted server); the request may or may not have been applied. */
function isTimeout(err: unknown): boolean {
  return (err as NatsError)?.code === ErrorCode.Timeout;
}

function isWrongLastSequence(err: unknown): boolean {
  const e = err as NatsError & { api_error?: { err_code?: number } };
  return e?.api_error?.err_code === 10071 || /wrong last sequence/i.test(e?.message ?? '');
}

function filterSubject(filter: EventFilter | undefined): string {
  return !filter || filter === 'all' ? subjects.evt.all : subjects.evt.forCategory(filter.category);
}

/**
 * Events on NATS JetStream: stream MLP_EVENTS, one subject per aggregate
 * stream (`mlp.evt.<category>.<stream>`), global position = stream sequence.
 * - Optimistic concurrency: every publish carries `expect.lastSubjectSequence`
 *   (0 for a new stream), so two writers can never both extend the same tail.
 * - Idempotency: `msgID` = event id; the server reports re-publishes inside the
 *   duplicate window, and a conflicting append is probed the same way before
 *   it is reported.
 * - A multi-event append is one publish per event, chained: it is not atomic.
 *   A writer that dies mid-batch leaves a prefix; retrying the same batch
 *   appends the rest (see append-plan.ts).
 */
export class JetStreamEventStore extends BaseEventStore {
  readonly kind = 'nats-jetstream';
  /** Last known tail per stream; verified by the server on every publish. */
  private readonly tails = new Map<string, Tail | null>();
  private kv?: Promise<KV>;

  private constructor(
    private readonly nc: NatsConnection,
    private readonly js: JetStreamClient,
    private readonly jsm: JetStreamManager,
    private readonly options: JetStreamEventStoreOptions,
  ) {
    super(options);
  }

  static async connect(options: JetStreamEventStoreOptions): Promise<JetStreamEventStore> {
    let nc: NatsConnection;
    try {
      nc = await connect({ servers: options.servers, name: 'mlp-eventstore', maxReconnectAttempts: -1, ...options.auth });
    } catch (cause) {
      throw new InfrastructureError(`cannot connect to NATS at ${String(options.servers)}: ${(cause as Error).message}`, { cause });
    }
    const jsm = await nc.jetstreamManager();
    const config = {
      name: subjects.evt.stream,
      subjects: [subjects.evt.all],
      storage: StorageType.File,
      retention: RetentionPolicy.Limits,
      num_replicas: options.replicas ?? 1,
      duplicate_window: nanos(options.duplicateWindowMs ?? 24 * 3600 * 1000),
      allow_direct: true,
    };
    try {
      await jsm.streams.info(config.name);
    } catch (err) {
      if (!isNotFound(err)) throw new InfrastructureError('cannot read JetStream stream info', { cause: err });
      try {
        await jsm.streams.add(config);
      } catch (cause) {
        // Another process may have created it in the meantime.
        await jsm.streams.info(config.name).catch(() => {
          throw new InfrastructureError(`cannot create JetStream stream ${config.name}`, { cause });
        });
      }
    }
    return new JetStreamEventStore(nc, nc.jetstream(), jsm, options);
  }

  protected async append(stream: string, events: readonly NewEvent[], options: Required<AppendOptions>): Promise<AppendResult> {
    const expected = options.expectedRevision;
    const subject = subjects.evt.forStream(stream);
    for (let attempt = 0; ; attempt++) {
      const fresh = attempt > 0 || !this.tails.has(stream);
      let tail = fresh ? await this.fetchTail(stream) : this.tails.get(stream)!;
      let pending = events;
      const current = tail?.revision ?? -1;
      if (events.length === 0 && revisionMatches(expected, current)) return { nextExpectedRevision: current, position: -1 };
      if (!revisionMatches(expected, current) || events.length === 0) {
        if (!fresh) continue; // the cached tail may be stale: check against the server
        const torn = tail ? events.findIndex((e) => e.id === tail!.id) : -1;
        if (torn >= 0) {
          pending = events.slice(torn + 1); // retry of a batch whose prefix is stored
        } else if (events.length > 0) {
          const original = await this.probeDuplicates(stream, subject, events, tail);
          if (original) return original;
          throw new ExpectedVersionConflictError(stream, expected, current < 0 ? 'no_stream' : current);
        } else {
          throw new ExpectedVersionConflictError(stream, expected, current < 0 ? 'no_stream' : current);
        }
        if (pending.length === 0) return { nextExpectedRevision: tail!.revision, position: tail!.seq };
      }

      let result: AppendResult | undefined;
      let written = 0;
      try {
        for (const event of pending) {
          const revision = (tail?.revision ?? -1) + 1;
          const ack = await this.publish(subject, event, revision, tail?.seq ?? 0);
          if (ack.duplicate) {
            const original = await this.storedAt(ack.seq);
            if (original.stream !== stream) {
              throw new ExpectedVersionConflictError(stream, expected, current < 0 ? 'no_stream' : current,
                `event ${event.id} is already stored in ${original.stream} at revision ${original.revision}`);
            }
            result = { nextExpectedRevision: original.revision, position: ack.seq };
            continue;
          }
          tail = { revision, seq: ack.seq, id: event.id };
          this.tails.set(stream, tail);
          result = { nextExpectedRevision: revision, position: ack.seq };
          written++;
        }
        return result!;
      } catch (err) {
        if (!isWrongLastSequence(err)) throw wrap(err);
        this.tails.delete(stream);
        if (written > 0) {
          throw new ExpectedVersionConflictError(stream, expected, 'no_stream',
            `stream ${stream}: another writer appended in the middle of a ${events.length}-event batch after ${written} events`);
        }
        if (attempt >= 20) throw new ExpectedVersionConflictError(stream, expected, current < 0 ? 'no_stream' : current);
        // Stale tail or a racing writer: the next attempt re-reads the tail and re-checks `expected`.
      }
    }
  }

  private async publish(subject: string, event: NewEvent, revision: number, lastSubjectSequence: number) {
    const h = natsHeaders();
    h.set(REVISION_HEADER, String(revision));
    const body: StoredBody = { ...event, revision };
    return this.js.publish(subject, JSON.stringify(body), {
      msgID: event.id,
      headers: h,
      expect: { lastSubjectSequence },
    });
  }

  /**
   * Decides whether a conflicting append is in fact a re-append: each event is
   * published with an expectation that cannot hold, so the server stores
   * nothing and only answers "duplicate" for ids it already has.
   */
  private async probeDuplicates(stream: string, subject: string, events: readonly NewEvent[], tail: Tail | null): Promise<AppendResult | null> {
    let last: AppendResult | null = null;
    let previousRevision: number | undefined;
    for (const event of events) {
      let ack;
      try {
        ack = await this.publish(subject, event, -1, tail ? 0 : Number.MAX_SAFE_INTEGER);
      } catch (err) {
        if (isWrongLastSequence(err)) return null;
        throw wrap(err);
      }
      if (!ack.duplicate) return null; // cannot happen: the expectation is unsatisfiable
      const original = await this.storedAt(ack.seq);
      if (original.stream !== stream) return null;
      if (previousRevision !== undefined && original.revision !== previousRevision + 1) return null;
      previousRevision = original.revision;
      last = { nextExpectedRevision: original.revision, position: ack.seq };
    }
    return last;
  }

  private async fetchTail(stream: string): Promise<Tail | null> {
    try {
      const m = await this.jsm.streams.getMessage(subjects.evt.stream, { last_by_subj: subjects.evt.forStream(stream) });
      const body = m.json<StoredBody>();
      const tail = { revision: body.revision, seq: m.seq, id: body.id };
      this.tails.set(stream, tail);
      return tail;
    } catch (err) {
      if (isNotFound(err)) {
        this.tails.set(stream, null);
        return null;
      }
      throw wrap(err);
    }
  }

  private async storedAt(seq: number): Promise<RecordedEvent> {
    const m = await this.jsm.streams.getMessage(subjects.evt.stream, { seq });
    return toRecorded(m.subject, m.seq, m.json<StoredBody>());
  }

  /** Reads up to `max` messages of `filter` starting at `fromSeq`, via a short-lived ack-less consumer. */
  private async fetchRange(filter: string, fromSeq: number, max: number): Promise<RecordedEvent[]> {
    let info;
    for (let attempt = 1; ; attempt++) {
      try {
        info = await this.jsm.consumers.add(subjects.evt.stream, {
          filter_subject: filter,
          deliver_policy: DeliverPolicy.StartSequence,
          opt_start_seq: fromSeq,
          ack_policy: AckPolicy.None,
          mem_storage: true,
          num_replicas: 1,
          inactive_threshold: nanos(30_000),
        });
        break;
      } catch (err) {
        // A read is safe to ask again; a consumer made by a request whose answer was lost expires by inactive_threshold.
        if (!isTimeout(err) || attempt >= READ_ATTEMPTS) throw wrap(err);
      }
    }
    const out: RecordedEvent[] = [];
    try {
      const target = Math.min(info.num_pending, max);
      const consumer = await this.js.consumers.get(subjects.evt.stream, info.name);
      while (out.length < target) {
        const batch = await consumer.fetch({ max_messages: Math.min(FETCH_PAGE, target - out.length), expires: 5000 });
        const before = out.length;
        for await (const m of batch) out.push(toRecorded(m.subject, m.seq, m.json<StoredBody>()));
        if (out.length === before) break;
      }
    } catch (err) {
      // The broker went away mid-read: an infrastructure failure (503), like every other store error.
      throw wrap(err);
    } finally {
      this.jsm.consumers.delete(subjects.evt.stream, info.name).catch(() => undefined);
    }
    return out;
  }

  protected async readStreamRaw(stream: string, options: ReadStreamOptions): Promise<RecordedEvent[]> {
    const events = await this.fetchRange(subjects.evt.forStream(stream), 1, Number.MAX_SAFE_INTEGER);
    return sliceStream(events, options);
  }

  protected async readAllRaw(options: Required<Pick<ReadAllOptions, 'fromPosition' | 'maxCount'>> & ReadAllOptions): Promise<RecordedEvent[]> {
    return this.fetchRange(filterSubject(options.filter), options.fromPosition, options.maxCount);
  }

  async streamExists(stream: string): Promise<boolean> {
    return (await this.fetchTail(stream)) !== null;
  }

  /** Native catch-up + live delivery through an ordered consumer. */
  override subscribe(options: SubscribeOptions, handler: EventHandler): Subscription {
    const filter = filterSubject(options.filter);
    const start = (options.fromCheckpoint ?? 0) + 1;
    let closed = false;
    let messages: { close(): Promise<void | Error> } | undefined;
    const { promise: caughtUp, resolve: markCaughtUp, reject: failCaughtUp } = deferred();

    const run = async () => {
      const backlog = await this.fetchRange(filter, start, DEFAULT_PAGE);
      let next = start;
      // Drain the backlog page by page, then switch to the live ordered consumer.
      let page = backlog;
      while (page.length > 0 && !closed) {
        for (const event of page) {
          if (closed) return;
          await handler(this.upcasters.upcast(event));
          next = event.position + 1;
        }
        page = page.length < DEFAULT_PAGE ? [] : await this.fetchRange(filter, next, DEFAULT_PAGE);
      }
      markCaughtUp();
      if (closed) return;
      const consumer = await this.js.consumers.get(subjects.evt.stream, { filterSubjects: filter, opt_start_seq: next });
      const iter = await consumer.consume({ max_messages: 256 });
      messages = iter;
      if (closed) {
        await iter.close();
        return;
      }
      for await (const m of iter) {
        if (closed) break;
        await handler(this.upcasters.upcast(toRecorded(m.subject, m.seq, m.json<StoredBody>())));
      }
    };
    const done = run().then(
      () => markCaughtUp(),
      async (err: unknown) => {
        failCaughtUp(err);
        await messages?.close().catch(() => undefined);
        throw err;
      },
    );
    done.catch(() => undefined);
    return {
      caughtUp,
      done,
      close: async () => {
        closed = true;
        await messages?.close().catch(() => undefined);
        await done.catch(() => undefined);
      },
    };
  }

  checkpoints(): CheckpointStore {
    const bucket = this.options.checkpointBucket ?? 'MLP_CHECKPOINTS';
    this.kv ??= this.js.views.kv(bucket, { history: 1, replicas: this.options.replicas ?? 1 });
    const kv = () => this.kv!;
    return {
      async load(name) {
        const entry = await (await kv()).get(name);
        return entry && entry.value.length > 0 ? Number(entry.string()) : undefined;
      },
      async save(name, position) {
        await (await kv()).put(name, String(position));
      },
      async list() {
        const bucket = await kv();
        const names: string[] = [];
        for await (const key of await bucket.keys()) names.push(key);
        const out: { name: string; position: number }[] = [];
        for (const name of names.sort()) {
          const entry = await bucket.get(name);
          if (entry && entry.value.length > 0) out.push({ name, position: Number(entry.string()) });
        }
        return out;
      },
    };
  }

  async ping(): Promise<void> {
    try {
      await this.jsm.streams.info(subjects.evt.stream);
    } catch (err) {
      throw wrap(err);
    }
  }

  protected async closeBackend(): Promise<void> {
    if (!this.nc.isClosed()) await this.nc.drain();
  }
}

function toRecorded(subject: string, seq: number, body: StoredBody): RecordedEvent {
  const stream = subject.slice(subject.indexOf('.', subjects.evt.prefix.length + 1) + 1);
  const { revision, ...event } = body;
  return { ...event, stream, revision, position: seq };
}

function wrap(err: unknown): Error {
  if (err instanceof ExpectedVersionConflictError || err instanceof InfrastructureError) return err;
  return new InfrastructureError(`JetStream event store: ${(err as Error)?.message ?? String(err)}`, { cause: err });
}
