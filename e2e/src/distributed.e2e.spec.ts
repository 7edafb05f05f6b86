import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createArtifactStore } from '@mlp/artifacts';
import { serviceNames, subjects, type CreatedApiKey, type IngestionOutcome, type OnlineFeaturesResponse, type RecordedEvent, type RegisteredModelView, type ServiceName } from '@mlp/contracts';
import { JetStreamEventStore } from '@mlp/eventstore';
import { MlpClient } from '@mlp/messaging';
import { eventually, repoRoot, startDistributedPlatform, type DistributedPlatform } from '@mlp/testing';

/**
 * Distributed mode for real: six services as six processes, commands and
 * queries over NATS, events in JetStream, artifacts on an S3 server.
 */
describe('distributed platform (six processes, NATS, JetStream, S3)', () => {
  jest.setTimeout(120_000);
  let platform: DistributedPlatform;
  let ADMIN_KEY: string;
  let events: JetStreamEventStore;
  let client: MlpClient;

  const url = (service: ServiceName, path: string) => platform.url(service, path);
  /** Every request carries the bootstrap admin key (health, metrics and docs stay open without one). */
  const fetch = (input: string, init: RequestInit = {}) => globalThis.fetch(input, { ...init, headers: { ...(init.headers as Record<string, string> | undefined), 'x-api-key': ADMIN_KEY } });
  const start = (service: ServiceName) => platform.start(service, service);

  beforeAll(async () => {
    // Ingestion reads file sources only under its roots: here the bundled examples.
    platform = await startDistributedPlatform({ prefix: 'mlp-e2e', env: { MLP_INGEST_ROOTS: join(repoRoot, 'examples/data') } });
    ADMIN_KEY = platform.adminKey;
    await Promise.all(serviceNames.map(start));
    events = await JetStreamEventStore.connect({ servers: platform.nats.url });
    client = new MlpClient({ MLP_TRANSPORT: 'nats', NATS_URL: platform.nats.url });
  });

  afterAll(async () => {
    await client?.close();
    await events?.close();
    await platform?.stop();
  });

  const createModel = async (name: string) => {
    const res = await fetch(url('registry', '/models'), {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-correlation-id': `e2e-${name}` },
      body: JSON.stringify({ name, description: `model ${name}`, tags: { e2e: 'yes' } }),
    });
    expect(res.status).toBe(201);
    return (await res.json()) as RegisteredModelView;
  };
  const monitorEvents = (name: string): Promise<RecordedEvent[]> => events.readStream(`monitor-${name}`);

  it('answers health, metrics and docs on every service', async () => {
    // Without a key: these stay open with auth on.
    const open = globalThis.fetch;
    for (const service of serviceNames) {
      expect((await open(url(service, '/health/live'))).status).toBe(200);
      const ready = (await (await open(url(service, '/health/ready'))).json()) as { info: Record<string, unknown> };
      // Serving also waits for the models its log serves.
      expect(Object.keys(ready.info).sort()).toEqual(service === 'serving' ? ['artifacts', 'eventstore', 'models', 'transport'] : ['artifacts', 'eventstore', 'transport']);
      expect(await (await open(url(service, '/metrics'))).text()).toContain('process_cpu_user_seconds_total');
      expect((await open(url(service, '/docs-json'))).status).toBe(200);
    }
  });

  it('needs an API key (auth is on by default); a key made by one process works on the others until revoked', async () => {
    for (const service of serviceNames) expect((await globalThis.fetch(url(service, '/auth/keys'))).status).toBe(401);
    const res = await fetch(url('registry', '/auth/keys'), { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ name: 'e2e-reader', scopes: ['read'] }) });
    expect(res.status).toBe(201);
    const reader = (await res.json()) as CreatedApiKey;
    const as = (key: string, service: ServiceName, path: string, init: RequestInit = {}) =>
      globalThis.fetch(url(service, path), { ...init, headers: { ...(init.headers as Record<string, string> | undefined), authorization: `Bearer ${key}` } });
    expect((await as(reader.token, 'ingestion', '/datasets')).status).toBe(200);
    expect((await as(reader.token, 'monitoring', '/monitors')).status).toBe(200);
    const denied = await as(reader.token, 'registry', '/models', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ name: 'x' }) });
    expect(denied.status).toBe(403);
    expect(await denied.json()).toMatchObject({ code: 'FORBIDDEN', name: 'ForbiddenError' });
    expect((await fetch(url('ingestion', `/auth/keys/${reader.id}`), { method: 'DELETE' })).status).toBe(200);
    // Every other process hears of the revocation through JetStream.
    const reads: [ServiceName, string][] = [['registry', '/models'], ['monitoring', '/monitors'], ['feature-store', '/feature-views']];
    for (const [service, path] of reads) {
      await eventually(async () => (await as(reader.token, service, path)).status === 401, 10_000, `revocation on ${service}`);
    }
    // Only the hash is in the event store.
    const stored = JSON.stringify(await events.readAll({ filter: { category: 'apikey' } }));
    expect(stored).toContain(reader.prefix);
    expect(stored).not.toContain(reader.token);
    expect(stored).not.toContain(ADMIN_KEY);
  });

  it('creates a model over HTTP, queries it over NATS, and monitoring reacts in its own stream', async () => {
    const created = await createModel('churn');
    expect(created).toMatchObject({ name: 'churn', description: 'model churn', tags: { e2e: 'yes' }, revision: 0 });

    // The same registry, asked over NATS by a client that is not the registry.
    const viaNats = await client.send<RegisteredModelView>(subjects.qry.registry.getModel, { name: 'churn' });
    expect(viaNats).toEqual(created);

    // Monitoring's process manager appended MonitorCreated, caused by the registry's event.
    const [source] = await events.readStream('model-churn');
    const [reaction] = await eventually(async () => {
      const e = await monitorEvents('churn');
      return e.length > 0 && e;
    }, 20_000, 'MonitorCreated for churn');
    expect(reaction).toMatchObject({
      type: 'MonitorCreated',
      causationId: source.id,
      correlationId: 'e2e-churn',
      data: { model: 'churn', sourceEventId: source.id },
    });

    // Monitoring's HTTP answer includes the registry's view, fetched over NATS.
    const monitor = await eventually(async () => {
      const res = await fetch(url('monitoring', '/monitors/churn'));
      return res.ok && ((await res.json()) as { registeredModel: RegisteredModelView });
    });
    expect(monitor.registeredModel).toEqual(created);
  });

  it('returns field-level 4xx errors across the wire', async () => {
    const bad = await fetch(url('registry', '/models'), {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'has spaces', tags: 'no' }),
    });
    expect(bad.status).toBe(400);
    const body = (await bad.json()) as { code: string; details: { path: string }[] };
    expect(body.code).toBe('VALIDATION_FAILED');
    expect(body.details.map((d) => d.path).sort()).toEqual(['name', 'tags']);
    expect(JSON.stringify(body)).not.toMatch(/at .*\.ts:\d+/);

    const duplicate = await fetch(url('registry', '/models'), {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'churn' }),
    });
    expect(duplicate.status).toBe(409);
    await expect(client.send(subjects.qry.registry.getModel, { name: 'absent' })).rejects.toMatchObject({ name: 'NotFoundError' });
  });

  it('ingests a file over HTTP into S3-backed versions, visible over NATS', async () => {
    const schema = readFileSync(join(repoRoot, 'examples/data/penguins.schema.yaml'), 'utf8');
    const declared = await fetch(url('ingestion', '/datasets/penguins/schema'), { method: 'PUT', headers: { 'content-type': 'text/yaml' }, body: schema });
    expect(declared.status).toBe(200);
    const res = await fetch(url('ingestion', '/datasets/penguins/ingestions'), {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ source: { kind: 'file', path: join(repoRoot, 'examples/data/penguins.csv') }, csv: { nullValues: ['NA'] }, wait: true }),
    });
    const outcome = (await res.json()) as IngestionOutcome;
    expect(outcome).toMatchObject({ version: 1, rows: 344, accepted: 342, quarantined: 2, reasons: { missing_required: 2 } });

    // The Parquet artifact is in the S3 bucket, content-addressed.
    const { s3 } = platform;
    const s3store = createArtifactStore('s3://mlp-e2e', { S3_ENDPOINT: s3.endpoint, S3_ACCESS_KEY: s3.accessKey, S3_SECRET_KEY: s3.secretKey });
    const parquet = await s3store.getBuffer(outcome.artifact!);
    expect(createHash('sha256').update(parquet).digest('hex')).toBe(outcome.sha256);
    expect(parquet.subarray(0, 4).toString()).toBe('PAR1');

    const viaNats = await client.send<{ versions: { version: number; accepted: number }[] }>(subjects.qry.ingestion.getDataset, { name: 'penguins' });
    expect(viaNats.versions.map((v) => [v.version, v.accepted])).toEqual([[1, 342]]);
  });

  it('auto-materializes a feature view from a new dataset version and serves it online over NATS (JetStream KV)', async () => {
    const csv = ['txn_id,customer_id,amount,ts', 't1,c1,10,2024-01-01 00:00:00', 't2,c1,30,2024-01-02 00:00:00', 't3,c2,5,2024-01-03 00:00:00'].join('\n');
    const views = [
      'entities:',
      '  - {name: customer, joinKeys: [customer_id]}',
      'featureViews:',
      '  - name: spend',
      '    entity: customer',
      '    source: {dataset: txns}',
      '    timestamp: ts',
      '    online: true',
      '    features:',
      '      - {name: amount_sum_7d, agg: sum, column: amount, window: 7d}',
    ].join('\n');
    // The view needs the dataset's schema: ingest v1 first, then define the view; v2 triggers the process manager.
    await fetch(url('ingestion', '/datasets/txns/upload?format=csv'), { method: 'PUT', body: csv });
    const applied = await fetch(url('feature-store', '/feature-views'), { method: 'PUT', headers: { 'content-type': 'text/yaml' }, body: views });
    expect(applied.status).toBe(200);
    await fetch(url('ingestion', '/datasets/txns/upload?format=csv'), { method: 'PUT', body: `${csv}\nt4,c2,7,2024-01-04 00:00:00` });
    const result = await eventually(async () => {
      const r = await client.send<OnlineFeaturesResponse>(subjects.qry.featureStore.getOnlineFeatures, { features: ['spend'], entities: { customer_id: ['c1', 'c2'] } });
      return r.results[1].features['spend:amount_sum_7d'].value === 12 && r;
    }, 30_000, 'online features after the automatic materialization');
    expect(result.results[0].features['spend:amount_sum_7d']).toMatchObject({ value: 40, status: 'present' });
    // The serving process fetches the same features from the feature store over NATS.
    const viaServing = await fetch(url('serving', '/v1/online-features'), {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ features: ['spend:amount_sum_7d'], entities: { customer_id: ['c2'] } }),
    });
    expect(((await viaServing.json()) as OnlineFeaturesResponse).results[0].features['spend:amount_sum_7d'].value).toBe(12);
    const view = (await (await fetch(url('feature-store', '/feature-views/spend'))).json()) as { materializations: { datasetVersion: number }[] };
    expect(view.materializations.map((m) => m.datasetVersion)).toContain(2);
  });

  it('monitoring killed with -9 catches up on the missed event exactly once after restart', async () => {
    await platform.processes.monitoring.kill('SIGKILL');
    await createModel('fraud');
    // Nobody reacted while monitoring was down.
    await new Promise((r) => setTimeout(r, 500));
    expect(await monitorEvents('fraud')).toHaveLength(0);

    await start('monitoring');
    const reactions = await eventually(async () => {
      const e = await monitorEvents('fraud');
      return e.length > 0 && e;
    }, 30_000, 'MonitorCreated for fraud');
    // Give a duplicate every chance to appear before counting.
    await new Promise((r) => setTimeout(r, 1000));
    expect(await monitorEvents('fraud')).toHaveLength(1);
    expect(reactions[0].type).toBe('MonitorCreated');
    expect(await monitorEvents('churn')).toHaveLength(1);
    const all = await events.readAll({ filter: { category: 'monitor' } });
    expect(all.map((e) => (e.data as { model: string }).model).sort()).toEqual(['churn', 'fraud']);
  });
});
