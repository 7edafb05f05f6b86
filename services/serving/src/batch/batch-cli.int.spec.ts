import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { streams, toNewEvent, type BatchJobView } from '@mlp/contracts';
import { runMlp } from '@mlp/testing';
import { churnRows, promoteTinyModel, type StoredTinyModel } from '../testing/model.fixture';
import { startServingPlatform, type ServingPlatform } from '../testing/serving-platform.fixture';

jest.setTimeout(180_000);

const mlp = runMlp;

/** `mlp batch-predict` against a running serving: a local CSV uploaded, a dataset version by name, outputs downloaded. */
describe('mlp batch-predict', () => {
  let s: ServingPlatform;
  let v1: StoredTinyModel;
  let env: NodeJS.ProcessEnv;
  const { rows } = churnRows(3_000, 21);

  beforeAll(async () => {
    s = await startServingPlatform({ MLP_SERVING_TELEMETRY: 'off' }, async (p) => {
      v1 = await promoteTinyModel(p);
      // A dataset version as ingestion records it: Parquet in the artifact store, named by DatasetVersionIngested.
      const path = join(p.dir, 'ds.parquet');
      const db = await (await DuckDBInstance.create(':memory:')).connect();
      await db.run(`COPY (SELECT i AS id, (i % 50)::DOUBLE AS tenure, 20 + (i % 70)::DOUBLE AS monthly, ['basic', 'pro', 'team'][1 + i % 3] AS plan FROM range(500) t(i)) TO '${path}' (FORMAT parquet)`);
      db.closeSync();
      const put = await p.artifacts.put(readFileSync(path));
      const hex = (c: string) => c.repeat(64);
      await p.store.appendToStream(streams.dataset('customers'), [
        toNewEvent(
          {
            type: 'DatasetVersionIngested',
            data: {
              dataset: 'customers', version: 1, jobId: 'j1', source: { kind: 'file', uri: 'customers.csv', spec: {} }, format: 'csv', sourceSha256: hex('1'), artifactKey: put.key, sha256: put.sha256,
              rows: 500, accepted: 500, quarantined: 0, schemaHash: hex('2'), schema: {}, inferred: true, reportArtifactKey: put.key, quarantineArtifactKey: null, report: {}, status: 'accepted', watermark: null, streamRange: null,
            },
          },
          { now: new Date().toISOString(), correlationId: 'c', causationId: null, actor: 'test' },
          { codeVersion: 'test' },
        ),
      ]);
    });
    env = { MLP_SERVING_URL: s.url, MLP_API_KEY: '', MLP_ADMIN_KEY: '', MLP_PROGRESS: '1' };
    const lines = ['customer,tenure,monthly,plan', ...rows.map((r, i) => `${i},${r.tenure ?? ''},${r.monthly},${i === 10 ? 'gold' : r.plan}`)];
    writeFileSync(join(s.p.dir, 'customers.csv'), lines.join('\n') + '\n');
  });
  afterAll(async () => s?.close());

  it('uploads a CSV, shows progress, and downloads the predictions and the rejects', async () => {
    const out = join(s.p.dir, 'scored.csv');
    const r = await mlp(['batch-predict', 'churn@production', '--input', join(s.p.dir, 'customers.csv'), '--output', out, '--chunk-rows', '500'], env);
    expect(r.stderr).toContain('predicting [');
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('predicted 2,999 rows');
    expect(r.stdout).toContain('rejected  1 rows');
    const scored = readFileSync(out, 'utf8').trim().split('\n');
    expect(scored[0]).toBe('_row,customer,prediction,probability_no,probability_yes');
    expect(scored).toHaveLength(3_000);
    const offline = v1.offline(rows.slice(0, 5));
    scored.slice(1, 6).forEach((line, i) => expect(Number(line.split(',')[4])).toBeCloseTo(offline[i], 6));
    const rejects = readFileSync(join(s.p.dir, 'scored.rejects.csv'), 'utf8');
    expect(rejects).toContain('must be one of');
    expect(rejects.split('\n')[1].startsWith('10,10,')).toBe(true);
  });

  it('predicts a dataset version by name into Parquet (--json)', async () => {
    const out = join(s.p.dir, 'customers-scored.parquet');
    const r = await mlp(['batch-predict', 'churn:1', '--input', 'customers:1', '--output', out, '--json'], env);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const result = JSON.parse(r.stdout) as { output: string; rejects: string | null; job: BatchJobView };
    expect(result).toMatchObject({ output: out, rejects: null, job: { status: 'completed', predicted: 500, rejected: 0, input: { kind: 'dataset', dataset: { name: 'customers', version: 1 } } } });
    const db = await (await DuckDBInstance.create(':memory:')).connect();
    const n = (await db.runAndReadAll(`SELECT count(*) FROM read_parquet('${out}')`)).getRows()[0][0];
    db.closeSync();
    expect(Number(n)).toBe(500);
  });

  it('refuses bad arguments with usage (exit 2) and names a missing input', async () => {
    const bad = await mlp(['batch-predict', 'churn', '--input', 'x.csv', '--output', 'out.xlsx'], env);
    expect(bad.status).toBe(2);
    expect(bad.stderr).toContain('--output must end in .parquet or .csv');
    const missing = await mlp(['batch-predict', 'churn', '--input', './nope/x.csv', '--output', join(s.p.dir, 'o.csv')], env);
    expect(missing.status).toBe(1);
    expect(missing.stderr).toContain('neither a file nor a dataset name');
  });
});
