import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { streams, type EventData, type IngestionOutcome, type RecordedEvent } from '@mlp/contracts';
import { SeededRng } from '@mlp/ml';
import { startService } from '@mlp/service-kit';
import { startInProcessServices, type InProcessServices } from '@mlp/service-kit/testing';
import { featureStoreService } from '@mlp/service-feature-store';
import { ingestionService } from '@mlp/service-ingestion';
import { registryService } from '@mlp/service-registry';
import { servingService } from '@mlp/service-serving';
import { trainingService } from '@mlp/service-training';
import { eventually, repoRoot } from '@mlp/testing';
import { monitoringService } from './index';

jest.setTimeout(300_000);

const SCHEMA = `dataset: churnds
columns:
  tenure:  {type: float, nullable: true}
  monthly: {type: float, required: true}
  plan:    {type: category, required: true, values: [basic, pro, team]}
  churned: {type: category, required: true, values: ['no', 'yes']}
`;

const SPEC = `experiment: churn
task: binary
data:
  dataset: {name: churnds}
  label: churned
preprocessing:
  - {impute: median, columns: numeric}
  - {scale: standard, columns: numeric}
  - {encode: onehot, columns: categorical}
split: {method: random, test: 0.25}
model: {type: logistic, epochs: 20, batchSize: 32, learningRate: 0.05}
evaluation: {baseline: naive}
seed: 11
`;

const rng = new SeededRng(5);
type Row = { tenure: number | null; monthly: number; plan: string };
function row(shift = false): Row {
  const u = rng.next();
  const plan = shift ? (u < 0.1 ? 'basic' : u < 0.2 ? 'pro' : 'team') : u < 0.5 ? 'basic' : u < 0.8 ? 'pro' : 'team';
  return { tenure: rng.next() < 0.05 ? null : Math.round(rng.next() * 60), monthly: rng.normal(shift ? 110 : 70, 20), plan };
}
const churned = (r: Row) => (1 / (1 + Math.exp(-((r.monthly - 70) / 15 - (r.tenure ?? 30) / 20 + 1))) > rng.next() ? 'yes' : 'no');

/**
 * The embedded platform in one process: ingest → train (BaselineRecorded) →
 * register → promote → serve; predictions and feedback go to serving's
 * SQLite telemetry, which monitoring tails. The CLI reads the result over HTTP.
 */
describe('monitoring on the embedded platform (ingest → train → serve → telemetry → drift and performance)', () => {
  let p: InProcessServices;
  const url = (i: number, path: string) => `${p.services[i].url}${path}`;
  const monitorEvents = (type: string, count: number) =>
    eventually(async () => {
      const found = (await p.store.readStream(streams.monitor('churn'))).filter((e) => e.type === type);
      return found.length >= count ? found : undefined;
    }, 60_000, `${count} ${type}`) as Promise<RecordedEvent[]>;
  const predict = async (rows: Row[]) => {
    const res = await fetch(url(4, '/v1/models/churn:predict'), { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ instances: rows }) });
    expect(res.status).toBe(200);
    return (await res.json()) as { predictions: string[]; request_id: string; version: string };
  };

  beforeAll(async () => {
    p = await startInProcessServices([ingestionService, featureStoreService, trainingService, registryService, servingService, monitoringService], {
      prefix: 'monitoring',
      processEnv: (dir) => ({
        MLP_ONLINE_STORE_URL: `sqlite://${join(dir, 'online.db')}`,
        MLP_TRAINING_WORKERS: '1',
        MLP_REGISTRY_AUTO_REGISTER: 'off',
        MLP_SERVING_GRPC_PORT: '0',
        MLP_MONITORING_WINDOW: '300',
        MLP_MONITORING_PERFORMANCE_WINDOW: '100',
      }),
    });
    const rows = Array.from({ length: 400 }, () => row());
    const csv = ['tenure,monthly,plan,churned', ...rows.map((r) => `${r.tenure ?? ''},${r.monthly},${r.plan},${churned(r)}`)].join('\n') + '\n';
    expect((await fetch(url(0, '/datasets/churnds/schema'), { method: 'PUT', headers: { 'content-type': 'text/yaml' }, body: SCHEMA })).status).toBeLessThan(300);
    expect(((await (await fetch(url(0, '/datasets/churnds/upload?format=csv'), { method: 'PUT', body: csv })).json()) as IngestionOutcome).status).toBe('accepted');
    const started = await fetch(url(2, '/runs'), { method: 'POST', headers: { 'content-type': 'text/yaml' }, body: SPEC });
    const { runId } = (await started.json()) as { runId: string };
    await eventually(async () => {
      const r = (await (await fetch(url(2, `/runs/${runId}`))).json()) as { status: string };
      return r.status === 'Completed' ? r : r.status === 'Failed' ? Promise.reject(new Error(JSON.stringify(r))) : undefined;
    }, 240_000, `run ${runId}`);
    const registered = await fetch(url(3, '/models/churn/versions'), { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ runId }) });
    const { version } = (await registered.json()) as { version: number };
    await fetch(url(3, '/models/churn/aliases/production'), { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ version, reason: 'test' }) });
    await eventually(async () => (await fetch(url(4, '/v2/models/churn/ready'))).status === 200, 60_000, 'churn served');
  });
  afterAll(async () => p?.close());

  it('reports no drift on traffic like the training data, DriftDetected on shifted traffic, and the history over HTTP', async () => {
    await predict(Array.from({ length: 300 }, () => row()));
    const [quiet] = await monitorEvents('DriftReportComputed', 1);
    const q = quiet.data as EventData<'DriftReportComputed'>;
    // 300 training rows (75% of 400) in the reference sample: Evidently's small-sample tests.
    expect(q.reference.rows).toBe(300);
    expect(Object.fromEntries(q.features.map((f) => [f.name, f.method]))).toEqual({ tenure: 'ks', monthly: 'ks', plan: 'chisquare' });
    expect(q.prediction?.method).toBe('ztest');
    expect(q.datasetDrift).toBe(false);

    await predict(Array.from({ length: 300 }, () => row(true)));
    const [detected] = await monitorEvents('DriftDetected', 1);
    expect((detected.data as EventData<'DriftDetected'>).driftedFeatures).toEqual(expect.arrayContaining(['monthly', 'plan']));
    expect((detected.data as EventData<'DriftDetected'>).driftedFeatures).not.toContain('tenure');

    const history = (await (await fetch(url(5, '/monitoring/churn/drift?feature=monthly'))).json()) as { points: { drifted: boolean; method: string }[] };
    expect(history.points.map((x) => x.drifted)).toEqual([false, true]);
    const bad = await fetch(url(5, '/monitoring/churn/drift?limit=0&colour=red'));
    expect(bad.status).toBe(400);
    const body = (await bad.json()) as { code: string; details: { path: string; message: string }[]; stack?: string };
    expect(body.details).toEqual([expect.objectContaining({ path: 'limit' }), expect.objectContaining({ message: expect.stringContaining('colour') })]);
    expect(body.stack).toBeUndefined();
  });

  it('joins feedback sent through serving, evaluates the production arm, and mlp monitor prints it all', async () => {
    const rows = Array.from({ length: 100 }, () => row());
    const answer = await predict(rows);
    const labels = rows.map(churned);
    const feedback = await fetch(url(4, '/v1/feedback'), {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ items: labels.map((label, i) => ({ request_id: answer.request_id, row: i, label })) }),
    });
    expect(feedback.status).toBe(202);
    const [evaluated] = await monitorEvents('PerformanceEvaluated', 1);
    const e = evaluated.data as EventData<'PerformanceEvaluated'>;
    const correct = answer.predictions.filter((pred, i) => pred === labels[i]).length;
    expect(e).toMatchObject({ version: Number(answer.version), arm: 'production', labelled: 100, correct, seq: 100 });
    expect(e.metrics.accuracy).toBeCloseTo(correct / 100, 12);
    expect(Object.keys(e.reference)).toEqual(expect.arrayContaining(['accuracy', 'roc_auc']));

    const env: NodeJS.ProcessEnv = { ...process.env, MLP_MONITORING_URL: p.services[5].url, LOG_LEVEL: 'silent' };
    const run = (args: string[]) =>
      new Promise<{ status: number | null; stdout: string; stderr: string }>((resolve, reject) => {
        const child = spawn(process.execPath, [join(repoRoot, 'tools/cli/bin/mlp.js'), ...args], { cwd: repoRoot, env });
        let stdout = '';
        let stderr = '';
        child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
        child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
        child.on('error', reject);
        child.on('close', (status) => resolve({ status, stdout, stderr }));
      });
    const json = await run(['monitor', 'churn', '--json']);
    expect(json.stderr).toBe('');
    const out = JSON.parse(json.stdout) as { drift: { datasetDrift: boolean; features: { name: string }[] }; performance: { arm: string; labelled: number }[]; alerts: unknown[] };
    expect(out.drift.datasetDrift).toBe(true);
    expect(out.performance).toEqual([expect.objectContaining({ arm: 'production', labelled: 100 })]);
    expect(out.alerts).toEqual([]);
    const table = await run(['monitor', 'churn']);
    expect(table.status).toBe(0);
    expect(table.stdout).toMatch(/dataset drift YES/);
    expect(table.stdout).toMatch(/monthly\s+ks\s+.*DRIFT/);
    expect(table.stdout).toMatch(/production\s+100\s+accuracy/);
    expect((await run(['monitor'])).status).toBe(2);
  });

  it('after a restart reads the telemetry again from the start and appends nothing twice', async () => {
    const count = async () => {
      const events = await p.store.readStream(streams.monitor('churn'));
      return (type: string) => events.filter((e) => e.type === type).length;
    };
    const before = await count();
    expect([before('DriftReportComputed'), before('DriftDetected'), before('PerformanceEvaluated')]).toEqual([2, 1, 1]);
    await p.services[5].close();
    p.services[5] = await startService(monitoringService, { runtime: { eventStore: p.store, artifacts: p.artifacts, config: p.config } });
    // 100 rows of the feedback test are in the open window: 200 more close it, after everything stored was read again.
    await predict(Array.from({ length: 200 }, () => row()));
    const [, , third] = await monitorEvents('DriftReportComputed', 3);
    expect((third.data as EventData<'DriftReportComputed'>).window.rows).toBe(300);
    const after = await count();
    expect([after('DriftReportComputed'), after('DriftDetected'), after('PerformanceEvaluated')]).toEqual([3, 1, 1]);
  });
});
