import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { envKey, streams, type EventData, type IngestionOutcome, type ServiceName } from '@mlp/contracts';
import { JetStreamEventStore } from '@mlp/eventstore';
import { eventually, freePort, repoRoot, spawnTs, startNatsServer, startS3Server, waitForHttp, type NatsServerHandle, type RunningS3Server, type SpawnedProcess } from '@mlp/testing';

/** Auth is on in distributed mode: the bootstrap admin key, and a second key created with it (another actor). */
const ADMIN_KEY = randomBytes(24).toString('hex');

const SPEC = `experiment: penguins
task: multiclass
data: {dataset: {name: penguins}, label: species, sensitive: [sex]}
preprocessing:
  - {impute: median, columns: numeric}
  - {impute: most_frequent, columns: categorical}
  - {scale: standard, columns: numeric}
  - {encode: onehot, columns: categorical}
split: {method: stratified, test: 0.25}
model: {type: mlp, layers: [8], epochs: 25, batchSize: 32, learningRate: 0.02}
seed: 3
evaluation: {baseline: production, gate: {accuracy: {min: 0.8}}}
`;

/**
 * The registry across processes (ingestion, training and the registry each their own process, NATS JetStream
 * events, S3 artifacts, auth on): ingest → train → registered by the model's policy → approved by another key
 * → promoted → lineage naming the exact sha256 of the ingested dataset version.
 */
describe('registry across processes: ingest → train → auto-register → approve → promote → lineage', () => {
  jest.setTimeout(240_000);
  let nats: NatsServerHandle;
  let s3: RunningS3Server;
  let home: string;
  let env: NodeJS.ProcessEnv;
  let events: JetStreamEventStore;
  const ports: Record<string, number> = {};
  const processes: Record<string, SpawnedProcess> = {};
  const url = (name: string, path: string) => `http://127.0.0.1:${ports[name]}${path}`;
  const call = async (name: string, method: string, path: string, body?: unknown, key = ADMIN_KEY, contentType = 'application/json') => {
    const res = await fetch(url(name, path), {
      method,
      headers: { 'x-api-key': key, ...(body === undefined ? {} : { 'content-type': contentType }) },
      body: body === undefined ? undefined : typeof body === 'string' || Buffer.isBuffer(body) ? body : JSON.stringify(body),
    });
    const text = await res.text();
    return { status: res.status, body: text ? JSON.parse(text) : undefined };
  };

  const start = async (service: ServiceName) => {
    ports[service] = await freePort();
    processes[service] = spawnTs(`services/${service}/src/main.ts`, [], { ...env, [`MLP_${envKey(service)}_PORT`]: String(ports[service]) });
    await waitForHttp(url(service, '/health/ready'), { process: processes[service], timeoutMs: 90_000 });
  };

  beforeAll(async () => {
    [nats, s3] = await Promise.all([startNatsServer(), startS3Server()]);
    home = mkdtempSync(join(tmpdir(), 'mlp-e2e-registry-'));
    env = {
      MLP_HOME: home,
      MLP_TRANSPORT: 'nats',
      NATS_URL: nats.url,
      EVENTSTORE_URL: nats.url,
      ARTIFACTS_URL: 's3://mlp-e2e-registry',
      S3_ENDPOINT: s3.endpoint,
      S3_ACCESS_KEY: s3.accessKey,
      S3_SECRET_KEY: s3.secretKey,
      LOG_LEVEL: 'warn',
      MLP_ADMIN_KEY: ADMIN_KEY,
      MLP_TRAINING_WORKERS: '1',
    };
    await Promise.all([start('ingestion'), start('training'), start('registry')]);
    events = await JetStreamEventStore.connect({ servers: nats.url });
  });

  afterAll(async () => {
    await events?.close();
    await Promise.all(Object.values(processes).map((p) => p.kill('SIGKILL')));
    await Promise.all([nats?.stop(), s3?.stop()]);
    if (home) rmSync(home, { recursive: true, force: true });
  });

  it('promotes the auto-registered version after another actor approves it, and traces it to the ingested bytes', async () => {
    // The model's policy first: blessed runs only, production needs an approval by someone else.
    expect((await call('registry', 'POST', '/models', { name: 'penguins', description: 'species' })).status).toBe(201);
    expect((await call('registry', 'PUT', '/models/penguins/policy', { registration: 'blessed-only', approvalRequiredFor: ['production'] })).status).toBe(200);

    const schema = readFileSync(join(repoRoot, 'examples/data/penguins.schema.yaml'), 'utf8');
    expect((await call('ingestion', 'PUT', '/datasets/penguins/schema', schema, ADMIN_KEY, 'text/yaml')).status).toBeLessThan(300);
    const upload = await call('ingestion', 'PUT', '/datasets/penguins/upload?format=csv&null=NA', readFileSync(join(repoRoot, 'examples/data/penguins.csv')), ADMIN_KEY, 'text/csv');
    const outcome = upload.body as IngestionOutcome;
    expect(outcome).toMatchObject({ status: 'accepted', version: 1 });

    const started = await call('training', 'POST', '/runs', SPEC, ADMIN_KEY, 'text/yaml');
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
