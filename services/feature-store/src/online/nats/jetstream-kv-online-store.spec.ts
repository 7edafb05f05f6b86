import { connect, type NatsConnection } from 'nats';
import { InfrastructureError } from '@mlp/contracts';
import { startNatsServer, type NatsServerHandle } from '@mlp/testing';
import { describeOnlineStoreContract, onlineRow } from '../contract/online-store.contract';
import { JetStreamKvOnlineStore, onlineBucketName, onlineKvKey } from './jetstream-kv-online-store';

let server: NatsServerHandle;
let admin: NatsConnection;
beforeAll(async () => {
  server = await startNatsServer();
  admin = await connect({ servers: server.url });
});
afterAll(async () => {
  await admin?.close();
  await server?.stop();
});

/** A fresh store per test: drop every online bucket first. */
async function freshStore(): Promise<JetStreamKvOnlineStore> {
  const jsm = await admin.jetstreamManager();
  const names = await jsm.streams.names().next();
  await Promise.all(names.filter((n) => n.startsWith('KV_MLP_ONLINE_')).map((n) => jsm.streams.delete(n)));
  return JetStreamKvOnlineStore.connect({ servers: server.url });
}

describeOnlineStoreContract('nats-jetstream-kv', freshStore, {
  timeoutMs: 60_000,
  sibling: async () => JetStreamKvOnlineStore.connect({ servers: server.url }),
});

describe('JetStream KV online store', () => {
  /** Every handle a test opens, closed even when an assertion fails (a leaked connection keeps jest alive). */
  const opened: JetStreamKvOnlineStore[] = [];
  async function track(store: Promise<JetStreamKvOnlineStore>): Promise<JetStreamKvOnlineStore> {
    const s = await store;
    opened.push(s);
    return s;
  }
  afterEach(async () => {
    await Promise.all(opened.splice(0).map((s) => s.close()));
  });

  it('names buckets MLP_ONLINE_<VIEW>, with a digest when the view name has upper-case letters', () => {
    expect(onlineBucketName('credit_features')).toBe('MLP_ONLINE_CREDIT_FEATURES');
    expect(onlineBucketName('credit-features')).toBe('MLP_ONLINE_CREDIT-FEATURES');
    expect(onlineBucketName('Credit')).toMatch(/^MLP_ONLINE_CREDIT_[0-9A-F]{10}$/);
    expect(onlineBucketName('Credit')).not.toBe(onlineBucketName('CREDIT'));
  });

  it('encodes entity keys as base64url KV keys', () => {
    expect(onlineKvKey('a|b')).toBe(Buffer.from('a|b').toString('base64url'));
    expect(onlineKvKey('')).toBe('=');
    for (const key of ['a.b', 'x y/é=', '😀']) expect(onlineKvKey(key)).toMatch(/^[A-Za-z0-9_-]+$/);
  });

  it('stores one KV entry per entity, value {ts, values, materializationId}, history 1', async () => {
    const store = await track(freshStore());
    await store.write('credit_features', [onlineRow('c/1', '2024-01-01T00:00:00Z', { amount: 12.5, ok: true }, 'mat-1')]);
    await store.write('credit_features', [onlineRow('c/1', '2024-01-02T00:00:00Z', { amount: 13, ok: false }, 'mat-2')]);
    const kv = await admin.jetstream().views.kv('MLP_ONLINE_CREDIT_FEATURES', { bindOnly: true });
    const entry = await kv.get(Buffer.from('c/1').toString('base64url'));
    expect(entry?.json()).toEqual({ ts: '2024-01-02T00:00:00Z', values: { amount: 13, ok: false }, materializationId: 'mat-2' });
    const status = await kv.status();
    expect(status.history).toBe(1);
    expect(status.values).toBe(1);
  });

  it('converges on the newest row when four connections write one entity in different orders', async () => {
    const handles = [await track(freshStore())];
    for (let i = 0; i < 3; i++) handles.push(await track(JetStreamKvOnlineStore.connect({ servers: server.url, writeConcurrency: 1 + i })));
    const rows = Array.from({ length: 40 }, (_, i) => onlineRow('hot', new Date(Date.UTC(2024, 0, 1, 0, 0, i)).toISOString(), { i }));
    const orders = [rows, [...rows].reverse(), rows.filter((_, i) => i % 2 === 0).concat(rows.filter((_, i) => i % 2 === 1)), rows.slice(20).concat(rows.slice(0, 20))];
    const results = await Promise.all(handles.flatMap((h, n) => orders[n].map((r) => h.write('cas', [r]))));
    expect((await handles[0].read('cas', ['hot'], null)).get('hot')?.values).toEqual({ i: 39 });
    // Every write that reported `written` replaced an older row: at most one per distinct timestamp.
    expect(results.reduce((sum, r) => sum + r.written, 0)).toBeLessThanOrEqual(rows.length);
  });

  it('renews a cached bucket handle after a deletion it was not told about (request timeout, then a fresh handle)', async () => {
    const store = await track(freshStore());
    const blind = await track(JetStreamKvOnlineStore.connect({ servers: server.url, watchDeletions: false, requestTimeoutMs: 300 }));
    await store.write('blind', [onlineRow('e1', '2024-01-02T00:00:00Z', { v: 2 })]);
    expect((await blind.read('blind', ['e1'], null)).get('e1')?.values).toEqual({ v: 2 }); // caches the handle
    await store.deleteView('blind');
    expect((await blind.read('blind', ['e1'], null)).get('e1')).toBeNull();
    await store.write('blind', [onlineRow('e1', '2024-01-03T00:00:00Z', { v: 3 })]);
    expect((await blind.read('blind', ['e1'], null)).get('e1')?.values).toEqual({ v: 3 });
    await store.deleteView('blind');
    // The write path reads first too: an older row than the deleted one is accepted into the new bucket.
    expect(await blind.write('blind', [onlineRow('e1', '2024-01-01T00:00:00Z', { v: 1 })])).toEqual({ written: 1, skipped: 0 });
    expect(await store.count('blind')).toBe(1);
  });

  it('reports an unreachable server as an infrastructure error', async () => {
    await expect(JetStreamKvOnlineStore.connect({ servers: 'nats://127.0.0.1:1' })).rejects.toThrow(InfrastructureError);
  });
});
