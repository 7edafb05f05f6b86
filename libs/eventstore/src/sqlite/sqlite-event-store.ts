import Database from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { categoryOf, InfrastructureError, type NewEvent, type RecordedEvent } from '@mlp/contracts';
import { BaseEventStore, type EventStoreOptions } from '../base-event-store';
import type { AppendOptions, AppendResult, CheckpointStore, ReadAllOptions, ReadStreamOptions } from '../event-store';
import { planAppend, type StoredRef } from '../append-plan';

const SCHEMA = `
CREATE TABLE IF NOT EXISTS events (
  position       INTEGER PRIMARY KEY AUTOINCREMENT,
  id             TEXT    NOT NULL UNIQUE,
  stream         TEXT    NOT NULL,
  category       TEXT    NOT NULL,
  revision       INTEGER NOT NULL,
  type           TEXT    NOT NULL,
  schema_version INTEGER NOT NULL,
  occurred_at    TEXT    NOT NULL,
  correlation_id TEXT    NOT NULL,
  causation_id   TEXT,
  actor          TEXT    NOT NULL,
  code_version   TEXT    NOT NULL,
  data           TEXT    NOT NULL,
  UNIQUE (stream, revision)
);
CREATE INDEX IF NOT EXISTS events_by_category ON events (category, position);
CREATE TABLE IF NOT EXISTS checkpoints (
  name     TEXT PRIMARY KEY,
  position INTEGER NOT NULL
);`;

interface Row {
  position: number;
  id: string;
  stream: string;
  revision: number;
  type: string;
  schema_version: number;
  occurred_at: string;
  correlation_id: string;
  causation_id: string | null;
  actor: string;
  code_version: string;
  data: string;
}

function toEvent(row: Row): RecordedEvent {
  return {
    id: row.id,
    type: row.type,
    schemaVersion: row.schema_version,
    stream: row.stream,
    revision: row.revision,
    position: row.position,
    occurredAt: row.occurred_at,
    correlationId: row.correlation_id,
    causationId: row.causation_id,
    actor: row.actor,
    codeVersion: row.code_version,
    data: JSON.parse(row.data),
  };
}

/**
 * The embedded default: one SQLite file in WAL mode. Each append is one
 * IMMEDIATE transaction, so writers in several processes serialize and the
 * UNIQUE(stream, revision) constraint backs the revision check.
 */
export class SqliteEventStore extends BaseEventStore {
  readonly kind = 'sqlite';
  private readonly db: Database.Database;
  private readonly stmt;
  private readonly appendTx;
  private readonly checkpointStore: CheckpointStore;

  constructor(readonly file: string, options: EventStoreOptions = {}) {
    super(options);
    if (file !== ':memory:') mkdirSync(dirname(file), { recursive: true });
    try {
      this.db = new Database(file);
      this.db.pragma('journal_mode = WAL');
      this.db.pragma('synchronous = NORMAL');
      this.db.pragma('busy_timeout = 5000');
      this.db.exec(SCHEMA);
    } catch (cause) {
      throw new InfrastructureError(`cannot open SQLite event store at ${file}`, { cause });
    }
    const db = this.db;
    this.stmt = {
      last: db.prepare<[string], { revision: number }>('SELECT revision FROM events WHERE stream = ? ORDER BY revision DESC LIMIT 1'),
      byId: db.prepare<[string], StoredRef>('SELECT stream, revision, position FROM events WHERE id = ?'),
      insert: db.prepare(
        `INSERT INTO events (id, stream, category, revision, type, schema_version, occurred_at, correlation_id, causation_id, actor, code_version, data)
         VALUES (@id, @stream, @category, @revision, @type, @schemaVersion, @occurredAt, @correlationId, @causationId, @actor, @codeVersion, @data)`,
      ),
      streamFwd: db.prepare<[string, number, number], Row>('SELECT * FROM events WHERE stream = ? AND revision >= ? ORDER BY revision ASC LIMIT ?'),
      streamBwd: db.prepare<[string, number, number], Row>('SELECT * FROM events WHERE stream = ? AND revision <= ? ORDER BY revision DESC LIMIT ?'),
      all: db.prepare<[number, number], Row>('SELECT * FROM events WHERE position >= ? ORDER BY position ASC LIMIT ?'),
      category: db.prepare<[string, number, number], Row>('SELECT * FROM events WHERE category = ? AND position >= ? ORDER BY position ASC LIMIT ?'),
      exists: db.prepare<[string], { one: number }>('SELECT 1 AS one FROM events WHERE stream = ? LIMIT 1'),
      loadCheckpoint: db.prepare<[string], { position: number }>('SELECT position FROM checkpoints WHERE name = ?'),
      saveCheckpoint: db.prepare('INSERT INTO checkpoints (name, position) VALUES (?, ?) ON CONFLICT(name) DO UPDATE SET position = excluded.position'),
      listCheckpoints: db.prepare<[], { name: string; position: number }>('SELECT name, position FROM checkpoints ORDER BY name'),
    };
    this.appendTx = db.transaction((stream: string, events: readonly NewEvent[], options: Required<AppendOptions>): AppendResult => {
      const current = this.stmt.last.get(stream)?.revision ?? -1;
      const stored = new Map<string, StoredRef>();
      for (const e of events) {
        const ref = this.stmt.byId.get(e.id);
        if (ref) stored.set(e.id, ref);
      }
      const plan = planAppend(stream, events, options.expectedRevision, current, stored);
      if (plan.kind === 'noop') return plan.result;
      let revision = plan.firstRevision;
      let position = 0;
      const category = categoryOf(stream);
      for (const e of plan.events) {
        const info = this.stmt.insert.run({
          id: e.id,
          stream,
          category,
          revision,
          type: e.type,
          schemaVersion: e.schemaVersion,
          occurredAt: e.occurredAt,
          correlationId: e.correlationId,
          causationId: e.causationId,
          actor: e.actor,
          codeVersion: e.codeVersion,
          data: JSON.stringify(e.data ?? null),
        });
        position = Number(info.lastInsertRowid);
        revision += 1;
      }
      return { nextExpectedRevision: revision - 1, position };
    });
    const { loadCheckpoint, saveCheckpoint, listCheckpoints } = this.stmt;
    this.checkpointStore = {
      load: async (name) => loadCheckpoint.get(name)?.position,
      save: async (name, position) => void saveCheckpoint.run(name, position),
      list: async () => listCheckpoints.all(),
    };
  }

  protected async append(stream: string, events: readonly NewEvent[], options: Required<AppendOptions>): Promise<AppendResult> {
    return this.appendTx.immediate(stream, events, options);
  }

  protected async readStreamRaw(stream: string, options: ReadStreamOptions): Promise<RecordedEvent[]> {
    const max = options.maxCount ?? -1;
    const rows =
      options.direction === 'backward'
        ? this.stmt.streamBwd.all(stream, options.from ?? Number.MAX_SAFE_INTEGER, max)
        : this.stmt.streamFwd.all(stream, options.from ?? 0, max);
    return rows.map(toEvent);
  }

  protected async readAllRaw(options: Required<Pick<ReadAllOptions, 'fromPosition' | 'maxCount'>> & ReadAllOptions): Promise<RecordedEvent[]> {
    const { filter, fromPosition, maxCount } = options;
    const rows =
      !filter || filter === 'all'
        ? this.stmt.all.all(fromPosition, maxCount)
        : this.stmt.category.all(filter.category, fromPosition, maxCount);
    return rows.map(toEvent);
  }

  async streamExists(stream: string): Promise<boolean> {
    return this.stmt.exists.get(stream) !== undefined;
  }

  checkpoints(): CheckpointStore {
    return this.checkpointStore;
  }

  async ping(): Promise<void> {
    this.db.prepare('SELECT 1').get();
  }

  protected async closeBackend(): Promise<void> {
    if (this.db.open) this.db.close();
  }
}
