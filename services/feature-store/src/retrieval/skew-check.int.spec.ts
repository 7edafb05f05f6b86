import type { IngestionOutcome, SkewReport } from '@mlp/contracts';
import type { StartedService } from '@mlp/service-kit';
import { startIngestionAndFeatureStore, type InProcessPlatform } from '../testing/in-process.fixture';
import { ONLINE_STORE } from '../online/online-store.token';
import type { OnlineStore } from '../online';
import { isNumericType, valuesMatch } from './skew-check.service';

describe('valuesMatch', () => {
  it('compares numbers with a relative tolerance and everything else exactly', () => {
    expect(valuesMatch(25, 25, true, 1e-9)).toBe(true);
    expect(valuesMatch(25 * (1 + 1e-12), 25, true, 1e-9)).toBe(true);
    expect(valuesMatch(25 * (1 + 1e-6), 25, true, 1e-9)).toBe(false);
    expect(valuesMatch(0, 1e-300, true, 1e-9)).toBe(false);
    // DuckDB renders BIGINT as text; the online store holds the number.
    expect(valuesMatch(3, '3', true, 0)).toBe(true);
    expect(valuesMatch('3', 3, false, 1e-9)).toBe(false);
    expect(valuesMatch('US', 'US', false, 1e-9)).toBe(true);
    expect(valuesMatch('US', 'DE', false, 1e-9)).toBe(false);
    expect(valuesMatch(null, null, true, 1e-9)).toBe(true);
    expect(valuesMatch(null, 1, true, 1e-9)).toBe(false);
    expect(valuesMatch(1, null, true, 1e-9)).toBe(false);
    expect(valuesMatch(undefined, null, false, 1e-9)).toBe(true);
    // The online store cannot hold NaN/Infinity and keeps null instead.
    expect(valuesMatch(null, 'NaN', true, 1e-9)).toBe(true);
    expect(valuesMatch(1, 'Infinity', true, 1e-9)).toBe(false);
  });

  it('knows the numeric DuckDB types', () => {
    expect(['BIGINT', 'DOUBLE', 'INTEGER', 'DECIMAL(18,3)', 'HUGEINT'].map(isNumericType)).toEqual([true, true, true, true, true]);
    expect(['VARCHAR', 'TIMESTAMP', 'BOOLEAN', 'DATE'].map(isNumericType)).toEqual([false, false, false, false]);
  });
});

const TRANSACTIONS = [
  'txn_id,customer_id,amount,country,ts',
  't1,c1,10,US,2024-01-01 00:00:00',
  't2,c1,20,US,2024-01-03 00:00:00',
  't3,c2,5,DE,2024-01-02 00:00:00',
  't4,c1,30,US,2024-01-09 00:00:00',
  't5,c2,7,DE,2024-01-20 00:00:00',
  't6,c3,100,FR,2024-01-21 00:00:00',
].join('\n');

const VIEWS = `entities:
  - name: customer
    joinKeys: [customer_id]
featureViews:
  - name: customer_stats
    entity: customer
    source: {dataset: transactions}
    timestamp: ts
    online: true
    features:
      - {name: amount_mean_7d, agg: mean, column: amount, window: 7d}
      - {name: txn_count_30d, agg: count, window: 30d}
      - {name: amount_log, expr: log1p, column: amount}
      - {name: country, column: country}
  - name: offline_only
    entity: customer
    source: {dataset: transactions}
    timestamp: ts
    features:
      - {name: amount_log, expr: log1p, column: amount}
`;

describe('skew check (in process, with ingestion)', () => {
  jest.setTimeout(90_000);
  let platform: InProcessPlatform;
  let services: StartedService[] = [];
  let online: OnlineStore;

  const post = async <T = Record<string, unknown>>(path: string, body: unknown) => {
    const res = await fetch(`${services[1].url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    return { status: res.status, body: (await res.json()) as T };
  };
  const check = async (body: unknown = {}) => {
    const r = await post<SkewReport>('/feature-views/customer_stats/check-skew', body);
    expect(r.status).toBe(200);
    return r.body;
  };

  beforeAll(async () => {
    platform = await startIngestionAndFeatureStore({ MLP_AUTO_MATERIALIZE: 'off' });
    services = [platform.ingestion, platform.featureStore];
    online = services[1].app.get<OnlineStore>(ONLINE_STORE);
    const up = await fetch(`${services[0].url}/datasets/transactions/upload?format=csv`, { method: 'PUT', body: TRANSACTIONS });
    expect(((await up.json()) as IngestionOutcome).status).toBe('accepted');
    const applied = await fetch(`${services[1].url}/feature-views`, { method: 'PUT', headers: { 'content-type': 'text/yaml' }, body: VIEWS });
    expect(applied.status).toBe(200);
  });

  afterAll(async () => {
    await platform?.close();
  });

  it('refuses a view that is not materialized yet, or not served online', async () => {
    const before = await post('/feature-views/customer_stats/check-skew', {});
    expect(before.status).toBe(404);
    expect(before.body).toMatchObject({ code: 'NOT_MATERIALIZED' });
    const offline = await post('/feature-views/offline_only/check-skew', {});
    expect(offline.status).toBe(404);
    expect(offline.body).toMatchObject({ code: 'VIEW_NOT_ONLINE' });
    const bad = await post('/feature-views/customer_stats/check-skew', { sample: 0 });
    expect(bad.status).toBe(400);
  });

  it('finds no skew right after a materialization', async () => {
    const m = await post('/feature-views/customer_stats/materialize', {});
    expect(m.body).toMatchObject({ created: true, materialization: { rows: 6, onlineRows: 3 } });
    const report = await check();
    expect(report).toEqual({
      view: 'customer_stats',
      version: 1,
      materializationId: (m.body.materialization as { materializationId: string }).materializationId,
      sampled: 3,
      tolerance: 1e-9,
      mismatches: [],
      missing: [],
      ok: true,
    });
  });

  it('samples the first N entities by sorted key', async () => {
    const report = await check({ sample: 2 });
    expect(report.sampled).toBe(2);
    // Plant a wrong value for c3, which sorts last: a sample of two does not see it.
    const key = online.entityKey(['customer_id'], { customer_id: 'c3' });
    const row = (await online.read('customer_stats', [key], null)).get(key)!;
    await online.write('customer_stats', [{ entityKey: key, eventTimestamp: row.eventTimestamp, values: { ...(row.values as Record<string, number>), txn_count_30d: 2 }, materializationId: 'planted-c3' }]);
    expect((await check({ sample: 2 })).ok).toBe(true);
    expect((await check()).mismatches).toEqual([{ entity: { customer_id: 'c3' }, feature: 'txn_count_30d', online: 2, offline: 1, eventTimestamp: row.eventTimestamp }]);
    // Put c3 back.
    await online.write('customer_stats', [{ entityKey: key, eventTimestamp: row.eventTimestamp, values: row.values as Record<string, number>, materializationId: 'restored-c3' }]);
    expect((await check()).ok).toBe(true);
  });

  it('reports exactly the value planted in the online store, within the tolerance', async () => {
    const key = online.entityKey(['customer_id'], { customer_id: 'c1' });
    const row = (await online.read('customer_stats', [key], null)).get(key)!;
    // c1's latest row is 2024-01-09: the 7-day window (01-02, 01-09] holds 20 and 30 → mean 25.
    expect(row).toEqual({ eventTimestamp: '2024-01-09T00:00:00.000Z', values: { amount_mean_7d: 25, txn_count_30d: 3, amount_log: Math.log1p(30), country: 'US' } });

    await online.write('customer_stats', [{ entityKey: key, eventTimestamp: row.eventTimestamp, values: { ...row.values, amount_mean_7d: 25 * (1 + 1e-12) } as Record<string, number>, materializationId: 'planted-1' }]);
    expect((await check()).ok).toBe(true);

    await online.write('customer_stats', [{ entityKey: key, eventTimestamp: row.eventTimestamp, values: { ...row.values, amount_mean_7d: 26 } as Record<string, number>, materializationId: 'planted-2' }]);
    const report = await check();
    expect(report.ok).toBe(false);
    expect(report.sampled).toBe(3);
    expect(report.missing).toEqual([]);
    expect(report.mismatches).toEqual([{ entity: { customer_id: 'c1' }, feature: 'amount_mean_7d', online: 26, offline: 25, eventTimestamp: '2024-01-09T00:00:00.000Z' }]);
    // A looser tolerance accepts it (|26 - 25| / 26 ≈ 0.038).
    expect((await check({ tolerance: 0.05 })).ok).toBe(true);
  });

  it('reports an online row whose event time has no offline row, and entities missing online', async () => {
    const key = online.entityKey(['customer_id'], { customer_id: 'c2' });
    const row = (await online.read('customer_stats', [key], null)).get(key)!;
    await online.write('customer_stats', [{ entityKey: key, eventTimestamp: '2024-01-25T00:00:00Z', values: row.values as Record<string, number>, materializationId: 'planted-3' }]);
    const report = await check();
    expect(report.missing).toEqual([
      { entity: { customer_id: 'c2' }, reason: 'offline_missing', onlineEventTimestamp: '2024-01-25T00:00:00Z', offlineEventTimestamp: '2024-01-20T00:00:00.000Z' },
    ]);

    await online.deleteView('customer_stats');
    const empty = await check();
    expect(empty.ok).toBe(false);
    expect(empty.mismatches).toEqual([]);
    expect(empty.missing.map((m) => [m.entity.customer_id, m.reason, m.offlineEventTimestamp])).toEqual([
      ['c1', 'online_missing', '2024-01-09T00:00:00.000Z'],
      ['c2', 'online_missing', '2024-01-20T00:00:00.000Z'],
      ['c3', 'online_missing', '2024-01-21T00:00:00.000Z'],
    ]);
  });
});
