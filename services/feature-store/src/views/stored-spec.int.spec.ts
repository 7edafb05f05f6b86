import { createHash } from 'node:crypto';
import { streams, toNewEvent, type EventInput } from '@mlp/contracts';
import { startIngestionAndFeatureStore, type InProcessPlatform } from '../testing/in-process.fixture';

/**
 * A feature view whose stored definition no longer passes the feature view
 * schema (here: a window that is not a duration) is refused with a clear
 * error wherever it is read back, never used as it is.
 */
describe('feature views read back from the event store (in-process)', () => {
  jest.setTimeout(90_000);
  let platform: InProcessPlatform;
  let url: string;

  const definition = (window: string): EventInput<'FeatureViewDefined'> => {
    const spec = {
      name: 'broken',
      entity: 'customer',
      source: { dataset: 'transactions' },
      timestamp: 'ts',
      online: true,
      features: [
        { kind: 'passthrough', name: 'amount', column: 'amount' },
        { kind: 'aggregation', name: 'amount_sum', agg: 'sum', column: 'amount', window, windowSeconds: 604_800 },
      ],
    };
    return {
      name: 'broken',
      version: 1,
      entity: { name: 'customer', joinKeys: ['customer_id'] },
      timestampColumn: 'ts',
      source: { dataset: 'transactions' },
      spec,
      specHash: createHash('sha256').update(JSON.stringify(spec)).digest('hex'),
      ttlSeconds: null,
      online: true,
    };
  };

  beforeAll(async () => {
    platform = await startIngestionAndFeatureStore({ MLP_AUTO_MATERIALIZE: 'off' });
    url = platform.featureStore.url;
    const meta = { now: new Date().toISOString(), correlationId: 'c', causationId: null, actor: 'test' };
    await platform.store.appendToStream(streams.featureView('broken'), [toNewEvent({ type: 'FeatureViewDefined', data: definition('seven days') }, meta, { codeVersion: 'test' })]);
    for (let i = 0; i < 100 && (await fetch(`${url}/feature-views/broken`)).status !== 200; i++) await new Promise((r) => setTimeout(r, 100));
  });

  afterAll(async () => platform?.close());

  const post = async (path: string, body: unknown) => {
    const res = await fetch(`${url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    return { status: res.status, body: (await res.json()) as { code?: string; message?: string; details?: { path: string }[] } };
  };

  it('refuses online lookups of the view with STORED_DATA_INVALID, naming the bad field', async () => {
    const r = await post('/features/online', { features: ['broken'], entities: { customer_id: ['C001'] } });
    expect(r.status).toBe(503);
    expect(r.body.code).toBe('STORED_DATA_INVALID');
    expect(r.body.message).toMatch(/^stored definition of feature view 'broken' v1 is invalid: features\.1\.window: /);
    expect(r.body.details?.map((d) => d.path)).toEqual(['features.1.window']);
  });

  it('refuses to materialize it; the list of views says so too', async () => {
    const m = await post('/feature-views/broken/materialize', {});
    expect(m.status).toBe(503);
    expect(m.body.code).toBe('STORED_DATA_INVALID');
    const list = await fetch(`${url}/feature-views`);
    expect(list.status).toBe(503);
  });
});
