import type { IngestionOutcome } from '@mlp/contracts';
import type { ArtifactStore } from '@mlp/artifacts';
import { ARTIFACT_STORE } from '@mlp/service-kit';
import { startIngestionAndFeatureStore, type InProcessPlatform } from '../testing/in-process.fixture';
import { ONLINE_STORE } from '../online/online-store.token';
import type { OnlineStore } from '../online';

/** c1's latest amount is NaN, c2's is +Infinity, c3's is -Infinity; c4 is finite. */
const CSV = [
  'txn_id,customer_id,amount,ts',
  't1,c1,10,2024-01-01 00:00:00',
  't2,c1,NaN,2024-01-03 00:00:00',
  't3,c2,5,2024-01-02 00:00:00',
  't4,c2,inf,2024-01-04 00:00:00',
  't5,c3,-Infinity,2024-01-05 00:00:00',
  't6,c4,1e308,2024-01-05 00:00:00',
  't7,c4,7.5,2024-01-06 00:00:00',
].join('\n');

const SCHEMA = `dataset: txns
columns:
  txn_id: {type: string, required: true, unique: true}
  customer_id: {type: string, required: true}
  amount: {type: float, allowNonFinite: true}
  ts: {type: datetime, required: true}
`;

const VIEWS = `entities:
  - name: customer
    joinKeys: [customer_id]
featureViews:
  - name: spend
    entity: customer
    source: {dataset: txns}
    timestamp: ts
    online: true
    features:
      - {name: amount, column: amount}
      - {name: amount_sum_7d, agg: sum, column: amount, window: 7d}
      - {name: txn_count_7d, agg: count, window: 7d}
`;

describe('materializing a source with NaN and ±Infinity (in process, with ingestion)', () => {
  jest.setTimeout(90_000);
  let platform: InProcessPlatform;

  beforeAll(async () => {
    platform = await startIngestionAndFeatureStore({ MLP_AUTO_MATERIALIZE: 'off' });
    const ingestion = platform.ingestion.url;
    const schema = await fetch(`${ingestion}/datasets/txns/schema`, { method: 'PUT', headers: { 'content-type': 'text/yaml' }, body: SCHEMA });
    expect(schema.status).toBeLessThan(300);
    const up = (await (await fetch(`${ingestion}/datasets/txns/upload?format=csv`, { method: 'PUT', body: CSV })).json()) as IngestionOutcome;
    expect(up.status).toBe('accepted');
    const applied = await fetch(`${platform.featureStore.url}/feature-views`, { method: 'PUT', headers: { 'content-type': 'text/yaml' }, body: VIEWS });
    expect(applied.status).toBe(200);
  });

  afterAll(async () => {
    await platform?.close();
  });

  it('computes finite statistics, stores non-finite online values as null, and records how many there were', async () => {
    const res = await fetch(`${platform.featureStore.url}/feature-views/spend/materialize`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
    const body = (await res.json()) as { materialization: Record<string, unknown> };
    expect(res.status).toBe(200);
    const m = body.materialization;
    expect(m).toMatchObject({ rows: 7, onlineRows: 4 });
    // Latest rows: c1 amount NaN (sum NaN), c2 +inf (sum +inf), c3 -inf (sum -inf), c4 7.5 (sum 1e308 + 7.5, finite).
    expect(m.onlineNonFinite).toEqual({ amount: 3, amount_sum_7d: 3 });

    const online = platform.featureStore.app.get<OnlineStore>(ONLINE_STORE);
    const keys = ['c1', 'c2', 'c3', 'c4'].map((c) => online.entityKey(['customer_id'], { customer_id: c }));
    const read = await online.read('spend', keys, null);
    const values = keys.map((k) => read.get(k)?.values);
    expect(values.map((v) => v?.amount)).toEqual([null, null, null, 7.5]);
    expect(values.map((v) => v?.amount_sum_7d)).toEqual([null, null, null, 1e308 + 7.5]);
    expect(values.map((v) => v?.txn_count_7d)).toEqual([2, 2, 1, 2]);

    // The drift baseline: every figure is a finite number, NaN/±Infinity are left out and counted.
    const artifacts = platform.featureStore.app.get<ArtifactStore>(ARTIFACT_STORE);
    const stats = JSON.parse((await artifacts.getBuffer(m.statsArtifactKey as string)).toString('utf8')) as { columns: Record<string, unknown>[] };
    const amount = stats.columns.find((c) => c.name === 'amount')!;
    expect(amount).toMatchObject({ min: 5, max: 1e308 });
    for (const c of stats.columns) {
      for (const key of ['min', 'max', 'mean', 'std'] as const) if (key in c && typeof c[key] === 'number') expect(Number.isFinite(c[key])).toBe(true);
    }
    expect(JSON.stringify(stats)).not.toMatch(/NaN|Infinity/);
  });
});
