import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ValidationError } from '@mlp/contracts';
import { startNatsServer } from '@mlp/testing';
import { createOnlineStore, onlineStoreSchemes } from './create-online-store';

describe('createOnlineStore', () => {
  it('maps memory:// and sqlite:// to their adapters', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'mlp-online-factory-'));
    const memory = await createOnlineStore('memory://');
    expect(memory.kind).toBe('memory');
    const sqlite = await createOnlineStore(`sqlite://${join(dir, 'online.db')}`);
    expect(sqlite.kind).toBe('sqlite');
    await sqlite.write('v', [{ entityKey: 'e', eventTimestamp: '2024-01-01T00:00:00Z', values: { a: 1 }, materializationId: 'm' }]);
    expect(await sqlite.count('v')).toBe(1);
    await memory.close();
    await sqlite.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('maps nats:// to the JetStream KV adapter', async () => {
    const server = await startNatsServer();
    try {
      const store = await createOnlineStore(`${server.url}?replicas=1&readConcurrency=8`);
      expect(store.kind).toBe('nats-jetstream-kv');
      await store.ping();
      await store.close();
    } finally {
      await server.stop();
    }
  });

  it('rejects an unknown scheme with the list of known ones', async () => {
    const err = await createOnlineStore('redis://localhost:6379').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ValidationError);
    expect((err as Error).message).toContain("unknown online store scheme 'redis'");
    for (const scheme of ['memory', 'sqlite', 'nats']) expect((err as Error).message).toContain(scheme);
    expect(onlineStoreSchemes).toEqual(['memory', 'sqlite', 'nats']);
  });

  it('rejects a value that is not a URL, and bad options', async () => {
    await expect(createOnlineStore('online.db')).rejects.toThrow(/not a URL/);
    await expect(createOnlineStore('nats://127.0.0.1:4222?replicas=zero')).rejects.toThrow(ValidationError);
  });
});
