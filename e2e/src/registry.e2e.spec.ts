import { streams, type EventData } from '@mlp/contracts';
import { JetStreamEventStore } from '@mlp/eventstore';
import { eventually, ingestPenguins, penguinsSpec, startDistributedPlatform, type DistributedPlatform } from '@mlp/testing';

const SPEC = penguinsSpec({ sensitive: true, seed: 3, evaluation: '{baseline: production, gate: {accuracy: {min: 0.8}}}' });

/**
 * The registry across processes (ingestion, training and the registry each their own process, NATS JetStream
 * events, S3 artifacts, auth on): ingest → train → registered by the model's policy → approved by another key
 * → promoted → lineage naming the exact sha256 of the ingested dataset version.
 */
describe('registry across processes: ingest → train → auto-register → approve → promote → lineage', () => {
  jest.setTimeout(240_000);
  let platform: DistributedPlatform;
  let events: JetStreamEventStore;
  const call = (name: string, method: string, path: string, body?: unknown, key?: string, contentType?: string) => platform.call(name, method, path, body, { key, contentType });

  beforeAll(async () => {
    platform = await startDistributedPlatform({ prefix: 'e2e-registry', env: { MLP_TRAINING_WORKERS: '1' } });
    await Promise.all([platform.start('ingestion', 'ingestion'), platform.start('training', 'training'), platform.start('registry', 'registry')]);
    events = await JetStreamEventStore.connect({ servers: platform.nats.url });
  });

  afterAll(async () => {
    await events?.close();
    await platform?.stop();
  });

  it('promotes the auto-registered version after another actor approves it, and traces it to the ingested bytes', async () => {
    // The model's policy first: blessed runs only, production needs an approval by someone else.
    expect((await call('registry', 'POST', '/models', { name: 'penguins', description: 'species' })).status).toBe(201);
    expect((await call('registry', 'PUT', '/models/penguins/policy', { registration: 'blessed-only', approvalRequiredFor: ['production'] })).status).toBe(200);

    const outcome = await ingestPenguins(platform.url('ingestion', ''), { headers: { 'x-api-key': platform.adminKey } });
    expect(outcome).toMatchObject({ status: 'accepted', version: 1 });

    const started = await call('training', 'POST', '/runs', SPEC, undefined, 'text/yaml');
    expect(started.status).toBe(202);
    const runId = started.body.runId as string;
    const run = await eventually(async () => {
      const r = (await call('training', 'GET', `/runs/${runId}`)).body as { status: string; blessed?: boolean; error?: string };
      return r.status !== 'Running' && r;
    }, 200_000, 'the run to end');
    expect(run).toMatchObject({ status: 'Completed', blessed: true });

    // Registered by the registry's process manager, in its own process, from the events on JetStream.
    const version = await eventually(async () => {
      const r = await call('registry', 'GET', '/models/penguins/versions/1');
      return r.status === 200 && r.body;
    }, 60_000, 'version 1 registered');
    expect(version).toMatchObject({ runId, source: 'auto', blessed: true, createdBy: 'process-manager:registry.registration' });
    expect(version.signature.outputs[0].classes).toEqual(['Adelie', 'Chinstrap', 'Gentoo']);

    // Promotion by the admin key alone is refused; another key approves; then the admin key promotes.
    const refused = await call('registry', 'PUT', '/models/penguins/aliases/production', { version: 1, reason: 'launch' });
    expect(refused.status).toBe(409);
    expect(refused.body.code).toBe('APPROVAL_REQUIRED');
    const approver = await call('registry', 'POST', '/auth/keys', { name: 'approver', scopes: ['write'] });
    expect(approver.status).toBe(201);
    const approved = await call('registry', 'POST', '/models/penguins/versions/1/approvals', { alias: 'production', reason: 'reviewed the card' }, approver.body.token);
    expect(approved.status).toBe(201);
    expect(approved.body.approvals).toEqual([{ alias: 'production', approvedBy: `apikey:${approver.body.id}`, reason: 'reviewed the card', at: expect.any(String) }]);
    const promoted = await call('registry', 'PUT', '/models/penguins/aliases/production', { version: 1, reason: 'launch' });
    expect(promoted.status).toBe(200);
    expect(promoted.body).toMatchObject({ alias: 'production', version: 1, kind: 'assigned', actor: 'apikey:env-admin' });

    // The event serving and monitoring will subscribe to, on JetStream.
    const modelEvents = await events.readStream(streams.model('penguins'));
    expect(modelEvents.map((e) => e.type)).toEqual(['RegisteredModelCreated', 'RegistrationPolicySet', 'ModelVersionRegistered', 'ModelVersionApproved', 'ModelAliasAssigned']);
    expect(modelEvents[2].causationId).toBe((await events.readStream(streams.run(runId))).find((e) => e.type === 'TrainingRunCompleted')!.id);

    // Lineage: the graph names the exact sha256 of the ingested dataset version.
    const ingested = (await events.readStream(streams.dataset('penguins'))).find((e) => e.type === 'DatasetVersionIngested')!.data as EventData<'DatasetVersionIngested'>;
    expect(ingested.sha256).toBe(outcome.sha256);
    const graph = (await call('registry', 'GET', '/lineage/models/penguins/versions/1')).body as { nodes: { id: string; type: string; sha256?: string; runId?: string; aliases?: { alias: string; to: string | null }[] }[] };
    expect(graph.nodes.find((n) => n.id === 'dataset:penguins@1')).toMatchObject({ type: 'dataset-version', sha256: outcome.sha256 });
    expect(graph.nodes.find((n) => n.type === 'run')).toMatchObject({ runId });
    expect(graph.nodes.find((n) => n.type === 'model-version')!.aliases).toMatchObject([{ alias: 'production', to: null }]);
    const reverse = (await call('registry', 'GET', '/lineage/datasets/penguins/versions/1/models')).body;
    expect(reverse.models).toMatchObject([{ name: 'penguins', version: 1, aliases: ['production'] }]);
  });
});
