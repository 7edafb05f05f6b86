import type { NewEvent, RecordedEvent } from '@mlp/contracts';
import { BaseEventStore, matchesFilter, sliceStream, type EventStoreOptions } from '../base-event-store';
import type { AppendOptions, AppendResult, CheckpointStore, ReadAllOptions, ReadStreamOptions } from '../event-store';
import { planAppend, type StoredRef } from '../append-plan';

export class MemoryCheckpointStore implements CheckpointStore {
  private readonly positions = new Map<string, number>();
  async load(name: string): Promise<number | undefined> {
    return this.positions.get(name);
  }
  async save(name: string, position: number): Promise<void> {
    this.positions.set(name, position);
  }
  async list(): Promise<{ name: string; position: number }[]> {
    return [...this.positions].map(([name, position]) => ({ name, position })).sort((a, b) => a.name.localeCompare(b.name));
  }
}

/** In-process store for tests and throw-away runs. Appends are atomic (single-threaded). */
export class MemoryEventStore extends BaseEventStore {
  readonly kind = 'memory';
  private readonly log: RecordedEvent[] = [];
  private readonly byStream = new Map<string, RecordedEvent[]>();
  private readonly byId = new Map<string, StoredRef>();
  private readonly checkpointStore = new MemoryCheckpointStore();

  constructor(options: EventStoreOptions = {}) {
    super(options);
  }

  protected async append(stream: string, events: readonly NewEvent[], options: Required<AppendOptions>): Promise<AppendResult> {
    const existing = this.byStream.get(stream) ?? [];
    const current = existing.length - 1;
    const plan = planAppend(stream, events, options.expectedRevision, current, this.byId);
    if (plan.kind === 'noop') return plan.result;
    let revision = plan.firstRevision;
    for (const event of plan.events) {
      const recorded: RecordedEvent = { ...structuredClone(event), stream, revision, position: this.log.length + 1 };
      this.log.push(recorded);
      existing.push(recorded);
      this.byId.set(event.id, { stream, revision, position: recorded.position });
      revision += 1;
    }
    this.byStream.set(stream, existing);
    return { nextExpectedRevision: revision - 1, position: this.log.length };
  }

  protected async readStreamRaw(stream: string, options: ReadStreamOptions): Promise<RecordedEvent[]> {
    return sliceStream(this.byStream.get(stream) ?? [], options).map((e) => structuredClone(e));
  }

  protected async readAllRaw(options: Required<Pick<ReadAllOptions, 'fromPosition' | 'maxCount'>> & ReadAllOptions): Promise<RecordedEvent[]> {
    const out: RecordedEvent[] = [];
    for (let i = options.fromPosition - 1; i < this.log.length && out.length < options.maxCount; i++) {
      if (matchesFilter(options.filter, this.log[i].stream)) out.push(structuredClone(this.log[i]));
    }
    return out;
  }

  async streamExists(stream: string): Promise<boolean> {
    return (this.byStream.get(stream)?.length ?? 0) > 0;
  }

  checkpoints(): CheckpointStore {
    return this.checkpointStore;
  }

  async ping(): Promise<void> {
    return;
  }

  protected async closeBackend(): Promise<void> {
    return;
  }
}
