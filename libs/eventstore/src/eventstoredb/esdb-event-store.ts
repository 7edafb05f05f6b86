import {
  ANY,
  BACKWARDS,
  END,
  EventStoreDBClient,
  FORWARDS,
  NO_STREAM,
  START,
  STREAM_EXISTS,
  StreamNotFoundError,
  WrongExpectedVersionError,
  jsonEvent,
  type AppendExpectedRevision,
  type ResolvedEvent,
} from '@eventstore/db-client';
import { InfrastructureError, type NewEvent, type RecordedEvent } from '@mlp/contracts';
import { BaseEventStore, matchesFilter, type EventStoreOptions } from '../base-event-store';
import type { AppendOptions, AppendResult, CheckpointStore, ExpectedRevision, ReadAllOptions, ReadStreamOptions } from '../event-store';
import { ExpectedVersionConflictError } from '../errors';

/** Envelope fields kept in EventStoreDB's event metadata. */
interface EsdbMetadata {
  schemaVersion: number;
  occurredAt: string;
  correlationId: string;
  causationId: string | null;
  actor: string;
  codeVersion: string;
  $correlationId: string;
  $causationId?: string;
}

const CHECKPOINT_CATEGORY = 'mlpcheckpoint';

function toEsdbExpected(expected: ExpectedRevision): AppendExpectedRevision {
  if (expected === 'any') return ANY;
  if (expected === 'no_stream') return NO_STREAM;
  if (expected === 'stream_exists') return STREAM_EXISTS;
  return BigInt(expected);
}

/**
 * EventStoreDB / KurrentDB through its gRPC client. Native optimistic
 * concurrency and idempotent appends (by event id at the expected revision).
 * Global position = the commit position of $all. Its contract suite runs only
 * when EVENTSTORE_URL points at a server: none can be installed on the build
 * machines.
 */
export class EsdbEventStore extends BaseEventStore {
  readonly kind = 'eventstoredb';
  private readonly client: EventStoreDBClient;

  constructor(connectionString: string, options: EventStoreOptions = {}) {
    super(options);
    this.client = EventStoreDBClient.connectionString`${connectionString}`;
  }

  protected async append(stream: string, events: readonly NewEvent[], options: Required<AppendOptions>): Promise<AppendResult> {
    try {
      const result = await this.client.appendToStream(
        stream,
        events.map((e) =>
          jsonEvent({
            id: e.id,
            type: e.type,
            data: (e.data ?? null) as never,
            metadata: {
              schemaVersion: e.schemaVersion,
              occurredAt: e.occurredAt,
              correlationId: e.correlationId,
              causationId: e.causationId,
              actor: e.actor,
              codeVersion: e.codeVersion,
              $correlationId: e.correlationId,
              ...(e.causationId ? { $causationId: e.causationId } : {}),
            } satisfies EsdbMetadata,
          }),
        ),
        { expectedRevision: toEsdbExpected(options.expectedRevision) },
      );
      return { nextExpectedRevision: Number(result.nextExpectedRevision), position: Number(result.position?.commit ?? -1) };
    } catch (err) {
      if (err instanceof WrongExpectedVersionError) {
        const actual = typeof err.actualVersion === 'bigint' ? Number(err.actualVersion) : 'no_stream';
        throw new ExpectedVersionConflictError(stream, options.expectedRevision, actual);
      }
      throw new InfrastructureError(`EventStoreDB append to ${stream} failed`, { cause: err });
    }
  }

  protected async readStreamRaw(stream: string, options: ReadStreamOptions): Promise<RecordedEvent[]> {
    const backward = options.direction === 'backward';
    const out: RecordedEvent[] = [];
    try {
      for await (const resolved of this.client.readStream(stream, {
        direction: backward ? BACKWARDS : FORWARDS,
        fromRevision: options.from === undefined ? (backward ? END : START) : BigInt(options.from),
        maxCount: options.maxCount ?? Number.MAX_SAFE_INTEGER,
      })) {
        const event = toRecorded(resolved);
        if (event) out.push(event);
      }
    } catch (err) {
      if (err instanceof StreamNotFoundError) return [];
      throw new InfrastructureError(`EventStoreDB read of ${stream} failed`, { cause: err });
    }
    return out;
  }

  protected async readAllRaw(options: Required<Pick<ReadAllOptions, 'fromPosition' | 'maxCount'>> & ReadAllOptions): Promise<RecordedEvent[]> {
    const from = BigInt(options.fromPosition);
    const out: RecordedEvent[] = [];
    try {
      for await (const resolved of this.client.readAll({ fromPosition: { commit: from, prepare: from }, direction: FORWARDS })) {
        const event = toRecorded(resolved);
        if (!event || event.stream.startsWith('$') || event.stream.startsWith(`${CHECKPOINT_CATEGORY}-`)) continue;
        if (!matchesFilter(options.filter, event.stream)) continue;
        out.push(event);
        if (out.length >= options.maxCount) break;
      }
    } catch (err) {
      throw new InfrastructureError('EventStoreDB read of $all failed', { cause: err });
    }
    return out;
  }

  async streamExists(stream: string): Promise<boolean> {
    return (await this.readStreamRaw(stream, { maxCount: 1 })).length > 0;
  }

  /** Checkpoints as one-event-kept streams `mlpcheckpoint-<name>`. */
  checkpoints(): CheckpointStore {
    return {
      load: async (name) => {
        const [last] = await this.readStreamRaw(`${CHECKPOINT_CATEGORY}-${name}`, { direction: 'backward', maxCount: 1 });
        return last ? (last.data as { position: number }).position : undefined;
      },
      save: async (name, position) => {
        const stream = `${CHECKPOINT_CATEGORY}-${name}`;
        await this.client.appendToStream(stream, jsonEvent({ type: 'CheckpointSaved', data: { position } }));
        await this.client.setStreamMetadata(stream, { maxCount: 1 });
      },
    };
  }

  async ping(): Promise<void> {
    try {
      for await (const _ of this.client.readAll({ maxCount: 1, direction: BACKWARDS, fromPosition: END })) break;
    } catch (err) {
      throw new InfrastructureError('EventStoreDB is not reachable', { cause: err });
    }
  }

  protected async closeBackend(): Promise<void> {
    await this.client.dispose();
  }
}

function toRecorded(resolved: ResolvedEvent): RecordedEvent | undefined {
  const e = resolved.event;
  if (!e || !e.isJson) return undefined;
  const meta = (e.metadata ?? {}) as Partial<EsdbMetadata>;
  return {
    id: e.id,
    type: e.type,
    schemaVersion: meta.schemaVersion ?? 1,
    stream: e.streamId,
    revision: Number(e.revision),
    position: Number(e.position?.commit ?? resolved.commitPosition ?? -1),
    occurredAt: meta.occurredAt ?? e.created.toISOString(),
    correlationId: meta.correlationId ?? 'unknown',
    causationId: meta.causationId ?? null,
    actor: meta.actor ?? 'unknown',
    codeVersion: meta.codeVersion ?? 'unknown',
    data: e.data,
  };
}
