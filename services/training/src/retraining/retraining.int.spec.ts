import { join } from 'node:path';
import { streams, toNewEvent, type EventData, type IngestionOutcome, type RecordedEvent, type ServiceName } from '@mlp/contracts';
import { startService } from '@mlp/service-kit';
import { startInProcessServices, type InProcessServices } from '@mlp/service-kit/testing';
import { ingestionService } from '@mlp/service-ingestion';
import { monitoringService } from '@mlp/service-monitoring';
import { registryService } from '@mlp/service-registry';
import { servingService } from '@mlp/service-serving';
import { eventually } from '@mlp/testing';
import { trainingService } from '../index';
import { CHURN_SCHEMA as SCHEMA, CHURN_SPEC as SPEC, churnCsv as csv } from '../testing/churn.fixture';

jest.setTimeout(600_000);

const POLICY = `model: churn
performance: {metric: accuracy, minimum: 0.6, window: 100}
actions:
  onDrift: [retrain]
  onDegraded: [rollback]
  canary: {promoteAfter: 50, rollbackIf: {errorRate: 0.5, accuracy_drop: 0.2}}
`;

/**
 * The retraining loop on the real services in one process, driven by events:
 * DriftDetected → RetrainingTriggered (monitoring's policy) → a run from the
 * model's last spec on the newest dataset version (training's retraining
 * manager, restarted midway) → the blessed version registered → a canary of
 * it started in serving, then promoted by the policy once it answered
 * `promoteAfter` requests; degraded later, rolled back by the policy. Every
 * step is in the event store.
 */
describe('retraining process manager (in process, restart midway)', () => {
  let p: InProcessServices;
  const svc = (name: ServiceName) => p.services.find((s) => s.service === name)!;
  const url = (name: ServiceName, path: string) => `${svc(name).url}${path}`;
  const json = async <T>(res: Response | Promise<Response>): Promise<T> => (await (await res).json()) as T;
  const put = (u: string, body: string, type = 'text/yaml') => fetch(u, { method: 'PUT', headers: { 'content-type': type }, body });

  beforeAll(async () => {
    p = await startInProcessServices([ingestionService, trainingService, registryService, servingService, monitoringService], {
      prefix: 'retraining',
      env: { LOG_LEVEL: process.env.MLP_TEST_LOG_LEVEL ?? 'silent' },
      processEnv: (dir) => ({ MLP_ONLINE_STORE_URL: `sqlite://${join(dir, 'online.db')}`, MLP_TRAINING_WORKERS: '1', MLP_SERVING_GRPC_PORT: '-1', MLP_TRAINING_INSTANCE: 'training@retraining-test' }),
    });
  });
  afterAll(async () => p?.close());

  it('drift → retrain on the latest data → register → canary, surviving a training restart', async () => {
    expect((await put(url('ingestion', '/datasets/churn/schema'), SCHEMA)).status).toBeLessThan(300);
    expect((await json<IngestionOutcome>(put(url('ingestion', '/datasets/churn/upload?format=csv'), csv(160, 5), 'text/csv'))).status).toBe('accepted');
    expect((await fetch(url('monitoring', '/policies'), { method: 'POST', headers: { 'content-type': 'text/yaml' }, body: POLICY })).status).toBe(200);

    const { runId: firstRun } = await json<{ runId: string }>(fetch(url('training', '/runs'), { method: 'POST', headers: { 'content-type': 'text/yaml' }, body: SPEC }));
    const v1 = await eventually(async () => (await p.store.readStream(streams.model('churn'))).find((e) => e.type === 'ModelVersionRegistered'), 300_000, 'version 1 (auto-registered)');
    expect(v1.data).toMatchObject({ version: 1, runId: firstRun });
    expect((await put(url('registry', '/models/churn/aliases/production'), JSON.stringify({ version: 1, reason: 'first' }), 'application/json')).status).toBeLessThan(300);

    // New data arrives (dataset version 2), then the monitors find drift.
    expect((await json<IngestionOutcome>(put(url('ingestion', '/datasets/churn/upload?format=csv'), csv(160, 9, 15), 'text/csv'))).status).toBe('accepted');
    const detected = toNewEvent(
      { type: 'DriftDetected', data: { model: 'churn', version: 1, windowId: '1:count:0', driftedFeatures: ['monthly'], driftShare: 0.5, datasetDrift: true, predictionDrift: false, reportArtifactKey: `sha256/${'a'.repeat(64)}` } },
      { now: new Date().toISOString(), correlationId: 'drift-corr', causationId: null, actor: 'monitoring' },
      { codeVersion: 'test' },
    );
    await p.store.appendToStream(streams.monitor('churn'), [detected]);

    const trigger = await eventually(async () => (await p.store.readStream(streams.monitor('churn'))).find((e) => e.type === 'RetrainingTriggered'), 60_000, 'RetrainingTriggered');
    const { triggerId } = trigger.data as EventData<'RetrainingTriggered'>;
    const retraining = () => p.store.readStream(streams.retraining(triggerId));
    const started = await eventually(async () => (await retraining()).find((e) => e.type === 'RetrainingRunStarted'), 60_000, 'RetrainingRunStarted');
    const { runId, sourceRunId } = started.data as EventData<'RetrainingRunStarted'>;
    expect(sourceRunId).toBe(firstRun);

    // Restart training while the run is in flight: the run resumes, nothing starts twice.
    const i = p.services.indexOf(svc('training'));
    await p.services[i].close();
    p.services[i] = await startService(trainingService, { runtime: { eventStore: p.store, artifacts: p.artifacts, config: p.config } });

    const requested = await eventually(async () => {
      const events = await retraining();
      return events.find((e) => e.type === 'CanaryDeploymentRequested' || e.type === 'RetrainingEnded');
    }, 400_000, 'the end of the retraining loop').catch(async (err: Error) => {
      const runEvents = (await p.store.readStream(streams.run(runId))).map((e) => e.type);
      throw new Error(`${err.message}; retraining: ${JSON.stringify((await retraining()).map((e) => e.data))}; run: ${runEvents.join(',')}`);
    });
    expect(requested.data).toMatchObject({ triggerId, model: 'churn', version: 2, percent: 10, promoteAfter: 50, rollbackIf: { errorRate: 0.5, accuracy_drop: 0.2 } });

    // The run: trained on dataset version 2, caused by the trigger, in the drift's correlation.
    const run = await p.store.readStream(streams.run(runId));
    const request = run.find((e) => e.type === 'TrainingRunRequested') as RecordedEvent;
    expect((request.data as EventData<'TrainingRunRequested'>).inputs[0].ref).toBe('dataset:churn@2');
    expect(request).toMatchObject({ causationId: trigger.id, correlationId: 'drift-corr' });
    expect(run.filter((e) => e.type === 'TrainingRunRequested')).toHaveLength(1);

    const versions = (await p.store.readStream(streams.model('churn'))).filter((e) => e.type === 'ModelVersionRegistered');
    expect(versions.map((e) => [(e.data as { version: number }).version, (e.data as { runId: string }).runId])).toEqual([
      [1, firstRun],
      [2, runId],
    ]);
    expect((await retraining()).map((e) => e.type)).toEqual(['RetrainingRunStarted', 'RetrainingVersionRegistered', 'CanaryDeploymentRequested']);

    // Serving started the canary with the policy's rules.
    const deployment = await eventually(async () => (await p.store.readStream(streams.deployment('churn'))).find((e) => e.type === 'DeploymentStarted'), 60_000, 'DeploymentStarted');
    expect(deployment.data).toMatchObject({ model: 'churn', strategy: 'canary', stableVersion: 1, candidateVersion: 2, weights: { stable: 90, candidate: 10 }, policy: { minRequests: 50, maxErrorRate: 0.5 } });
    const bound = (deployment.data as EventData<'DeploymentStarted'>).policy!.metrics;
    expect(bound).toEqual([{ metric: 'accuracy', op: '>=', value: (v1.data as { metrics: { accuracy: number } }).metrics.accuracy - 0.2 }]);

    // Traffic: the canary answers its share; after promoteAfter (minRequests) candidate requests, serving's policy decides.
    const ended = async () => (await p.store.readStream(streams.deployment('churn'))).find((e) => e.type === 'DeploymentPromoted' || e.type === 'DeploymentRolledBack');
    const predict = () => fetch(url('serving', '/v1/models/churn:predict'), { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ instances: [{ tenure: 12.5, monthly: 70 }] }) });
    const decided = await eventually(async () => {
      await Promise.all(Array.from({ length: 50 }, predict));
      return ended();
    }, 120_000, 'the canary decision');
    expect(decided.type).toBe('DeploymentPromoted');
    expect(decided.data).toMatchObject({ model: 'churn', version: 2, previousVersion: 1, by: 'policy', decision: { outcome: 'promote' } });
    expect((decided.data as EventData<'DeploymentPromoted'>).decision!.requests).toBeGreaterThanOrEqual(50);
    const production = (await p.store.readStream(streams.model('churn'))).filter((e) => e.type === 'ModelAliasAssigned' && (e.data as { alias: string }).alias === 'production');
    expect((production.at(-1)!.data as { version: number }).version).toBe(2);

    // Later, labels show version 2 below the policy's floor: the policy rolls back through the registry, serving follows the alias.
    const degraded = toNewEvent(
      { type: 'PerformanceDegraded', data: { model: 'churn', version: 2, arm: 'stable', metric: 'accuracy', value: 0.41, reference: 0.9, rule: 'accuracy 0.41 < minimum 0.6', windowSeq: 100 } },
      { now: new Date().toISOString(), correlationId: 'perf-corr', causationId: null, actor: 'monitoring' },
      { codeVersion: 'test' },
    );
    await p.store.appendToStream(streams.monitor('churn'), [degraded]);
    const executed = await eventually(async () => (await p.store.readStream(streams.monitor('churn'))).find((e) => e.type === 'RollbackExecuted'), 60_000, 'RollbackExecuted');
    expect(executed.data).toMatchObject({ model: 'churn', registry: { ok: true }, serving: null });
    const requestedRollback = (await p.store.readStream(streams.monitor('churn'))).find((e) => e.type === 'RollbackRequested')!;
    expect(requestedRollback.data).toMatchObject({ condition: 'degraded', version: 2, cause: { eventId: degraded.id, type: 'PerformanceDegraded' } });
    const moved = (await p.store.readStream(streams.model('churn'))).filter((e) => e.type === 'ModelAliasAssigned' && (e.data as { alias: string }).alias === 'production').at(-1)!;
    expect(moved.data).toMatchObject({ version: 1 });
    expect(moved.correlationId).toBe('perf-corr');
  });
});
