import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { eventually } from '@mlp/testing';
import type { BatchJobView } from '@mlp/contracts';
import { churnRows, promoteTinyModel, type StoredTinyModel } from '../testing/model.fixture';
import { startServingPlatform, type ServingPlatform } from '../testing/serving-platform.fixture';

/** Batch inference in process: rejects with reasons, predictions equal to online predict, request validation. */
describe('batch inference', () => {
  jest.setTimeout(180_000);
  let platform: ServingPlatform;
  let stored: StoredTinyModel;

  beforeAll(async () => {
    platform = await startServingPlatform({ MLP_SERVING_TELEMETRY: 'off' }, async (p) => {
      stored = await promoteTinyModel(p);
    });
  });
  afterAll(() => platform?.close());

  const post = (path: string, body: unknown) =>
    fetch(`${platform.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });

  async function upload(text: string): Promise<string> {
    const res = await fetch(`${platform.url}/batch/inputs`, { method: 'POST', headers: { 'content-type': 'application/octet-stream' }, body: text });
    expect(res.status).toBe(201);
    return ((await res.json()) as { key: string }).key;
  }

  async function finished(jobId: string): Promise<BatchJobView> {
    return eventually(async () => {
      const view = (await (await fetch(`${platform.url}/batch/jobs/${jobId}`)).json()) as BatchJobView;
      return view.status !== 'running' && view;
    }, 170_000, `batch job ${jobId}`);
  }

  async function readTable(bytes: Buffer, format: 'parquet' | 'csv'): Promise<Record<string, unknown>[]> {
    const path = join(platform.p.dir, `read-${Math.random().toString(36).slice(2)}.${format}`);
    writeFileSync(path, bytes);
    const db = await (await DuckDBInstance.create(':memory:')).connect();
    const source = format === 'parquet' ? `read_parquet('${path}')` : `read_csv('${path}', header = true)`;
    const reader = await db.runAndReadAll(`SELECT * FROM ${source}`);
    const rows = reader.getRowObjectsJson() as Record<string, unknown>[];
    db.closeSync();
    return rows;
  }

  it('predicts every valid row, writes every bad row to the rejects file with its reasons, and matches online predict', async () => {
    const { rows } = churnRows(2_000, 11);
    const lines = ['id,tenure,monthly,plan,region'];
    rows.forEach((r, i) => {
      let { monthly, plan }: { monthly: number | string; plan: string } = r;
      if (i % 97 === 3) plan = 'gold';
      if (i % 101 === 7) monthly = 'abc';
      if (i % 103 === 9) monthly = '';
      lines.push(`${1000 + i},${r.tenure ?? ''},${monthly},${plan},"r, ${i % 3}"`);
    });
    const bad = rows.map((_, i) => i % 97 === 3 || i % 101 === 7 || i % 103 === 9).filter(Boolean).length;
    const key = await upload(lines.join('\n') + '\n');

    const res = await post('/batch/jobs', { model: 'churn@production', input: { upload: key }, format: 'parquet', chunkRows: 300 });
    expect(res.status).toBe(202);
    const started = (await res.json()) as BatchJobView;
    expect(started).toMatchObject({ model: { name: 'churn', version: 1, alias: 'production' }, input: { kind: 'upload', rows: 2_000, format: 'csv' }, chunks: 7 });

    const done = await finished(started.jobId);
    expect(done).toMatchObject({ status: 'completed', chunksDone: 7, rowsDone: 2_000, predicted: 2_000 - bad, rejected: bad });
    expect(done.output).toMatchObject({ rows: 2_000 - bad, format: 'parquet' });

    const output = await readTable(Buffer.from(await (await fetch(`${platform.url}/batch/jobs/${started.jobId}/output`)).arrayBuffer()), 'parquet');
    const rejects = await readTable(Buffer.from(await (await fetch(`${platform.url}/batch/jobs/${started.jobId}/rejects`)).arrayBuffer()), 'parquet');
    expect(output).toHaveLength(2_000 - bad);
    expect(rejects).toHaveLength(bad);
    // Every input id exactly once, in one of the two files.
    const ids = [...output, ...rejects].map((r) => Number(r.id)).sort((a, b) => a - b);
    expect(ids).toEqual(rows.map((_, i) => 1000 + i));
    expect(Object.keys(output[0])).toEqual(['_row', 'id', 'region', 'prediction', 'probability_no', 'probability_yes']);
    expect(output[0].region).toBe('r, 0');

    const gold = rejects.find((r) => Number(r._row) === 3)!;
    expect(JSON.parse(gold.reasons as string)).toEqual([{ path: 'plan', message: expect.stringContaining('must be one of "basic", "pro", "team"') }]);
    expect(JSON.parse(gold.input as string)).toMatchObject({ plan: 'gold' });
    const abc = rejects.find((r) => Number(r._row) === 7)!;
    expect(JSON.parse(abc.reasons as string)).toEqual([{ path: 'monthly', message: expect.stringContaining('must be a number') }]);
    const empty = rejects.find((r) => Number(r._row) === 9)!;
    expect(JSON.parse(empty.reasons as string)).toEqual([{ path: 'monthly', message: "'monthly' may not be null" }]);

    // A sample of rows, through online predict: the same label and probabilities.
    const sample = output.filter((_, i) => i % 37 === 0);
    const online = await post('/v1/models/churn@production:predict', {
      instances: sample.map((r) => {
        const row = rows[Number(r._row)];
        return { tenure: row.tenure, monthly: row.monthly, plan: row.plan };
      }),
    });
    const body = (await online.json()) as { predictions: string[]; probabilities: number[][] };
    expect(sample.map((r) => r.prediction)).toEqual(body.predictions);
    expect(sample.map((r) => [r.probability_no, r.probability_yes])).toEqual(body.probabilities);
    // And against the model offline (libs/ml directly).
    const offline = stored.offline(sample.map((r) => rows[Number(r._row)]));
    sample.forEach((r, i) => expect(r.probability_yes as number).toBeCloseTo(offline[i], 6));

    // Lineage facts in the events: input hash → model version → output hash.
    const events = await platform.p.store.readStream(`batch-${started.jobId}`);
    expect(events.map((e) => e.type)).toEqual(['BatchInferenceStarted', ...Array(7).fill('BatchInferenceProgressed'), 'BatchInferenceCompleted']);
    expect(events.at(-1)!.data).toMatchObject({ inputSha256: key.slice('sha256/'.length), model: { name: 'churn', version: 1 }, output: { sha256: done.output!.sha256 } });
  });

  it('writes CSV output and names the version by number', async () => {
    const { rows } = churnRows(50, 3);
    const key = await upload(['tenure,monthly,plan', ...rows.map((r) => `${r.tenure ?? ''},${r.monthly},${r.plan}`)].join('\n'));
    const res = await post('/batch/jobs', { model: 'churn:1', input: { upload: key }, format: 'csv' });
    expect(res.status).toBe(202);
    const done = await finished(((await res.json()) as BatchJobView).jobId);
    expect(done).toMatchObject({ status: 'completed', predicted: 50, rejected: 0, rejects: null, model: { version: 1, alias: null } });
    const csv = await (await fetch(`${platform.url}/batch/jobs/${done.jobId}/output`)).text();
    expect(csv.split('\n')[0]).toBe('_row,prediction,probability_no,probability_yes');
    expect(csv.trim().split('\n')).toHaveLength(51);
    expect((await fetch(`${platform.url}/batch/jobs/${done.jobId}/rejects`)).status).toBe(404);
  });

  it('completes an input without rows with an empty output that keeps its columns', async () => {
    const key = await upload('id,tenure,monthly,plan\n');
    const res = await post('/batch/jobs', { model: 'churn', input: { upload: key }, format: 'csv' });
    expect(res.status).toBe(202);
    const done = await finished(((await res.json()) as BatchJobView).jobId);
    expect(done).toMatchObject({ status: 'completed', chunks: 0, predicted: 0, rejected: 0, output: { rows: 0 } });
    expect((await (await fetch(`${platform.url}/batch/jobs/${done.jobId}/output`)).text()).trim()).toBe('_row,id,prediction,probability_no,probability_yes');
  });

  it('refuses bad requests with 4xx and field details, and starts nothing', async () => {
    const key = await upload('tenure,plan\n1,basic\n');
    const cases: { body: unknown; status: number; paths: string[] }[] = [
      { body: { model: 'churn', input: { upload: key }, format: 'xlsx' }, status: 400, paths: ['format'] },
      { body: { model: 'bad name!', input: { upload: key } }, status: 400, paths: ['model'] },
      { body: { model: 'churn', input: { upload: 'nope' } }, status: 400, paths: ['input.upload'] },
      { body: { model: 'churn', input: { upload: key }, chunkRows: 0 }, status: 400, paths: ['chunkRows'] },
      { body: { model: 'churn', input: { upload: key }, extra: 1 }, status: 400, paths: [''] },
      { body: { model: 'churn', input: { upload: key } }, status: 400, paths: ['input.columns.monthly'] },
    ];
    for (const c of cases) {
      const res = await post('/batch/jobs', c.body);
      const body = (await res.json()) as { code: string; details?: { path: string }[]; stack?: unknown };
      expect({ body: c.body, status: res.status }).toEqual({ body: c.body, status: c.status });
      expect(body.stack).toBeUndefined();
      for (const p of c.paths) expect(body.details?.map((d) => d.path)).toContain(p);
    }
    expect((await post('/batch/jobs', { model: 'nomodel@production', input: { upload: key } })).status).toBe(404);
    expect((await post('/batch/jobs', { model: 'churn@staging', input: { upload: key } })).status).toBe(404);
    expect((await post('/batch/jobs', { model: 'churn', input: { upload: `sha256/${'0'.repeat(64)}` } })).status).toBe(404);
    expect((await post('/batch/jobs', { model: 'churn', input: { dataset: 'nodata' } })).status).toBe(404);
    expect((await fetch(`${platform.url}/batch/jobs/not-a-job`)).status).toBe(404);
    const empty = await fetch(`${platform.url}/batch/inputs`, { method: 'POST', headers: { 'content-type': 'application/octet-stream' }, body: '' });
    expect(empty.status).toBe(400);
    expect(((await empty.json()) as { details: { path: string }[] }).details).toEqual([{ path: 'body', message: 'empty' }]);
  });
});
