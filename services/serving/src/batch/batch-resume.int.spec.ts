import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';
import { FsArtifactStore } from '@mlp/artifacts';
import type { BatchJobView, EventData } from '@mlp/contracts';
import { SqliteEventStore } from '@mlp/eventstore';
import { eventually, spawnTs, waitForHttp, type SpawnedProcess } from '@mlp/testing';
import { assignAlias, registerVersion, storeTinyModel } from '../testing/model.fixture';
import { servingProcessEnv } from '../testing/serving-process.fixture';

const ROWS = 1_000_000;
/** Rows the SQL below makes invalid: a plan outside the signature's values, or a null monthly bill (not nullable). */
const BAD = `(i % 1009 = 5 OR i % 2003 = 17)`;

/**
 * Batch inference over a million rows in a serving process of its own:
 * uninterrupted, and killed with SIGKILL mid-job then restarted. The output
 * and rejects files are counted by id.
 */
describe('batch inference at 1M rows, resumed after kill -9', () => {
  jest.setTimeout(600_000);
  let dir: string;
  let env: NodeJS.ProcessEnv;
  let url: string;
  let proc: SpawnedProcess | undefined;
  let db: DuckDBConnection;
  let inputKey: string;
  let rejectsExpected: number;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'mlp-batch-'));
    ({ env, url } = await servingProcessEnv(dir));
    const store = new SqliteEventStore(join(dir, 'events.db'));
    const artifacts = new FsArtifactStore({ root: join(dir, 'artifacts') });
    const stored = await storeTinyModel(artifacts);
    await registerVersion(store, 'churn', 1, stored);
    await assignAlias(store, 'churn', 'production', 1);
    await store.close();

    db = await (await DuckDBInstance.create(':memory:')).connect();
    const input = join(dir, 'input.parquet');
    await db.run(`COPY (
      SELECT 'c' || i AS id,
             CASE WHEN i % 17 = 5 THEN NULL ELSE round((i * 7919 % 600) / 10.0, 1) END AS tenure,
             CASE WHEN i % 2003 = 17 THEN NULL ELSE round(20 + (i * 104729 % 8000) / 100.0, 2) END AS monthly,
             CASE WHEN i % 1009 = 5 THEN 'gold' ELSE ['basic', 'pro', 'team'][1 + i % 3] END AS plan
      FROM range(${ROWS}) t(i)) TO '${input}' (FORMAT parquet)`);
    rejectsExpected = Number((await db.runAndReadAll(`SELECT count(*) FROM range(${ROWS}) t(i) WHERE ${BAD}`)).getRows()[0][0]);

    await start();
    const res = await fetch(`${url}/batch/inputs`, { method: 'POST', headers: { 'content-type': 'application/octet-stream' }, body: (await import('node:fs')).readFileSync(input) });
    expect(res.status).toBe(201);
    inputKey = ((await res.json()) as { key: string }).key;
  });

  afterAll(async () => {
    await proc?.kill('SIGKILL');
    db?.closeSync();
    rmSync(dir, { recursive: true, force: true });
  });

  async function start(): Promise<void> {
    proc = spawnTs('services/serving/src/main.ts', [], env);
    await waitForHttp(`${url}/v2/health/ready`, { process: proc, timeoutMs: 120_000 });
  }

  const job = async (id: string) => (await (await fetch(`${url}/batch/jobs/${id}`)).json()) as BatchJobView;

  async function submit(chunkRows: number): Promise<BatchJobView> {
    const res = await fetch(`${url}/batch/jobs`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'churn@production', input: { upload: inputKey }, format: 'parquet', chunkRows }),
    });
    expect(res.status).toBe(202);
    return (await res.json()) as BatchJobView;
  }

  const finished = (id: string) => eventually(async () => (await job(id)).status !== 'running' && job(id), 500_000, `batch job ${id}`);

  async function download(id: string, which: 'output' | 'rejects'): Promise<string> {
    const res = await fetch(`${url}/batch/jobs/${id}/${which}`);
    expect(res.status).toBe(200);
    const path = join(dir, `${id}-${which}.parquet`);
    writeFileSync(path, Buffer.from(await res.arrayBuffer()));
    return path;
  }

  /** Rows, distinct ids, and ids of the input found in neither file, over output ∪ rejects. */
  async function countIds(output: string, rejects: string) {
    const q = async (sql: string) => Number((await db.runAndReadAll(sql)).getRows()[0][0]);
    const both = `(SELECT id FROM read_parquet('${output}') UNION ALL SELECT id FROM read_parquet('${rejects}'))`;
    return {
      output: await q(`SELECT count(*) FROM read_parquet('${output}')`),
      rejects: await q(`SELECT count(*) FROM read_parquet('${rejects}')`),
      distinct: await q(`SELECT count(DISTINCT id) FROM ${both}`),
      missing: await q(`SELECT count(*) FROM range(${ROWS}) t(i) WHERE 'c' || i NOT IN (SELECT id FROM ${both})`),
      unordered: await q(`SELECT count(*) FROM (SELECT _row, lag(_row) OVER () AS previous FROM read_parquet('${output}')) WHERE _row <= previous`),
      badRejected: await q(`SELECT count(*) FROM read_parquet('${rejects}') WHERE NOT (CAST(substr(id, 2) AS BIGINT) % 1009 = 5 OR CAST(substr(id, 2) AS BIGINT) % 2003 = 17)`),
    };
  }

  it('predicts 1M rows: output rows = input rows − rejects, and a sample equals online predict', async () => {
    const started = await submit(50_000);
    const done = await finished(started.jobId);
    expect(done).toMatchObject({ status: 'completed', rowsDone: ROWS, rejected: rejectsExpected, predicted: ROWS - rejectsExpected });
    const output = await download(done.jobId, 'output');
    const rejects = await download(done.jobId, 'rejects');
    expect(await countIds(output, rejects)).toEqual({ output: ROWS - rejectsExpected, rejects: rejectsExpected, distinct: ROWS, missing: 0, unordered: 0, badRejected: 0 });

    const sample = (await db.runAndReadAll(`SELECT i.tenure, i.monthly, i.plan, o.prediction, o.probability_no, o.probability_yes
      FROM read_parquet('${output}') o JOIN read_parquet('${join(dir, 'input.parquet')}') i USING (id) USING SAMPLE 200 ROWS (reservoir, 42)`)).getRowObjectsJson() as Record<string, unknown>[];
    const res = await fetch(`${url}/v1/models/churn@production:predict`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ instances: sample.map((r) => ({ tenure: r.tenure, monthly: r.monthly, plan: r.plan })) }),
    });
    const online = (await res.json()) as { predictions: string[]; probabilities: number[][] };
    expect(sample.map((r) => r.prediction)).toEqual(online.predictions);
    expect(sample.map((r) => [r.probability_no, r.probability_yes])).toEqual(online.probabilities);
  });

  it('resumes from its last checkpoint after kill -9, with no row duplicated or missing', async () => {
    const started = await submit(20_000);
    expect(started.chunks).toBe(50);
    // Killed once at least two chunks are checkpointed and the job is not done.
    const before = await eventually(async () => {
      const v = await job(started.jobId);
      return v.chunksDone >= 2 && v;
    }, 300_000, 'two checkpoints');
    expect(before.status).toBe('running');
    expect(await proc!.kill('SIGKILL')).toBe('SIGKILL');

    const store = new SqliteEventStore(join(dir, 'events.db'));
    const atKill = (await store.readStream(`batch-${started.jobId}`)).filter((e) => e.type === 'BatchInferenceProgressed').length;
    expect(atKill).toBeGreaterThanOrEqual(2);
    expect(atKill).toBeLessThan(50);

    await start();
    const done = await finished(started.jobId);
    expect(done).toMatchObject({ status: 'completed', chunksDone: 50, rowsDone: ROWS, rejected: rejectsExpected });
    // The killed run's temp dir went before the job resumed; the resumed run removed its own.
    expect(readdirSync(join(dir, 'tmp', 'batch')).filter((n) => n.startsWith(`batch-${started.jobId}-`))).toEqual([]);
    const events = await store.readStream(`batch-${started.jobId}`);
    await store.close();
    const chunks = events.filter((e) => e.type === 'BatchInferenceProgressed').map((e) => (e.data as EventData<'BatchInferenceProgressed'>).chunk);
    expect(chunks).toEqual(Array.from({ length: 50 }, (_, i) => i));
    const completed = events.at(-1)!.data as EventData<'BatchInferenceCompleted'>;
    expect(completed.resumedFromChunk).toBeGreaterThanOrEqual(atKill);
    expect(completed.inputSha256).toBe(inputKey.slice('sha256/'.length));

    const output = await download(done.jobId, 'output');
    const rejects = await download(done.jobId, 'rejects');
    expect(await countIds(output, rejects)).toEqual({ output: ROWS - rejectsExpected, rejects: rejectsExpected, distinct: ROWS, missing: 0, unordered: 0, badRejected: 0 });
  });
});
