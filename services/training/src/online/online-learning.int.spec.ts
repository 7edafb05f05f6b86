import { join } from 'node:path';
import { streams, type EventData, type IngestionOutcome, type ServiceName } from '@mlp/contracts';
import { startInProcessServices, type InProcessServices } from '@mlp/service-kit/testing';
import { ingestionService } from '@mlp/service-ingestion';
import { monitoringService } from '@mlp/service-monitoring';
import { registryService } from '@mlp/service-registry';
import { servingService } from '@mlp/service-serving';
import { eventually } from '@mlp/testing';
import { trainingService } from '../index';
import { CHURN_SCHEMA as SCHEMA, CHURN_SPEC as SPEC, churnCsv, churnRows as rows } from '../testing/churn.fixture';
import { artifactSha } from './online.fixture';

jest.setTimeout(600_000);

const POLICY = `model: churn
onlineLearning: {enabled: true, minLabels: 50, minIntervalMinutes: 60}
`;

/**
 * Online learning on the real services in one process: predictions and
 * feedback (through serving's telemetry) for a model whose policy enables it
 * → OnlineUpdateRequested (monitoring) → a run continued from the served
 * version's weights (training) → version 2 in the registry through the
 * retraining path; version 1's artifacts unchanged, production still on 1.
 */
describe('online learning (in process)', () => {
  let p: InProcessServices;
  const url = (name: ServiceName, path: string) => `${p.services.find((s) => s.service === name)!.url}${path}`;
  const send = (u: string, body: string, type: string, method = 'PUT') => fetch(u, { method, headers: { 'content-type': type }, body });

  beforeAll(async () => {
    p = await startInProcessServices([ingestionService, trainingService, registryService, servingService, monitoringService], {
      prefix: 'online',
      env: { LOG_LEVEL: process.env.MLP_TEST_LOG_LEVEL ?? 'silent' },
      processEnv: (dir) => ({ MLP_ONLINE_STORE_URL: `sqlite://${join(dir, 'online.db')}`, MLP_TRAINING_WORKERS: '1', MLP_SERVING_GRPC_PORT: '-1' }),
    });
  });
  afterAll(async () => p?.close());

  it('feedback → OnlineUpdateRequested → a run from the served weights → version 2, the served version untouched', async () => {
    const csv = churnCsv(160, 5);
    expect((await send(url('ingestion', '/datasets/churn/schema'), SCHEMA, 'text/yaml')).status).toBeLessThan(300);
    expect(((await (await send(url('ingestion', '/datasets/churn/upload?format=csv'), csv, 'text/csv')).json()) as IngestionOutcome).status).toBe('accepted');
    expect((await send(url('monitoring', '/policies'), POLICY, 'text/yaml', 'POST')).status).toBe(200);
    await send(url('training', '/runs'), SPEC, 'text/yaml', 'POST');
    const v1 = await eventually(async () => (await p.store.readStream(streams.model('churn'))).find((e) => e.type === 'ModelVersionRegistered'), 300_000, 'version 1');
    const served = v1.data as EventData<'ModelVersionRegistered'>;
    expect((await send(url('registry', '/models/churn/aliases/production'), JSON.stringify({ version: 1, reason: 'first' }), 'application/json')).status).toBeLessThan(300);
    await eventually(async () => (await fetch(url('serving', '/v2/models/churn/ready'))).status === 200, 60_000, 'churn served');
    const before = await Promise.all([served.artifacts.model, served.artifacts.weights!, served.artifacts.preprocessing].map((k) => artifactSha(p.artifacts, k)));

    // Traffic, then labels that say the opposite of the rule the model learnt (the concept flipped).
    const traffic = rows(60, 9);
    const answer = (await (
      await send(url('serving', '/v1/models/churn:predict'), JSON.stringify({ instances: traffic.map(({ tenure, monthly }) => ({ tenure, monthly })) }), 'application/json', 'POST')
    ).json()) as { request_id: string };
    const items = traffic.map((r, i) => ({ request_id: answer.request_id, row: i, label: r.churned === 'yes' ? 'no' : 'yes' }));
    expect((await send(url('serving', '/v1/feedback'), JSON.stringify({ items }), 'application/json', 'POST')).status).toBe(202);

    const requested = await eventually(async () => (await p.store.readStream(streams.monitor('churn'))).find((e) => e.type === 'OnlineUpdateRequested'), 120_000, 'OnlineUpdateRequested');
    expect(requested.data).toMatchObject({ model: 'churn', version: 1, rows: 50 });
    const v2 = await eventually(async () => (await p.store.readStream(streams.model('churn'))).filter((e) => e.type === 'ModelVersionRegistered')[1], 300_000, 'version 2').catch(async (err: Error) => {
      const retraining = (await p.store.readAll({ fromPosition: 1, maxCount: 10_000, filter: { category: 'retraining' } })).map((e) => [e.type, e.data]);
      throw new Error(`${err.message}; retraining: ${JSON.stringify(retraining)}`);
    });
    const next = v2.data as EventData<'ModelVersionRegistered'>;
    const run = await p.store.readStream(streams.run(next.runId));
    const request = run.find((e) => e.type === 'TrainingRunRequested')!.data as EventData<'TrainingRunRequested'>;
    expect(request.inputs).toContainEqual({ ref: 'model:churn@1', sha256: served.weightsSha256 });
    expect(request.data.artifactKey).toBe((requested.data as EventData<'OnlineUpdateRequested'>).rowsArtifactKey);
    expect(next.weightsSha256).not.toBe(served.weightsSha256);
    // Served artifacts unchanged; serving changes only if an alias moves.
    expect(await Promise.all([served.artifacts.model, served.artifacts.weights!, served.artifacts.preprocessing].map((k) => artifactSha(p.artifacts, k)))).toEqual(before);
    // The retraining path took it from there: registered, then a canary of version 2 was asked for (the policy has no canary rules: serving's defaults).
    const started = (await p.store.readAll({ fromPosition: 1, maxCount: 10_000, filter: { category: 'retraining' } })).find((e) => e.type === 'RetrainingRunStarted')!;
    const { triggerId } = started.data as EventData<'RetrainingRunStarted'>;
    const loop = await eventually(async () => {
      const events = await p.store.readStream(streams.retraining(triggerId));
      return events.some((e) => e.type === 'CanaryDeploymentRequested' || e.type === 'RetrainingEnded') && events;
    }, 60_000, 'the end of the loop');
    expect(loop.map((e) => e.type)).toEqual(['RetrainingRunStarted', 'RetrainingVersionRegistered', 'CanaryDeploymentRequested']);
    expect(loop[2].data).toMatchObject({ model: 'churn', version: 2 });
    const production = (await p.store.readStream(streams.model('churn'))).filter((e) => e.type === 'ModelAliasAssigned' && (e.data as { alias: string }).alias === 'production');
    expect((production.at(-1)!.data as { version: number }).version).toBe(1);
  });
});
