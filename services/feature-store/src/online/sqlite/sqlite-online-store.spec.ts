import Database from 'better-sqlite3';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describeOnlineStoreContract, onlineRow } from '../contract/online-store.contract';
import { SqliteOnlineStore } from './sqlite-online-store';

const dir = mkdtempSync(join(tmpdir(), 'mlp-sqlite-online-'));
let n = 0;
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describeOnlineStoreContract('sqlite', async () => new SqliteOnlineStore(join(dir, `online-${n++}.db`)), {
  sibling: async (store) => new SqliteOnlineStore((store as SqliteOnlineStore).file),
});

describe('sqlite online store file', () => {
  it('keeps rows across reopen, in WAL mode, one row per (view, entity) with values as JSON', async () => {
    const file = join(dir, 'layout.db');
    const store = new SqliteOnlineStore(file);
    await store.write('credit', [onlineRow('c1', '2024-01-01T00:00:00Z', { b: 2, a: 1.5 }, 'mat-9')]);
    await store.write('credit', [onlineRow('c1', '2024-01-02T00:00:00Z', { b: 3, a: 1.5 }, 'mat-10')]);
    await store.close();

    const db = new Database(file, { readonly: true });
    expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(db.prepare('SELECT view, entity_key, event_ts, vals, materialization_id FROM online_features').all()).toEqual([
      { view: 'credit', entity_key: 'c1', event_ts: '2024-01-02T00:00:00Z', vals: '{"a":1.5,"b":3}', materialization_id: 'mat-10' },
    ]);
    db.close();

    const reopened = new SqliteOnlineStore(file);
    expect((await reopened.read('credit', ['c1'], ['b'])).get('c1')).toEqual({ eventTimestamp: '2024-01-02T00:00:00Z', values: { b: 3 } });
    await reopened.close();
  });

  it('keeps stores with different table names in one file apart', async () => {
    const file = join(dir, 'tables.db');
    const a = new SqliteOnlineStore(file, { table: 'online_a' });
    const b = new SqliteOnlineStore(file, { table: 'online_b' });
    await a.write('v', [onlineRow('e1', '2024-01-01T00:00:00Z', { x: 1 })]);
    expect(await b.count('v')).toBe(0);
    expect(await a.count('v')).toBe(1);
    await a.close();
    await b.close();
    expect(() => new SqliteOnlineStore(file, { table: 'x; DROP TABLE y' })).toThrow(/table name/);
  });
});
