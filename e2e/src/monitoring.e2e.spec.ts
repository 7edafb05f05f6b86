import { streams, type EventData, type RecordedEvent } from '@mlp/contracts';
import { JetStreamEventStore } from '@mlp/eventstore';
import { SeededRng } from '@mlp/ml';
import { eventually, ingestPenguins, penguinRows, penguinsSpec, penguinsTraffic, startDistributedPlatform, startLoopServices, type DistributedPlatform } from '@mlp/testing';

const rng = new SeededRng(9);
const rows = penguinRows();
const traffic = (n: number, shift = false) => penguinsTraffic(rows, rng, n, shift);

/**
 * Monitoring across processes: ingestion, training, the registry, serving
 * and monitoring each their own OS process on a real nats-server and
 * s3rver, auth on. Serving publishes telemetry to JetStream; monitoring
 * reads it through its durable consumer and appends to the JetStream event
 * store; after kill -9 it rebuilds its open window and resumes after its last ack.
 */
describe('monitoring across processes: serve → telemetry on JetStream → drift and performance', () => {
  jest.setTimeout(400_000);
  let platform: DistributedPlatform;
  let events: JetStreamEventStore;
  let predictKey: string;

  const monitorEvents = (type: string, count: number) =>
    eventually(async () => {
      const found = (await events.readStream(streams.monitor('penguins'))).filter((e) => e.type === type);
      return found.length >= count ? found : undefined;
    }, 120_000, `${count} ${type}`) as Promise<RecordedEvent[]>;
  const predict = async (rows: { features: Record<string, string | number | null> }[]) => {
    const res = await platform.call('serving', 'POST', '/v1/models/penguins:predict', { instances: rows.map((r) => r.features) }, { key: predictKey });
    expect(res.status).toBe(200);
    return res.body as { predictions: string[]; request_id: string };
  };

  beforeAll(async () => {
    platform = await startDistributedPlatform({
      prefix: 'e2e-monitoring',
      env: { MLP_TRAINING_WORKERS: '1', MLP_REGISTRY_AUTO_REGISTER: 'off', MLP_MONITORING_WINDOW: '200', MLP_MONITORING_PERFORMANCE_WINDOW: '50' },
    });
    await startLoopServices(platform);
    events = await JetStreamEventStore.connect({ servers: platform.nats.url });
  });

  afterAll(async () => {
    await events?.close();
    await platform?.stop();
  });

  it('finds no drift in training-like traffic, DriftDetected on shifted traffic, performance from feedback, and resumes after kill -9', async () => {
    await ingestPenguins(platform.url('ingestion', ''), { headers: { 'x-api-key': platform.adminKey } });
    const started = await platform.call('training', 'POST', '/runs', penguinsSpec({ seed: 3 }), { contentType: 'text/yaml' });
    const runId = started.body.runId as string;
    await eventually(async () => {
      const r = (await platform.call('training', 'GET', `/runs/${runId}`)).body as { status: string };
      return r.status !== 'Running' && r;
    }, 240_000, 'the run to end');
    expect((await events.readStream(streams.run(runId))).map((e) => e.type)).toContain('BaselineRecorded');
    const { version } = (await platform.call('registry', 'POST', '/models/penguins/versions', { runId })).body as { version: number };
    expect((await platform.call('registry', 'PUT', '/models/penguins/aliases/production', { version, reason: 'e2e' })).status).toBe(200);
    predictKey = (await platform.call('registry', 'POST', '/auth/keys', { name: 'e2e-predict', scopes: ['predict'] })).body.token;
    await eventually(async () => (await platform.call('serving', 'GET', '/v2/models/penguins/ready', undefined, { key: predictKey })).status === 200, 60_000, 'penguins served');

    await predict(traffic(200));
    const [quiet] = await monitorEvents('DriftReportComputed', 1);
    expect(quiet.data).toMatchObject({ version, window: { rows: 200 }, datasetDrift: false, reference: { runId } });
    await predict(traffic(200, true));
    const [detected] = await monitorEvents('DriftDetected', 1);
    expect((detected.data as EventData<'DriftDetected'>).driftedFeatures).toEqual(expect.arrayContaining(['island', 'bill_length_mm', 'flipper_length_mm', 'body_mass_g']));

    const rows = traffic(50);
    const answer = await predict(rows);
    const feedback = await platform.call('serving', 'POST', '/v1/feedback', { items: rows.map((r, i) => ({ request_id: answer.request_id, row: i, label: r.species })) }, { key: predictKey });
    expect(feedback.status).toBe(202);
    const evaluated = await monitorEvents('PerformanceEvaluated', 5);
    const last = evaluated[4].data as EventData<'PerformanceEvaluated'>;
    expect(last).toMatchObject({ version, arm: 'production', labelled: 50, correct: answer.predictions.filter((p, i) => p === rows[i].species).length });

    const history = await platform.call('monitoring', 'GET', '/monitoring/penguins/drift?feature=flipper_length_mm');
    expect(history.status).toBe(200);
    expect((history.body.points as { drifted: boolean }[]).map((p) => p.drifted)).toEqual([false, true]);

    // kill -9 with a window open (the 50 rows above, all acked): the restarted process rebuilds it from its KV
    // checkpoint and the stream, resumes after its last ack, and appends nothing twice.
    await platform.processes.monitoring.kill('SIGKILL');
    await platform.start('monitoring', 'monitoring');
    await predict(traffic(200, true));
    const reports = await monitorEvents('DriftReportComputed', 3);
    expect(reports).toHaveLength(3);
    expect((reports[2].data as EventData<'DriftReportComputed'>).window).toMatchObject({ id: `${version}:count:${answer.request_id}:0`, rows: 200 });
    expect((await monitorEvents('DriftDetected', 2)).length).toBe(2);
    const all = await events.readStream(streams.monitor('penguins'));
    expect(new Set(all.map((e) => e.id)).size).toBe(all.length);
    expect(all.filter((e) => e.type === 'PerformanceEvaluated')).toHaveLength(5);
  });
});
