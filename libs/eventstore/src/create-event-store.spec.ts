import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ValidationError } from '@mlp/contracts';
import { createEventStore, eventStoreSchemes } from './create-event-store';

describe('createEventStore', () => {
  it('maps schemes to adapters', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'mlp-factory-'));
    const memory = await createEventStore('memory://');
    expect(memory.kind).toBe('memory');
    const sqlite = await createEventStore(`sqlite://${join(dir, 'e.db')}`);
    expect(sqlite.kind).toBe('sqlite');
    await memory.close();
    await sqlite.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('rejects an unknown scheme with the list of known ones', async () => {
    const err = await createEventStore('postgres://x').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ValidationError);
    expect((err as Error).message).toContain("unknown event store scheme 'postgres'");
    for (const scheme of ['memory', 'sqlite', 'nats', 'esdb']) expect((err as Error).message).toContain(scheme);
    expect(eventStoreSchemes).toEqual(expect.arrayContaining(['memory', 'sqlite', 'nats', 'esdb']));
  });

  it('rejects a value that is not a URL', async () => {
    await expect(createEventStore('events.db')).rejects.toThrow(/not a URL/);
  });
});
