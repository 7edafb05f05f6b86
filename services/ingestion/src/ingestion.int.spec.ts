import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { DuckDBInstance } from '@duckdb/node-api';
import { Client } from 'pg';
import { FsArtifactStore } from '@mlp/artifacts';
import { envKey, serviceNames, subjects, type IngestionOutcome } from '@mlp/contracts';
import { SqliteEventStore } from '@mlp/eventstore';
import { MlpClient } from '@mlp/messaging';
import { baseConfigSchema, loadConfig, startService, type StartedService } from '@mlp/service-kit';
import { freePort } from '@mlp/testing';
import { ingestionService } from './index';

const SCHEMA = `dataset: transactions
primaryKey: [txn_id]
columns:
  txn_id:   {type: string, required: true, unique: true}
  amount:   {type: float, min: 0, max: 100000}
  country:  {type: category, values: [US, DE, FR]}
  ts:       {type: datetime, required: true}
  email:    {type: string, pattern: '^[^@]+@[^@]+$', nullable: true}
  qty:      {type: int}
checks:
  minRows: 3
  maxQuarantinedFraction: 0.9
`;

// One row per quarantine reason, each explained in the trailing comment of the test below.
const CSV = [
  'txn_id,amount,country,ts,email,qty',
  't1,10.5,US,2024-01-01 10:00:00,a@b.c,1', // 1 ok
  't2,abc,DE,2024-01-02,x@y.z,2', // 2 wrong_type (amount)
  't3,5,FR', // 3 ragged_row (too few)
  't4,7,US,2024-01-03,q@w.e,4,extra', // 4 ragged_row (too many)
  't5,-3,US,2024-01-04,bad,5', // 5 out_of_range + pattern_mismatch
  't6,8,XX,notadate,,6', // 6 unknown_category + unparseable_date
  't1,9,US,2024-01-05,,7', // 7 duplicate_key
  ',1,US,2024-01-06,,8', // 8 missing_required (txn_id)
  't9,100001,FR,2024-01-07T10:00:00Z,,9', // 9 out_of_range
  't10,3,DE,2024-01-08,,1.5', // 10 wrong_type (qty)
  't11,4,FR,2024-01-09,,11', // 11 ok
  't12,4.5,DE,2024-01-10 08:30:00,z@z.z,', // 12 ok
].join('\n');

describe('ingestion service (in process, SQLite events, files)', () => {
  jest.setTimeout(60_000);
  let dir: string;
  let service: StartedService;
  let store: SqliteEventStore;
  let artifacts: FsArtifactStore;
  let client: MlpClient;
  let env: NodeJS.ProcessEnv;
  let savedConnections: string | undefined;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'mlp-ingestion-'));
    env = { MLP_HOME: dir, LOG_LEVEL: 'silent' };
    // Ingestion reads its own settings from process.env: the named PostgreSQL connection of the watermark test.
    savedConnections = process.env.MLP_PG_CONNECTIONS;
    process.env.MLP_PG_CONNECTIONS = 'warehouse=postgres://postgres@127.0.0.1:5432/test';
    for (const s of serviceNames) {
      env[`MLP_${envKey(s)}_PORT`] = String(await freePort());
      env[`MLP_${envKey(s)}_RPC_PORT`] = String(await freePort());
    }
    const config = loadConfig(baseConfigSchema, env);
    store = new SqliteEventStore(join(dir, 'events.db'), { pollIntervalMs: 20 });
    artifacts = new FsArtifactStore({ root: join(dir, 'artifacts') });
    service = await startService(ingestionService, { runtime: { eventStore: store, artifacts, config }, env });
    client = new MlpClient(config);
  });

  afterAll(async () => {
    await client?.close();
    await service?.close();
    await store?.close();
    rmSync(dir, { recursive: true, force: true });
    if (savedConnections === undefined) delete process.env.MLP_PG_CONNECTIONS;
    else process.env.MLP_PG_CONNECTIONS = savedConnections;
  });

  const http = (path: string, init?: RequestInit) => fetch(`${service.url}${path}`, init);
  const upload = async (dataset: string, body: string, query = 'format=csv') => {
    const res = await http(`/datasets/${dataset}/upload?${query}`, { method: 'PUT', body, headers: { 'content-type': 'application/octet-stream' } });
    return { status: res.status, outcome: (await res.json()) as IngestionOutcome };
  };

  it('rejects a bad schema YAML naming the line and the field', async () => {
    const res = await http('/datasets/transactions/schema', {
      method: 'PUT',
      headers: { 'content-type': 'text/yaml' },
      body: 'dataset: transactions\ncolumns:\n  amount: {type: float, min: ten}\n',
    });
    expect(res.status).toBe(400);
    const body = (await res.json()) as { message: string; details: { path: string; message: string }[] };
    expect(body.message).toMatch(/:3:\d+ columns\.amount\.min/);
    expect(body.details.map((d) => d.path)).toContain('columns.amount.min');
  });

  it('quarantines each bad row with every reason, keeps the rest typed, and reconciles counts', async () => {
    expect((await http('/datasets/transactions/schema', { method: 'PUT', headers: { 'content-type': 'text/yaml' }, body: SCHEMA })).status).toBe(200);
    const { status, outcome } = await upload('transactions', CSV);
    expect(status).toBe(201);
    expect(outcome).toMatchObject({ status: 'accepted', version: 1, rows: 12, accepted: 3, quarantined: 9 });
    expect(outcome.accepted + outcome.quarantined).toBe(outcome.rows);
    expect(outcome.reasons).toEqual({
      duplicate_key: 1,
      missing_required: 1,
      out_of_range: 2,
      pattern_mismatch: 1,
      ragged_row: 2,
      unknown_category: 1,
      unparseable_date: 1,
      wrong_type: 2,
    });

    const ndjson = await (await http('/datasets/transactions/versions/1/quarantine?format=ndjson')).text();
    const rows = ndjson.trim().split('\n').map((l) => JSON.parse(l) as { row: number; raw: string; reasons: { code: string; column: string | null }[] });
    const byRow = Object.fromEntries(rows.map((r) => [Number(r.row), r.reasons.map((x) => `${x.code}:${x.column ?? ''}`).sort()]));
    expect(byRow).toEqual({
      2: ['wrong_type:amount'],
      3: expect.arrayContaining([expect.stringMatching(/^ragged_row:/)]),
      4: expect.arrayContaining([expect.stringMatching(/^ragged_row:/)]),
      5: ['out_of_range:amount', 'pattern_mismatch:email'],
      6: ['unknown_category:country', 'unparseable_date:ts'],
      7: ['duplicate_key:txn_id'],
      8: ['missing_required:txn_id'],
      9: ['out_of_range:amount'],
      10: ['wrong_type:qty'],
    });
    expect(rows.find((r) => Number(r.row) === 3)!.raw).toBe('t3,5,FR');
    expect(JSON.parse(rows.find((r) => Number(r.row) === 2)!.raw)).toMatchObject({ txn_id: 't2', amount: 'abc' });

    // The accepted Parquet holds typed values, content-addressed.
    const path = join(dir, 'accepted-check.parquet');
    writeFileSync(path, await artifacts.getBuffer(outcome.artifact!));
    const duck = await (await DuckDBInstance.create(':memory:')).connect();
    const typed = (await duck.runAndReadAll(`SELECT txn_id, amount, qty, typeof(amount) ta, typeof(ts) tt, typeof(qty) tq FROM '${path}' ORDER BY txn_id`)).getRowObjectsJson();
    expect(typed).toEqual([
      { txn_id: 't1', amount: 10.5, qty: '1', ta: 'DOUBLE', tt: 'TIMESTAMP', tq: 'BIGINT' },
      { txn_id: 't11', amount: 4, qty: '11', ta: 'DOUBLE', tt: 'TIMESTAMP', tq: 'BIGINT' },
      { txn_id: 't12', amount: 4.5, qty: null, ta: 'DOUBLE', tt: 'TIMESTAMP', tq: 'BIGINT' },
    ]);
    expect(outcome.artifact).toBe(`sha256/${outcome.sha256}`);

    const report = (await (await http('/datasets/transactions/versions/1/report')).json()) as { columns: { name: string; mean?: number; count: number }[] };
    const amount = report.columns.find((c) => c.name === 'amount')!;
    expect(amount.count).toBe(3);
    expect(amount.mean).toBeCloseTo((10.5 + 4 + 4.5) / 3, 10);

    const types = (await store.readStream('dataset-transactions')).map((e) => e.type);
    expect(types).toEqual(['DatasetRegistered', 'DatasetSchemaDeclared', 'DatasetVersionIngested', 'RowsQuarantined']);
  });

  it('gives no new version for identical bytes, and says so', async () => {
    const { status, outcome } = await upload('transactions', CSV);
    expect(status).toBe(200);
    expect(outcome).toMatchObject({ status: 'duplicate', version: null, duplicateOf: 1 });
    const dataset = (await (await http('/datasets/transactions')).json()) as { versions: unknown[] };
    expect(dataset.versions).toHaveLength(1);
  });

  it('stores a version that fails dataset checks as rejected, with DataQualityCheckFailed', async () => {
    const { outcome } = await upload('transactions', 'txn_id,amount,country,ts,email,qty\nt100,1,US,2024-02-01,,1\n');
    expect(outcome).toMatchObject({ status: 'rejected', version: 2, rows: 1, accepted: 1 });
    expect(outcome.failedChecks.join(' ')).toMatch(/at least 3/);
    const events = await store.readStream('dataset-transactions', { from: 4 });
    // (A SchemaChangeDetected may follow: one row has a very different amount distribution.)
    expect(events.map((e) => e.type).slice(0, 2)).toEqual(['DatasetVersionIngested', 'DataQualityCheckFailed']);
    expect(events[0].data).toMatchObject({ status: 'rejected' });
  });

  it('detects schema changes against the previous accepted version', async () => {
    // An inferred-schema dataset: v1, then v2 with a new column, a new category and a type change.
    const tiers1 = ['gold', 'silver', 'gold', 'silver', 'gold', 'silver', 'gold', 'silver'];
    const tiers2 = ['gold', 'bronze', 'gold', 'silver', 'bronze', 'silver', 'gold', 'bronze'];
    const v1 = `id,score,tier\n${tiers1.map((t, i) => `${i},0.${i},${t}`).join('\n')}\n`;
    const v2 = `id,score,tier,extra\n${tiers2.map((t, i) => `${i},${i % 2 ? 'high' : 'low'},${t},x${i}`).join('\n')}\n`;
    expect((await upload('drift', v1)).outcome.version).toBe(1);
    const second = await upload('drift', v2);
    expect(second.outcome.version).toBe(2);
    expect(second.outcome.schemaChanges).toBeGreaterThan(0);
    const events = await store.readStream('dataset-drift');
    const change = events.find((e) => e.type === 'SchemaChangeDetected')!;
    const kinds = (change.data as { diff: { kind: string; column: string }[] }).diff.map((d) => `${d.kind}:${d.column}`);
    expect(kinds).toEqual(expect.arrayContaining(['column_added:extra', 'type_changed:score', 'new_categories:tier']));
    expect(change.data).toMatchObject({ version: 2, previousVersion: 1 });
  });

  it('ingests NDJSON and JSON arrays, quarantining invalid NDJSON lines', async () => {
    const nd = '{"id": 1, "name": "a"}\nnot json\n\n{"id": 2, "name": "b"}\n[1,2]\n';
    const { outcome } = await upload('nd', nd, 'format=ndjson');
    expect(outcome).toMatchObject({ rows: 4, accepted: 2, quarantined: 2 });
    expect(outcome.reasons).toEqual({ malformed_row: 2 });
    const json = await upload('arr', JSON.stringify([{ id: 1, v: 2.5 }, { id: 2, v: 3.5 }]), 'format=json');
    expect(json.outcome).toMatchObject({ rows: 2, accepted: 2, quarantined: 0 });
  });

  it('serves the same operations over the transport', async () => {
    // Files are read from the inbox (<MLP_HOME>/inbox, the default root).
    const path = join(dir, 'inbox', 'rpc.csv');
    const missing = await client.send<IngestionOutcome>(subjects.cmd.ingestion.startIngestion, {
      dataset: 'rpc',
      source: { kind: 'file', path },
      wait: true,
    }).catch((e: unknown) => e as Error);
    // The file does not exist yet: a clear 404 before the job starts, not a crash.
    expect(missing).toMatchObject({ name: 'NotFoundError', code: 'FILE_NOT_FOUND', message: expect.stringMatching(/rpc\.csv/) });
    expect(await store.streamExists('dataset-rpc')).toBe(false);
    writeFileSync(path, 'a,b\n1,2\n3,4\n');
    const ok = await client.send<IngestionOutcome>(subjects.cmd.ingestion.startIngestion, {
      dataset: 'rpc',
      source: { kind: 'file', path },
      wait: true,
    });
    expect(ok).toMatchObject({ status: 'accepted', version: 1, rows: 2 });
    const listed = await client.send<{ datasets: { name: string }[] }>(subjects.qry.ingestion.listDatasets, {});
    expect(listed.datasets.map((d) => d.name)).toEqual(expect.arrayContaining(['rpc', 'transactions', 'drift']));
    await expect(client.send(subjects.qry.ingestion.getDataset, { name: 'nope' })).rejects.toMatchObject({ name: 'NotFoundError' });
  });

  it('retries a failing URL source, recording each retry as an event', async () => {
    let calls = 0;
    const server = createServer((req, res) => {
      // The pre-check's HEAD (where do redirects lead?) is not a download attempt.
      if (req.method === 'HEAD') return void res.writeHead(200, { 'content-type': 'text/csv' }).end();
      calls++;
      if (calls <= 2) {
        res.writeHead(503).end('busy');
        return;
      }
      res.writeHead(200, { 'content-type': 'text/csv' }).end('id,v\n1,a\n2,b\n');
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const { port } = server.address() as AddressInfo;
    try {
      const res = await http('/datasets/flaky/ingestions', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ source: { kind: 'url', url: `http://127.0.0.1:${port}/data.csv` }, wait: true }),
      });
      const outcome = (await res.json()) as IngestionOutcome;
      expect(outcome).toMatchObject({ status: 'accepted', rows: 2 });
      const job = await store.readStream(`ingestion-${outcome.jobId}`);
      expect(job.map((e) => e.type)).toEqual(['IngestionStarted', 'IngestionRetried', 'IngestionRetried', 'IngestionCompleted']);
      expect(job[1].data).toMatchObject({ attempt: 1, error: expect.stringMatching(/503/) });
      expect(calls).toBe(3);
    } finally {
      server.close();
    }
  });

  it('ingests only newer PostgreSQL rows on the next run (watermark)', async () => {
    const table = `mlp_int_${process.pid}_${Date.now()}`;
    const pg = new Client({ connectionString: 'postgres://postgres@127.0.0.1:5432/test' });
    await pg.connect();
    try {
      await pg.query(`CREATE TABLE ${table} (id int, amount float8, updated_at timestamptz)`);
      await pg.query(`INSERT INTO ${table} VALUES (1, 10.5, '2024-01-01T00:00:00Z'), (2, 20, '2024-01-02T00:00:00Z')`);
      const ingest = async () => {
        const res = await http('/datasets/pgdata/ingestions', {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({
            source: { kind: 'postgres', query: `SELECT id, amount, updated_at FROM ${table}`, connection: 'warehouse', watermarkColumn: 'updated_at' },
            wait: true,
          }),
        });
        return (await res.json()) as IngestionOutcome;
      };
      expect(await ingest()).toMatchObject({ status: 'accepted', version: 1, rows: 2 });
      await pg.query(`INSERT INTO ${table} VALUES (3, 30, '2024-01-03T00:00:00Z')`);
      expect(await ingest()).toMatchObject({ status: 'accepted', version: 2, rows: 1 });
      const versions = (await store.readStream('dataset-pgdata')).filter((e) => e.type === 'DatasetVersionIngested').map((e) => e.data as { watermark: string; source: { uri: string } });
      expect(versions.map((v) => v.watermark)).toEqual([expect.stringMatching(/^2024-01-02T00:00:00/), expect.stringMatching(/^2024-01-03T00:00:00/)]);
      expect(JSON.stringify(versions)).not.toContain('postgres://');
    } finally {
      await pg.query(`DROP TABLE IF EXISTS ${table}`);
      await pg.end();
    }
  });

  it('validates request bodies with field-level errors', async () => {
    const res = await http('/datasets/x/ingestions', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ source: { kind: 'ftp', path: 'x' } }),
    });
    expect(res.status).toBe(400);
    const body = (await res.json()) as { details: { path: string }[] };
    expect(body.details.map((d) => d.path)).toContain('source.kind');
  });
});
