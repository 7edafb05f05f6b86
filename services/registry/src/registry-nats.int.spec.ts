import {
  IllegalStateError,
  NotFoundError,
  streams,
  subjects,
  toNewEvent,
  validateEventData,
  type AliasHistoryEntry,
  type ModelVersionView,
  type RegisteredModelView,
} from '@mlp/contracts';
import type { MlpClient } from '@mlp/messaging';
import { startInProcessServicesOverNats, type InProcessServices, type InProcessServicesOverNats } from '@mlp/service-kit/testing';
import { registryService } from './index';

const hex = (c: string) => c.repeat(64);
const meta = { now: '2026-01-01T00:00:00.000Z', correlationId: 'seed', causationId: null, actor: 'seed' };

/** A completed training run (requested + completed) with a stored preprocessing bundle: what registering by hand reads. */
async function seedRun(p: InProcessServices, runId: string, accuracy: number): Promise<void> {
  const bundle = { kind: 'mlp.preprocessing', task: 'binary', label: 'churned', inputColumns: ['age', 'plan'], featureNames: ['age', 'plan=a'], classes: [0, 1] };
  const { key } = await p.artifacts.put(Buffer.from(JSON.stringify(bundle)), { contentType: 'application/json' });
  const events = [
    toNewEvent(
      {
        type: 'TrainingRunRequested',
        data: validateEventData('TrainingRunRequested', {
          runId,
          experiment: 'churn',
          spec: {},
          seed: 1,
          inputs: [],
          data: { artifactKey: `sha256/${hex('d')}`, sha256: hex('d'), rows: 10 },
          featureViews: [],
          backend: 'cpu',
          simd: false,
          libraries: {},
          codeVersion: 'test',
          coordinator: 'test',
        }),
      },
      meta,
      { codeVersion: 'test' },
    ) as never,
    toNewEvent(
      {
        type: 'TrainingRunCompleted',
        data: validateEventData('TrainingRunCompleted', {
          runId,
          params: { lr: 0.01 },
          metrics: { accuracy },
          modelArtifactKey: `sha256/${hex('a')}`,
          weightsArtifactKey: `sha256/${hex('b')}`,
          weightsSha256: hex('b'),
          preprocessingArtifactKey: key,
          reportArtifactKey: `sha256/${hex('c')}`,
          modelCardArtifactKey: `sha256/${hex('e')}`,
          blessed: false,
        }),
      },
      meta,
      { codeVersion: 'test' },
    ) as never,
  ];
  await p.store.appendToStream(streams.run(runId), events, { expectedRevision: 'no_stream' });
}

/** The registry's command and query handlers called over a real nats-server through MlpClient, as other services call them. */
describe('registry over NATS (MlpClient round trips)', () => {
  jest.setTimeout(60_000);
  let p: InProcessServicesOverNats;
  let client: MlpClient;

  beforeAll(async () => {
    p = await startInProcessServicesOverNats([registryService], { prefix: 'registry-nats', caller: 'serving', processEnv: () => ({ MLP_REGISTRY_AUTO_REGISTER: 'off' }) });
    client = p.client;
    await seedRun(p, 'run-nats-1', 0.91);
    await seedRun(p, 'run-nats-2', 0.93);
  });
  afterAll(async () => p?.close());

  it('creates a model, registers versions by hand, assigns and moves an alias, and reads it all back', async () => {
    const created = await client.send<RegisteredModelView>(subjects.cmd.registry.createModel, { name: 'churn', description: 'over nats', tags: { team: 'growth' } });
    expect(created).toMatchObject({ name: 'churn', description: 'over nats', tags: { team: 'growth' } });
    expect(created.revision).toEqual(expect.any(Number));

    const v1 = await client.send<ModelVersionView>(subjects.cmd.registry.registerVersion, { name: 'churn', runId: 'run-nats-1', tags: { why: 'first' } });
    expect(v1).toMatchObject({ name: 'churn', version: 1, runId: 'run-nats-1', source: 'manual', blessed: false, experiment: 'churn', tags: { why: 'first' } });
    expect(v1.metrics.accuracy).toBe(0.91);
    expect(v1.signature.inputs.map((i) => i.name)).toEqual(['age', 'plan']);
    const v2 = await client.send<ModelVersionView>(subjects.cmd.registry.registerVersion, { name: 'churn', runId: 'run-nats-2' });
    expect(v2).toMatchObject({ version: 2, runId: 'run-nats-2' });
    expect(v2.metrics.accuracy).toBe(0.93);

    const assigned = await client.send<{ alias: string; version: number; previousVersion: number | null; kind: string; reason: string }>(subjects.cmd.registry.assignAlias, {
      name: 'churn',
      alias: 'staging',
      version: 1,
      reason: 'first try',
    });
    expect(assigned).toMatchObject({ alias: 'staging', version: 1, previousVersion: null, kind: 'assigned', reason: 'first try' });
    const moved = await client.send<{ version: number; previousVersion: number | null; kind: string }>(subjects.cmd.registry.assignAlias, {
      name: 'churn',
      alias: 'staging',
      version: 2,
      reason: 'better',
    });
    expect(moved).toMatchObject({ version: 2, previousVersion: 1, kind: 'moved' });

    const history = await client.send<{ name: string; alias: string; current: number | null; history: AliasHistoryEntry[] }>(subjects.qry.registry.aliasHistory, { name: 'churn', alias: 'staging' });
    expect(history).toMatchObject({ name: 'churn', alias: 'staging', current: 2 });
    expect(history.history.map((h) => [h.version, h.reason])).toEqual(expect.arrayContaining([[1, 'first try'], [2, 'better']]));
    expect(history.history).toHaveLength(2);
    expect(history.history.find((h) => h.version === 1)?.ended).toMatchObject({ kind: 'moved', reason: 'better', by: 2 });

    const model = await client.send<RegisteredModelView>(subjects.qry.registry.getModel, { name: 'churn' });
    expect(model).toMatchObject({ name: 'churn', aliases: { staging: 2 }, latestVersion: 2, versions: 2 });
    const { models } = await client.send<{ models: RegisteredModelView[] }>(subjects.qry.registry.listModels, {});
    expect(models.map((m) => m.name)).toEqual(['churn']);
    const { versions } = await client.send<{ versions: ModelVersionView[] }>(subjects.qry.registry.listVersions, { name: 'churn' });
    expect(versions.map((v) => [v.version, v.runId]).sort()).toEqual([[1, 'run-nats-1'], [2, 'run-nats-2']]);
    const got = await client.send<ModelVersionView>(subjects.qry.registry.getVersion, { name: 'churn', version: 2 });
    expect(got).toMatchObject({ version: 2, runId: 'run-nats-2', aliases: ['staging'] });
  });

  it('rebuilds the typed domain errors on the caller side', async () => {
    const unknownVersion = await client.send(subjects.cmd.registry.assignAlias, { name: 'churn', alias: 'staging', version: 99 }).catch((e: unknown) => e);
    expect(unknownVersion).toBeInstanceOf(NotFoundError);
    expect(unknownVersion).toMatchObject({ code: 'VERSION_NOT_FOUND', details: { name: 'churn', version: 99 } });

    const unknownRun = await client.send(subjects.cmd.registry.registerVersion, { name: 'churn', runId: 'no-such-run' }).catch((e: unknown) => e);
    expect(unknownRun).toBeInstanceOf(NotFoundError);
    expect(unknownRun).toMatchObject({ code: 'RUN_NOT_FOUND', details: { runId: 'no-such-run' } });

    const again = await client.send(subjects.cmd.registry.registerVersion, { name: 'churn', runId: 'run-nats-1' }).catch((e: unknown) => e);
    expect(again).toBeInstanceOf(IllegalStateError);
    expect(again).toMatchObject({ code: 'RUN_ALREADY_REGISTERED' });

    // Nothing was recorded by the failed commands: the alias still points at version 2.
    const model = await client.send<RegisteredModelView>(subjects.qry.registry.getModel, { name: 'churn' });
    expect(model.aliases).toEqual({ staging: 2 });
  });
});
