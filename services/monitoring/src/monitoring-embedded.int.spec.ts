import { join } from 'node:path';
import { streams, type EventData, type RecordedEvent } from '@mlp/contracts';
import { SeededRng } from '@mlp/ml';
import { startService } from '@mlp/service-kit';
import { startInProcessServices, type InProcessServices } from '@mlp/service-kit/testing';
import { featureStoreService } from '@mlp/service-feature-store';
import { ingestionService } from '@mlp/service-ingestion';
import { registryService } from '@mlp/service-registry';
import { servingService } from '@mlp/service-serving';
import { trainingService } from '@mlp/service-training';
import { eventually, ingestPenguins, penguinRows, penguinsSpec, penguinsTraffic, runMlp } from '@mlp/testing';
import { monitoringService } from './index';

jest.setTimeout(300_000);

/** Penguins rows resampled as traffic (the shared fixture): drawn from the training distribution, or shifted. */
const rng = new SeededRng(5);
const penguins = penguinRows();
const sample = (n: number, shift = false) => penguinsTraffic(penguins, rng, n, shift);
type Row = ReturnType<typeof sample>[number]['features'];

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
      const found = (await p.store.readStream(streams.monitor('penguins'))).filter((e) => e.type === type);
      return found.length >= count ? found : undefined;
    }, 60_000, `${count} ${type}`) as Promise<RecordedEvent[]>;
  const predict = async (rows: { features: Row }[]) => {
    const res = await fetch(url(4, '/v1/models/penguins:predict'), { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ instances: rows.map((r) => r.features) }) });
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
    await ingestPenguins(p.services[0].url);
    const started = await fetch(url(2, '/runs'), { method: 'POST', headers: { 'content-type': 'text/yaml' }, body: penguinsSpec({ seed: 11 }) });
    const { runId } = (await started.json()) as { runId: string };
    await eventually(async () => {
      const r = (await (await fetch(url(2, `/runs/${runId}`))).json()) as { status: string };
      return r.status === 'Completed' ? r : r.status === 'Failed' ? Promise.reject(new Error(JSON.stringify(r))) : undefined;
    }, 240_000, `run ${runId}`);
    const registered = await fetch(url(3, '/models/penguins/versions'), { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ runId }) });
    const { version } = (await registered.json()) as { version: number };
    await fetch(url(3, '/models/penguins/aliases/production'), { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ version, reason: 'test' }) });
    await eventually(async () => (await fetch(url(4, '/v2/models/penguins/ready'))).status === 200, 60_000, 'penguins served');
  });
  afterAll(async () => p?.close());

  it('reports no drift on traffic like the training data, DriftDetected on shifted traffic, and the history over HTTP', async () => {
    await predict(sample(300));
    const [quiet] = await monitorEvents('DriftReportComputed', 1);
    const q = quiet.data as EventData<'DriftReportComputed'>;
    // 256 training rows (75% of 342) in the reference sample: Evidently's small-sample tests.
    expect(q.reference.rows).toBe(256);
    expect(Object.fromEntries(q.features.map((f) => [f.name, f.method]))).toEqual({
      island: 'chisquare', bill_length_mm: 'ks', bill_depth_mm: 'ks', flipper_length_mm: 'ks', body_mass_g: 'ks', sex: 'ztest',
    });
    expect(q.prediction?.method).toBe('chisquare');
    expect(q.datasetDrift).toBe(false);

    await predict(sample(300, true));
    const [detected] = await monitorEvents('DriftDetected', 1);
    const d = detected.data as EventData<'DriftDetected'>;
    expect(d.driftedFeatures).toEqual(expect.arrayContaining(['island', 'bill_length_mm', 'flipper_length_mm', 'body_mass_g']));
    expect(d.driftedFeatures).not.toContain('bill_depth_mm');

    const history = (await (await fetch(url(5, '/monitoring/penguins/drift?feature=bill_length_mm'))).json()) as { points: { drifted: boolean; method: string }[] };
    expect(history.points.map((x) => x.drifted)).toEqual([false, true]);
    const bad = await fetch(url(5, '/monitoring/penguins/drift?limit=0&colour=red'));
    expect(bad.status).toBe(400);
    const body = (await bad.json()) as { code: string; details: { path: string; message: string }[]; stack?: string };
    expect(body.details).toEqual([expect.objectContaining({ path: 'limit' }), expect.objectContaining({ message: expect.stringContaining('colour') })]);
    expect(body.stack).toBeUndefined();
  });

  it('joins feedback sent through serving, evaluates the production arm, and mlp monitor prints it all', async () => {
    const rows = sample(100);
    const answer = await predict(rows);
    const labels = rows.map((r) => r.species);
    const feedback = await fetch(url(4, '/v1/feedback'), {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ items: labels.map((label, i) => ({ request_id: answer.request_id, row: i, label })) }),
    });
    expect(feedback.status).toBe(202);
    // A sliding window of 100 labels moving by 20: the fifth evaluation covers all of them.
    const evaluated = await monitorEvents('PerformanceEvaluated', 5);
    expect(evaluated.map((x) => (x.data as EventData<'PerformanceEvaluated'>).labelled)).toEqual([20, 40, 60, 80, 100]);
    const e = evaluated[4].data as EventData<'PerformanceEvaluated'>;
    const correct = answer.predictions.filter((pred, i) => pred === labels[i]).length;
    expect(e).toMatchObject({ version: Number(answer.version), arm: 'production', labelled: 100, correct, seq: 100 });
    expect(e.metrics.accuracy).toBeCloseTo(correct / 100, 12);
    expect(Object.keys(e.reference)).toEqual(expect.arrayContaining(['accuracy', 'f1_macro']));

    const env: NodeJS.ProcessEnv = { MLP_MONITORING_URL: p.services[5].url, LOG_LEVEL: 'silent' };
    const run = (args: string[]) => runMlp(args, env);
    const json = await run(['monitor', 'penguins', '--json']);
    expect(json.stderr).toBe('');
    const out = JSON.parse(json.stdout) as { drift: { datasetDrift: boolean; features: { name: string }[] }; performance: { arm: string; labelled: number }[]; alerts: unknown[] };
    expect(out.drift.datasetDrift).toBe(true);
    expect(out.performance).toEqual([expect.objectContaining({ arm: 'production', labelled: 100 })]);
    expect(out.alerts).toEqual([]);
    const table = await run(['monitor', 'penguins']);
    expect(table.status).toBe(0);
    expect(table.stdout).toMatch(/dataset drift YES/);
    expect(table.stdout).toMatch(/bill_length_mm\s+ks\s+.*DRIFT/);
    expect(table.stdout).toMatch(/production\s+100\s+accuracy/);
    expect((await run(['monitor'])).status).toBe(2);
  });

  it('after a restart reads the telemetry again from the start and appends nothing twice', async () => {
    const count = async () => {
      const events = await p.store.readStream(streams.monitor('penguins'));
      return (type: string) => events.filter((e) => e.type === type).length;
    };
    const before = await count();
    expect([before('DriftReportComputed'), before('DriftDetected'), before('PerformanceEvaluated')]).toEqual([2, 1, 5]);
    await p.services[5].close();
    p.services[5] = await startService(monitoringService, { runtime: { eventStore: p.store, artifacts: p.artifacts, config: p.config } });
    // 100 rows of the feedback test are in the open window: 200 more close it, after everything stored was read again.
    await predict(sample(200));
    const [, , third] = await monitorEvents('DriftReportComputed', 3);
    expect((third.data as EventData<'DriftReportComputed'>).window.rows).toBe(300);
    const after = await count();
    expect([after('DriftReportComputed'), after('DriftDetected'), after('PerformanceEvaluated')]).toEqual([3, 1, 5]);
  });
});
