import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { subjects, type IngestionOutcome, type OnlineFeaturesResponse, type TrainingSetResult } from '@mlp/contracts';
import { MlpClient } from '@mlp/messaging';
import type { StartedService } from '@mlp/service-kit';
import { eventually } from '@mlp/testing';
import { startIngestionAndFeatureStore, type InProcessPlatform } from './testing/in-process.fixture';

const TRANSACTIONS = [
  'txn_id,customer_id,amount,country,ts',
  't1,c1,10,US,2024-01-01 00:00:00',
  't2,c1,20,US,2024-01-03 00:00:00',
  't3,c2,5,DE,2024-01-02 00:00:00',
  't4,c1,30,US,2024-01-09 00:00:00',
  't5,c2,7,DE,2024-01-20 00:00:00',
].join('\n');

const VIEWS = `entities:
  - name: customer
    joinKeys: [customer_id]
featureViews:
  - name: customer_stats
    entity: customer
    source: {dataset: transactions}
    timestamp: ts
    ttl: 10d
    online: true
    features:
      - {name: amount_mean_7d, agg: mean, column: amount, window: 7d}
      - {name: txn_count_30d, agg: count, window: 30d}
      - {name: amount_log, expr: log1p, column: amount}
      - {name: country, column: country}
  - name: customer_totals
    entity: customer
    source: {dataset: transactions}
    timestamp: ts
    online: true
    features:
      - {name: amount_mean_7d, agg: mean, column: amount, window: 7d}
      - {name: txn_count_30d, agg: count, window: 30d}
`;

describe('feature store (in process, with ingestion)', () => {
  jest.setTimeout(90_000);
  let platform: InProcessPlatform;
  let services: StartedService[] = [];
  let store: InProcessPlatform['store'];
  let dir: string;
  let client: MlpClient;
  const url = (s: StartedService, path: string) => `${s.url}${path}`;

  beforeAll(async () => {
    platform = await startIngestionAndFeatureStore();
    ({ store, dir } = platform);
    services = [platform.ingestion, platform.featureStore];
    client = new MlpClient(platform.config);
  });

  afterAll(async () => {
    await client?.close();
    await platform?.close();
  });

  it('applies views against the source schema, naming bad fields', async () => {
    const [ingestion, fs] = services;
    const up = await fetch(url(ingestion, '/datasets/transactions/upload?format=csv'), { method: 'PUT', body: TRANSACTIONS });
    expect(((await up.json()) as IngestionOutcome).version).toBe(1);
    const bad = await fetch(url(fs, '/feature-views'), { method: 'PUT', headers: { 'content-type': 'text/yaml' }, body: VIEWS.replace('column: amount, window: 7d', 'column: country, window: 7d') });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { message: string }).message).toMatch(/customer_stats.*amount_mean_7d/);
    const ok = await fetch(url(fs, '/feature-views'), { method: 'PUT', headers: { 'content-type': 'text/yaml' }, body: VIEWS });
    expect(((await ok.json()) as { applied: { version: number; changed: boolean }[] }).applied).toEqual([
      expect.objectContaining({ name: 'customer_stats', version: 1, changed: true }),
      expect.objectContaining({ name: 'customer_totals', version: 1, changed: true }),
    ]);
    const again = await fetch(url(fs, '/feature-views'), { method: 'PUT', headers: { 'content-type': 'text/yaml' }, body: VIEWS });
    expect(((await again.json()) as { applied: { version: number; changed: boolean }[] }).applied[0]).toMatchObject({ version: 1, changed: false });
  });

  it('materializes point in time and serves the latest value per entity online', async () => {
    const [, fs] = services;
    const res = await fetch(url(fs, '/feature-views/customer_stats/materialize'), { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
    const { materialization, created } = (await res.json()) as { created: boolean; materialization: { rows: number; onlineRows: number; offlineArtifactKey: string } };
    expect(created).toBe(true);
    expect(materialization).toMatchObject({ rows: 5, onlineRows: 2 });
    // Idempotent: the same dataset version again changes nothing.
    const again = (await (await fetch(url(fs, '/feature-views/customer_stats/materialize'), { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' })).json()) as { created: boolean };
    expect(again.created).toBe(false);

    await fetch(url(fs, '/feature-views/customer_totals/materialize'), { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
    const online = await client.send<OnlineFeaturesResponse>(subjects.qry.featureStore.getOnlineFeatures, {
      features: ['customer_totals', 'customer_stats:country'],
      entities: { customer_id: ['c1', 'c2', 'nobody'] },
    });
    const [c1, c2, nobody] = online.results;
    // c1's latest row is 2024-01-09: the 7-day window (01-02, 01-09] holds 20 and 30 → mean 25; 30 days hold all 3.
    expect(c1.features['customer_totals:amount_mean_7d']).toEqual({ value: 25, eventTimestamp: '2024-01-09T00:00:00.000Z', status: 'present' });
    expect(c1.features['customer_totals:txn_count_30d'].value).toBe(3);
    expect(c2.features['customer_totals:amount_mean_7d']).toMatchObject({ value: 7, eventTimestamp: '2024-01-20T00:00:00.000Z' });
    // customer_stats has a 10-day TTL and its rows are from 2024: expired now, value withheld.
    expect(c2.features['customer_stats:country']).toEqual({ value: null, eventTimestamp: '2024-01-20T00:00:00.000Z', status: 'expired' });
    expect(nobody.features['customer_totals:amount_mean_7d']).toEqual({ value: null, eventTimestamp: null, status: 'missing' });
  });

  it('builds a leakage-free training set with TTL, recorded with its hashes', async () => {
    const [ingestion, fs] = services;
    const labels = ['customer_id,label_ts,churned', 'c1,2024-01-02 12:00:00,0', 'c1,2024-01-09 00:00:00,1', 'c2,2024-01-01 00:00:00,0', 'c2,2024-02-15 00:00:00,1'].join('\n');
    await fetch(url(ingestion, '/datasets/labels/upload?format=csv'), { method: 'PUT', body: labels });
    const res = await fetch(url(fs, '/training-sets'), {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ entities: { dataset: 'labels' }, timestampColumn: 'label_ts', features: ['customer_stats:amount_mean_7d', 'customer_stats:country'] }),
    });
    expect(res.status).toBe(201);
    const ts = (await res.json()) as TrainingSetResult;
    expect(ts.rows).toBe(4);
    const path = join(dir, 'ts.parquet');
    writeFileSync(path, await services[0].runtime.artifacts.getBuffer(ts.artifactKey));
    const duck = await (await DuckDBInstance.create(':memory:')).connect();
    const rows = (await duck.runAndReadAll(`SELECT customer_id, CAST(label_ts AS VARCHAR) t, customer_stats__amount_mean_7d m, customer_stats__country c FROM '${path}' ORDER BY customer_id, label_ts`)).getRowObjectsJson();
    expect(rows).toEqual([
      // 01-02 12:00: only t1 (01-01) is visible: mean 10. The 01-03 row is in the future and must not leak.
      { customer_id: 'c1', t: '2024-01-02 12:00:00', m: 10, c: 'US' },
      // exact tie at 01-09: the row at the same timestamp is visible → 25
      { customer_id: 'c1', t: '2024-01-09 00:00:00', m: 25, c: 'US' },
      // c2 has no history before 01-02
      { customer_id: 'c2', t: '2024-01-01 00:00:00', m: null, c: null },
      // c2's last row (01-20) is 26 days older than 02-15: beyond the 10-day TTL
      { customer_id: 'c2', t: '2024-02-15 00:00:00', m: null, c: null },
    ]);
    const events = await store.readStream(`trainingset-${ts.trainingSetId}`);
    expect(events[0]).toMatchObject({ type: 'TrainingSetBuilt', data: { sha256: ts.sha256, rows: 4 } });
    expect((events[0].data as { inputs: { ref: string }[] }).inputs.map((i) => i.ref)).toEqual([expect.stringMatching(/^dataset:labels@1$/), expect.stringMatching(/^featureview:customer_stats@1\//)]);
  });

  it('materializes automatically when the source gets a new accepted version, and reports lineage', async () => {
    const [ingestion, fs] = services;
    await fetch(url(ingestion, '/datasets/transactions/upload?format=csv'), { method: 'PUT', body: `${TRANSACTIONS}\nt6,c3,100,FR,2024-01-21 00:00:00` });
    const lineage = await eventually(async () => {
      const r = (await (await fetch(url(fs, '/feature-views/customer_stats/versions/1/lineage'))).json()) as { datasetVersions: { version: number }[]; materializations: unknown[] };
      return r.materializations.length === 2 && r;
    }, 20_000, 'the automatic materialization');
    expect(lineage.datasetVersions.map((d) => d.version)).toEqual([1, 2]);
  });

  it('materializes an append source incrementally, to the same bytes as a full recomputation', async () => {
    const [ingestion, fs] = services;
    const put = (body: string) => fetch(url(ingestion, '/datasets/clicks/upload?format=csv'), { method: 'PUT', body });
    const day = (d: number, h = 0) => `2024-03-${String(d).padStart(2, '0')} ${String(h).padStart(2, '0')}:00:00`;
    const v1 = ['user_id,clicks,ts', ...Array.from({ length: 40 }, (_, i) => `u${i % 4},${i},${day(1 + Math.floor(i / 4))}`)].join('\n');
    const v2 = ['user_id,clicks,ts', ...Array.from({ length: 12 }, (_, i) => `u${i % 4},${100 + i},${day(12 + Math.floor(i / 4), 6)}`)].join('\n');
    const views = (name: string) => `entities:
  - {name: user, joinKeys: [user_id]}
featureViews:
  - name: ${name}
    entity: user
    source: {dataset: clicks, mode: append}
    timestamp: ts
    online: true
    features:
      - {name: clicks_sum_3d, agg: sum, column: clicks, window: 3d}
      - {name: clicks_max_7d, agg: max, column: clicks, window: 7d}
`;
    await put(v1);
    await fetch(url(fs, '/feature-views'), { method: 'PUT', headers: { 'content-type': 'text/yaml' }, body: views('clicks_inc') });
    const first = (await (await fetch(url(fs, '/feature-views/clicks_inc/materialize'), { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' })).json()) as {
      materialization: { rows: number; computedRows: number };
    };
    expect(first.materialization).toMatchObject({ rows: 40, computedRows: 40 });
    await put(v2);
    const inc = await eventually(async () => {
      const state = (await (await fetch(url(fs, '/feature-views/clicks_inc'))).json()) as { materializations: { datasetVersions: number[]; rows: number; computedRows: number; offlineSha256: string }[] };
      return state.materializations.find((m) => m.datasetVersions.includes(2));
    }, 20_000, 'the incremental materialization');
    expect(inc).toMatchObject({ datasetVersions: [1, 2], rows: 52, computedRows: 12 });

    await fetch(url(fs, '/feature-views'), { method: 'PUT', headers: { 'content-type': 'text/yaml' }, body: views('clicks_full') });
    const full = (await (await fetch(url(fs, '/feature-views/clicks_full/materialize'), { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' })).json()) as {
      materialization: { rows: number; computedRows: number; offlineSha256: string };
    };
    expect(full.materialization).toMatchObject({ rows: 52, computedRows: 52 });
    expect(inc.offlineSha256).toBe(full.materialization.offlineSha256);
  });
});
