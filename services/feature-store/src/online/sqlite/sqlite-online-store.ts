import Database from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { setImmediate as yieldToLoop } from 'node:timers/promises';
import { InfrastructureError, ValidationError } from '@mlp/contracts';
import { BaseOnlineStore } from '../base-online-store';
import type { PreparedRow } from '../online-rows';
import type { OnlineFeatures } from '../online-store';

export interface SqliteOnlineStoreOptions {
  /** Table that holds every view's rows. Default `online_features`. */
  table?: string;
}

/** Rows per write transaction: long batches yield to the event loop between chunks. */
const WRITE_CHUNK = 2_000;

interface StoredRow {
  entity_key: string;
  event_ts: string;
  vals: string;
}

/**
 * The embedded online store: one table per store file, primary key
 * (view, entity_key), values as canonical JSON, WAL. The write rule is one
 * conditional upsert, so it holds across processes sharing the file: it is
 * `supersedes` (online-rows.ts) in SQL, and the contract suite checks both
 * against the same cases.
 */
export class SqliteOnlineStore extends BaseOnlineStore {
  readonly kind = 'sqlite';
  private readonly db: Database.Database;
  private readonly stmt;
  private readonly writeTx;

  constructor(readonly file: string, options: SqliteOnlineStoreOptions = {}) {
    super();
    const table = options.table ?? 'online_features';
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(table)) {
      throw new ValidationError(`invalid online store table name '${table}'`, [{ path: 'table', message: 'must be an SQL identifier' }]);
    }
    try {
      if (file !== ':memory:') mkdirSync(dirname(file), { recursive: true });
      this.db = new Database(file);
      this.db.pragma('journal_mode = WAL');
      this.db.pragma('synchronous = NORMAL');
      this.db.pragma('busy_timeout = 5000');
      this.db.exec(`CREATE TABLE IF NOT EXISTS ${table} (
        view               TEXT NOT NULL,
        entity_key         TEXT NOT NULL,
        ts_key             TEXT NOT NULL,
        event_ts           TEXT NOT NULL,
        vals               TEXT NOT NULL,
        materialization_id TEXT NOT NULL,
        PRIMARY KEY (view, entity_key)
      ) WITHOUT ROWID`);
    } catch (cause) {
      throw new InfrastructureError(`cannot open SQLite online store at ${file}`, { cause });
    }
    const db = this.db;
    this.stmt = {
      // `supersedes` in SQL: newer, or same instant with different content.
      upsert: db.prepare(
        `INSERT INTO ${table} (view, entity_key, ts_key, event_ts, vals, materialization_id)
         VALUES (@view, @entityKey, @tsKey, @eventTimestamp, @valuesJson, @materializationId)
         ON CONFLICT (view, entity_key) DO UPDATE SET
           ts_key = excluded.ts_key, event_ts = excluded.event_ts, vals = excluded.vals, materialization_id = excluded.materialization_id
         WHERE excluded.ts_key > ${table}.ts_key
            OR (excluded.ts_key = ${table}.ts_key AND (excluded.vals <> ${table}.vals OR excluded.materialization_id <> ${table}.materialization_id))`,
      ),
      one: db.prepare<[string, string], StoredRow>(`SELECT entity_key, event_ts, vals FROM ${table} WHERE view = ? AND entity_key = ?`),
      many: db.prepare<[string, string], StoredRow>(
        `SELECT entity_key, event_ts, vals FROM ${table} WHERE view = ? AND entity_key IN (SELECT value FROM json_each(?))`,
      ),
      count: db.prepare<[string], { n: number }>(`SELECT COUNT(*) AS n FROM ${table} WHERE view = ?`),
      delete: db.prepare<[string]>(`DELETE FROM ${table} WHERE view = ?`),
      ping: db.prepare('SELECT 1'),
    };
    this.writeTx = db.transaction((view: string, rows: PreparedRow[]) => {
      let written = 0;
      for (const row of rows) written += this.stmt.upsert.run({ view, ...row }).changes;
      return written;
    });
  }

  protected async writeRows(view: string, rows: PreparedRow[]): Promise<number> {
    let written = 0;
    for (let i = 0; i < rows.length; i += WRITE_CHUNK) {
      if (i > 0) await yieldToLoop();
      written += this.run(() => this.writeTx.immediate(view, rows.slice(i, i + WRITE_CHUNK)));
    }
    return written;
  }

  protected async readRows(view: string, keys: string[]): Promise<Map<string, OnlineFeatures>> {
    const rows = this.run(() => (keys.length === 1 ? this.stmt.one.all(view, keys[0]) : this.stmt.many.all(view, JSON.stringify(keys))));
    const out = new Map<string, OnlineFeatures>();
    for (const row of rows) out.set(row.entity_key, { eventTimestamp: row.event_ts, values: JSON.parse(row.vals) });
    return out;
  }

  protected async deleteRows(view: string): Promise<void> {
    this.run(() => this.stmt.delete.run(view));
  }

  protected async countRows(view: string): Promise<number> {
    return this.run(() => this.stmt.count.get(view)!.n);
  }

  protected async pingBackend(): Promise<void> {
    this.run(() => this.stmt.ping.get());
  }

  protected async closeBackend(): Promise<void> {
    if (this.db.open) this.db.close();
  }

  private run<T>(fn: () => T): T {
    try {
      return fn();
    } catch (cause) {
      throw new InfrastructureError(`SQLite online store ${this.file}: ${(cause as Error)?.message ?? String(cause)}`, { cause });
    }
  }
}
