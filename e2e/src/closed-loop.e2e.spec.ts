import { streams, type EventData, type RecordedEvent } from '@mlp/contracts';
import { JetStreamEventStore } from '@mlp/eventstore';
import { SeededRng } from '@mlp/ml';
import { eventually, ingestPenguins, penguinRows, penguinsSpec, penguinsTraffic, startDistributedPlatform, startLoopServices, type DistributedPlatform } from '@mlp/testing';

const rng = new SeededRng(21);
const rows = penguinRows();
const traffic = (n: number, shift = false) => penguinsTraffic(rows, rng, n, shift).map((r) => r.features);

const POLICY = `model: penguins
window: {size: 200}
performance: {metric: accuracy, minimum: 0.5, window: 20}
actions:
  onDrift: [retrain]
  onDegraded: [rollback]
  canary: {promoteAfter: 30, rollbackIf: {errorRate: 0.2}, percent: 20}
`;

/**
 * The closed loop across processes (ingestion, training, registry, serving,
 * monitoring: each its own OS process on a real nats-server and s3rver,
 * auth on): serve a model; training-like traffic → no drift; shifted traffic
 * → DriftDetected → RetrainingTriggered → a new run → a new version → a
 * canary → promoted by the policy; wrong labels → PerformanceDegraded →
 * rolled back to version 1. Every step is read back from the JetStream event store.
 */
describe('closed loop across processes: drift → retrain → canary → promote → degraded → rollback', () => {
  jest.setTimeout(600_000);
  let platform: DistributedPlatform;
  let events: JetStreamEventStore;
  let predictKey: string;

  const find = (stream: string, type: string) =>
    eventually(async () => (await events.readStream(stream)).find((e) => e.type === type), 300_000, `${type} in ${stream}`) as Promise<RecordedEvent>;
  const predictOne = async (row: Record<string, string | number | null>) => {
    const res = await platform.call('serving', 'POST', '/v1/models/penguins:predict', { instances: [row] }, { key: predictKey });
    expect(res.status).toBe(200);
  };
  const predictMany = async (rows: Record<string, string | number | null>[]) => {
    const res = await platform.call('serving', 'POST', '/v1/models/penguins:predict', { instances: rows }, { key: predictKey });
    expect(res.status).toBe(200);
  };

  beforeAll(async () => {
    platform = await startDistributedPlatform({ prefix: 'e2e-closed-loop', env: { MLP_TRAINING_WORKERS: '1', MLP_MONITORING_WINDOW: '200' } });
    await startLoopServices(platform);
    events = await JetStreamEventStore.connect({ servers: platform.nats.url });
  });
  afterAll(async () => {
    await events?.close();
    await platform?.stop();
  });

  it('retrains on drift, promotes the new version through a canary, and rolls it back when its labels degrade, by the policy', async () => {
    await ingestPenguins(platform.url('ingestion', ''), { headers: { 'x-api-key': platform.adminKey } });
    const applied = await platform.call('monitoring', 'POST', '/policies', POLICY, { contentType: 'text/yaml' });
    expect(applied.status).toBe(200);
    const firstRun = (await platform.call('training', 'POST', '/runs', penguinsSpec({ seed: 3 }), { contentType: 'text/yaml' })).body.runId as string;
    const v1 = await find(streams.model('penguins'), 'ModelVersionRegistered');
    expect(v1.data).toMatchObject({ version: 1, runId: firstRun });
    expect((await platform.call('registry', 'PUT', '/models/penguins/aliases/production', { version: 1, reason: 'e2e' })).status).toBe(200);
    predictKey = (await platform.call('registry', 'POST', '/auth/keys', { name: 'e2e-predict', scopes: ['predict'] })).body.token;
    await eventually(async () => (await platform.call('serving', 'GET', '/v2/models/penguins/ready', undefined, { key: predictKey })).status === 200, 60_000, 'penguins served');

    // Training-like traffic: a report, no drift, no trigger.
    await predictMany(traffic(200));
    const quiet = await find(streams.monitor('penguins'), 'DriftReportComputed');
    expect(quiet.data).toMatchObject({ version: 1, datasetDrift: false });
    expect((await events.readStream(streams.monitor('penguins'))).some((e) => e.type === 'RetrainingTriggered')).toBe(false);

    // Shifted traffic: drift → the policy's retrain.
    await predictMany(traffic(200, true));
    const detected = await find(streams.monitor('penguins'), 'DriftDetected');
    const trigger = await find(streams.monitor('penguins'), 'RetrainingTriggered');
    expect(trigger).toMatchObject({ causationId: detected.id, data: { model: 'penguins', reason: { kind: 'drift', version: 1 } } });
    const { triggerId } = trigger.data as EventData<'RetrainingTriggered'>;

    const started = await find(streams.retraining(triggerId), 'RetrainingRunStarted');
    const { runId, sourceRunId } = started.data as EventData<'RetrainingRunStarted'>;
    expect(sourceRunId).toBe(firstRun);
    const request = (await events.readStream(streams.run(runId)))[0];
    expect(request).toMatchObject({ type: 'TrainingRunRequested', causationId: trigger.id, correlationId: trigger.correlationId });
    await find(streams.run(runId), 'TrainingRunCompleted');
    const requested = await find(streams.retraining(triggerId), 'CanaryDeploymentRequested').catch(async (err: Error) => {
      throw new Error(`${err.message}: ${JSON.stringify((await events.readStream(streams.retraining(triggerId))).map((e) => [e.type, e.data]))}`);
    });
    expect(requested.data).toMatchObject({ model: 'penguins', version: 2, percent: 20, promoteAfter: 30 });

    const deployment = await find(streams.deployment('penguins'), 'DeploymentStarted');
    expect(deployment.data).toMatchObject({ strategy: 'canary', stableVersion: 1, candidateVersion: 2, weights: { stable: 80, candidate: 20 }, policy: { minRequests: 30, maxErrorRate: 0.2 } });

    // Traffic until serving's policy decides (30 candidate requests at 20%).
    const decided = await eventually(async () => {
      await Promise.all(traffic(40).map(predictOne));
      return (await events.readStream(streams.deployment('penguins'))).find((e) => e.type === 'DeploymentPromoted' || e.type === 'DeploymentRolledBack');
    }, 180_000, 'the canary decision');
    expect(decided).toMatchObject({ type: 'DeploymentPromoted', data: { version: 2, previousVersion: 1, by: 'policy', decision: { outcome: 'promote' } } });
    const production = (await events.readStream(streams.model('penguins'))).filter((e) => e.type === 'ModelAliasAssigned' && (e.data as { alias: string }).alias === 'production');
    expect((production.at(-1)!.data as { version: number }).version).toBe(2);

    // Labels then show version 2 wrong on its traffic: PerformanceDegraded → the policy rolls production back to 1.
    const rows = traffic(20);
    const answer = (await platform.call('serving', 'POST', '/v1/models/penguins:predict', { instances: rows }, { key: predictKey })).body as { predictions: string[]; request_id: string };
    const species = ['Adelie', 'Chinstrap', 'Gentoo'];
    const wrong = answer.predictions.map((p) => species[(species.indexOf(p) + 1) % 3]);
    const feedback = await platform.call('serving', 'POST', '/v1/feedback', { items: wrong.map((label, row) => ({ request_id: answer.request_id, row, label })) }, { key: predictKey });
    expect(feedback.status).toBe(202);
    const degraded = await find(streams.monitor('penguins'), 'PerformanceDegraded');
    expect(degraded.data).toMatchObject({ version: 2, metric: 'accuracy', value: 0 });
    const executed = await find(streams.monitor('penguins'), 'RollbackExecuted');
    expect(executed.data).toMatchObject({ model: 'penguins', registry: { ok: true }, serving: null });
    const rolledBack = (await events.readStream(streams.model('penguins'))).filter((e) => e.type === 'ModelAliasAssigned').at(-1)!;
    expect(rolledBack.data).toMatchObject({ alias: 'production', version: 1, previousVersion: 2, kind: 'rolled-back' });
    await eventually(async () => {
      const res = await platform.call('serving', 'POST', '/v1/models/penguins:predict', { instances: traffic(1) }, { key: predictKey });
      return res.status === 200 && (res.body as { version: string }).version === '1';
    }, 60_000, 'serving answers with version 1 again');

    // One trigger, one run, one version from it: nothing doubled across processes.
    const monitor = await events.readStream(streams.monitor('penguins'));
    expect(monitor.filter((e) => e.type === 'RetrainingTriggered')).toHaveLength(1);
    const versions = (await events.readStream(streams.model('penguins'))).filter((e) => e.type === 'ModelVersionRegistered');
    expect(versions.map((e) => (e.data as { runId: string }).runId)).toEqual([firstRun, runId]);
  });
});
