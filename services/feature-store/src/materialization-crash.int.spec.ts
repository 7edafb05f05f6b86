import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { envKey, serviceNames, type ServiceName } from '@mlp/contracts';
import { SqliteEventStore } from '@mlp/eventstore';
import { freePort, spawnTs, waitForHttp, type SpawnedProcess } from '@mlp/testing';

const VIEWS = `entities:
  - {name: customer, joinKeys: [customer_id]}
featureViews:
  - name: spend
    entity: customer
    source: {dataset: txns}
    timestamp: ts
    online: true
    features:
      - {name: amount_sum_7d, agg: sum, column: amount, window: 7d}
      - {name: amount_std_30d, agg: std, column: amount, window: 30d}
`;

/** kill -9 in the middle of a materialization leaves the previous one intact; running again completes. */
describe('materialization crash safety', () => {
  jest.setTimeout(180_000);
  let dir: string;
  let env: NodeJS.ProcessEnv;
  const ports = {} as Record<ServiceName, number>;
  let proc: SpawnedProcess | undefined;
  const url = (s: ServiceName, path: string) => `http://127.0.0.1:${ports[s]}${path}`;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'mlp-fs-crash-'));
    env = { MLP_HOME: dir, LOG_LEVEL: 'warn', MLP_AUTO_MATERIALIZE: 'off', EVENTSTORE_URL: '', ARTIFACTS_URL: '', MLP_TRANSPORT: '' };
    for (const s of serviceNames) {
      ports[s] = await freePort();
      env[`MLP_${envKey(s)}_PORT`] = String(ports[s]);
      env[`MLP_${envKey(s)}_RPC_PORT`] = String(await freePort());
    }
    mkdirSync(join(dir, 'inbox')); // file sources are read from <MLP_HOME>/inbox
    const duck = await (await DuckDBInstance.create(':memory:')).connect();
    await duck.run(`COPY (SELECT 't' || i AS txn_id, 'c' || (i % 20000) AS customer_id, (i % 997) * 1.5 AS amount,
      TIMESTAMP '2024-01-01' + INTERVAL (i * 3) SECOND AS ts FROM range(1200000) t(i)) TO '${join(dir, 'inbox', 'big.csv')}' (HEADER)`);
  });

  afterAll(async () => {
    await proc?.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  });

  const start = async () => {
    proc = spawnTs('tools/cli/src/main.ts', ['up', '--no-demo'], env);
    await waitForHttp(url('feature-store', '/health/ready'), { process: proc, timeoutMs: 60_000 });
    await waitForHttp(url('ingestion', '/health/ready'), { process: proc, timeoutMs: 60_000 });
  };
  const materialize = () => fetch(url('feature-store', '/feature-views/spend/materialize'), { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });

  it('keeps the previous materialization when killed mid-way, then completes on the next run', async () => {
    await start();
    await fetch(url('ingestion', '/datasets/txns/upload?format=csv'), { method: 'PUT', body: 'txn_id,customer_id,amount,ts\nt1,c1,10,2024-01-01 00:00:00\nt2,c2,5,2024-01-02 00:00:00\n' });
    expect((await fetch(url('feature-store', '/feature-views'), { method: 'PUT', headers: { 'content-type': 'text/yaml' }, body: VIEWS })).status).toBe(200);
    const first = (await (await materialize()).json()) as { materialization: { materializationId: string; offlineArtifactKey: string; rows: number } };
    expect(first.materialization.rows).toBe(2);

    const v2 = await fetch(url('ingestion', '/datasets/txns/ingestions'), {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ source: { kind: 'file', path: join(dir, 'inbox', 'big.csv') }, wait: true }),
    });
    expect(((await v2.json()) as { version: number }).version).toBe(2);
    void materialize().catch(() => undefined);
    await new Promise((r) => setTimeout(r, 700));
    await proc!.kill('SIGKILL');

    // The feature view still shows exactly the first materialization, and its Parquet is intact.
    const events = new SqliteEventStore(join(dir, 'events.db'));
    const materialized = (await events.readStream('featureview-spend')).filter((e) => e.type === 'FeatureViewMaterialized');
    expect(materialized.map((e) => (e.data as { materializationId: string }).materializationId)).toEqual([first.materialization.materializationId]);
    const key = first.materialization.offlineArtifactKey;
    expect(existsSync(join(dir, 'artifacts', 'objects', key))).toBe(true);

    await start();
    const second = (await (await materialize()).json()) as { created: boolean; materialization: { rows: number; datasetVersion: number } };
    expect(second).toMatchObject({ created: true, materialization: { rows: 1_200_000, datasetVersion: 2 } });
    expect((await events.readStream('featureview-spend')).filter((e) => e.type === 'FeatureViewMaterialized')).toHaveLength(2);
    await events.close();
  });
});
