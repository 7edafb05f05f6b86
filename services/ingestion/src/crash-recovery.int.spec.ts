import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { SqliteEventStore } from '@mlp/eventstore';
import { eventually, freePort, spawnTs, waitForHttp, type SpawnedProcess } from '@mlp/testing';
import type { IngestionOutcome } from '@mlp/contracts';

/** kill -9 in the middle of an ingestion: no half version, and the job is resumed from its events. */
describe('ingestion crash recovery', () => {
  jest.setTimeout(120_000);
  let dir: string;
  let env: NodeJS.ProcessEnv;
  let port: number;
  let proc: SpawnedProcess | undefined;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'mlp-crash-'));
    port = await freePort();
    env = { MLP_HOME: dir, LOG_LEVEL: 'warn', MLP_INGESTION_PORT: String(port), MLP_INGESTION_RPC_PORT: String(await freePort()), MLP_WORKER_ID: 'crash-test' };
    // In the inbox (<MLP_HOME>/inbox): the only directory file sources may be read from by default.
    mkdirSync(join(dir, 'inbox'));
    const duck = await (await DuckDBInstance.create(':memory:')).connect();
    await duck.run(`COPY (SELECT i AS id, random() AS x, 'c' || (i % 7) AS c FROM range(1500000) t(i)) TO '${join(dir, 'inbox', 'big.csv')}' (HEADER)`);
  });

  afterAll(async () => {
    await proc?.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  });

  const start = async () => {
    proc = spawnTs('services/ingestion/src/main.ts', [], env);
    await waitForHttp(`http://127.0.0.1:${port}/health/ready`, { process: proc, timeoutMs: 60_000 });
  };

  it('resumes the interrupted job after a restart and stores exactly one version', async () => {
    await start();
    const res = await fetch(`http://127.0.0.1:${port}/datasets/big/ingestions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ source: { kind: 'file', path: join(dir, 'inbox', 'big.csv') } }),
    });
    expect(res.status).toBe(202);
    const { jobId } = (await res.json()) as { jobId: string };
    const running = (await (await fetch(`http://127.0.0.1:${port}/ingestions/${jobId}`)).json()) as IngestionOutcome;
    expect(running.status).toBe('running');
    await proc!.kill('SIGKILL');

    // Nothing half-visible: the job is still "running" in its events and the dataset has no version.
    const events = new SqliteEventStore(join(dir, 'events.db'));
    expect((await events.readStream(`ingestion-${jobId}`)).map((e) => e.type)).toEqual(['IngestionStarted']);
    expect(await events.readStream('dataset-big')).toEqual([]);

    await start();
    const done = await eventually(async () => {
      const o = (await (await fetch(`http://127.0.0.1:${port}/ingestions/${jobId}`)).json()) as IngestionOutcome;
      return o.status !== 'running' && o;
    }, 90_000, 'the resumed job to finish');
    expect(done).toMatchObject({ status: 'accepted', version: 1, rows: 1_500_000, accepted: 1_500_000 });
    expect((await events.readStream(`ingestion-${jobId}`)).map((e) => e.type)).toEqual(['IngestionStarted', 'IngestionCompleted']);
    expect((await events.readStream('dataset-big')).filter((e) => e.type === 'DatasetVersionIngested')).toHaveLength(1);
    await events.close();
  });
});
