import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describeEventStoreContract, testEvent } from '../contract/event-store.contract';
import { SqliteEventStore } from './sqlite-event-store';

const dir = mkdtempSync(join(tmpdir(), 'mlp-sqlite-es-'));
let n = 0;
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describeEventStoreContract('sqlite', async () => new SqliteEventStore(join(dir, `events-${n++}.db`), { pollIntervalMs: 20 }));

describe('sqlite event store file', () => {
  it('keeps events across reopen, and a second handle on the same file sees the first one`s appends', async () => {
    const file = join(dir, 'shared.db');
    const a = new SqliteEventStore(file, { pollIntervalMs: 20 });
    await a.appendToStream('file-1', [testEvent('One')]);
    const b = new SqliteEventStore(file, { pollIntervalMs: 20 });
    await b.appendToStream('file-1', [testEvent('Two')], { expectedRevision: 0 });
    await expect(a.appendToStream('file-1', [testEvent('Three')], { expectedRevision: 0 })).rejects.toThrow(/expected revision 0/);
    await a.close();
    await b.close();
    const reopened = new SqliteEventStore(file);
    expect((await reopened.readStream('file-1')).map((e) => e.type)).toEqual(['One', 'Two']);
    await reopened.close();
  });
});
