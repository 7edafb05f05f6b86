import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { streams, type IngestionOutcome, type ModelVersionView, type RecordedEvent } from '@mlp/contracts';
import { startInProcessServices, type InProcessServices } from '@mlp/service-kit/testing';
import { eventually, repoRoot } from '@mlp/testing';
import { ingestionService } from '@mlp/service-ingestion';
import { featureStoreService } from '@mlp/service-feature-store';
import { trainingService } from '@mlp/service-training';
import { registryService } from './index';
import { registrationProcessManager } from './registration/registration.process-manager';
import { RegistryService } from './model/registry.service';

const spec = (seed: number, minAccuracy: number) => `experiment: penguins
task: multiclass
data:
  dataset: {name: penguins}
  label: species
  sensitive: [sex]
preprocessing:
  - {impute: median, columns: numeric}
  - {impute: most_frequent, columns: categorical}
  - {scale: standard, columns: numeric}
  - {encode: onehot, columns: categorical}
split: {method: stratified, test: 0.25}
model: {type: mlp, layers: [8], epochs: 25, batchSize: 32, learningRate: 0.02}
seed: ${seed}
evaluation: {baseline: naive, gate: {accuracy: {min: ${minAccuracy}}}}
`;

/**
 * Training and the registry in one process: completed runs become versions under the model's registration
 * policy (blessed-only by default), with a signature from the dataset schema and the saved preprocessing.
 */
describe('registration from training runs (in process)', () => {
  jest.setTimeout(240_000);
  let p: InProcessServices;
  let trainingUrl: string;
  let registryUrl: string;
  const reg = async (method: string, path: string, body?: unknown) => {
    const res = await fetch(`${registryUrl}${path}`, { method, headers: body === undefined ? {} : { 'content-type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body) });
    const text = await res.text();
    return { status: res.status, body: text ? (JSON.parse(text) as Record<string, unknown>) : {} };
  };
  const train = async (yaml: string) => {
    const res = await fetch(`${trainingUrl}/runs`, { method: 'POST', headers: { 'content-type': 'text/yaml' }, body: yaml });
    const { runId } = (await res.json()) as { runId: string };
    return eventually(async () => {
      const r = (await (await fetch(`${trainingUrl}/runs/${runId}`)).json()) as { status: string; blessed?: boolean; runId: string; error?: string };
      return r.status !== 'Running' ? r : undefined;
    }, 200_000, `run ${runId}`);
  };

  beforeAll(async () => {
    const policyFile = join(tmpdir(), `mlp-registry-policy-${process.pid}.yaml`);
    writeFileSync(policyFile, 'models:\n  adelie: {registration: every-run, approvalRequiredFor: [production]}\n');
    p = await startInProcessServices([ingestionService, featureStoreService, trainingService, registryService], {
      prefix: 'registration',
      processEnv: (dir) => ({ MLP_ONLINE_STORE_URL: `sqlite://${join(dir, 'online.db')}`, MLP_TRAINING_WORKERS: '1', MLP_REGISTRY_POLICY_FILE: policyFile }),
    });
    [, , { url: trainingUrl }, { url: registryUrl }] = p.services;
    const schema = readFileSync(join(repoRoot, 'examples/data/penguins.schema.yaml'), 'utf8');
    await fetch(`${p.services[0].url}/datasets/penguins/schema`, { method: 'PUT', headers: { 'content-type': 'text/yaml' }, body: schema });
    const csv = readFileSync(join(repoRoot, 'examples/data/penguins.csv'));
    const up = await fetch(`${p.services[0].url}/datasets/penguins/upload?format=csv&null=NA`, { method: 'PUT', body: csv });
    expect(((await up.json()) as IngestionOutcome).status).toBe('accepted');
  });
  afterAll(async () => p?.close());

  let blessedRun: string;
  it('registers a blessed run by the default policy, with signature, metrics, artifacts by hash, backend and run id', async () => {
    const run = await train(spec(3, 0.8));
    expect(run).toMatchObject({ status: 'Completed', blessed: true });
    blessedRun = run.runId;
    const v = await eventually(async () => {
      const r = await reg('GET', '/models/penguins/versions/1');
      return r.status === 200 ? (r.body as unknown as ModelVersionView) : undefined;
    }, 30_000, 'version 1 registered');
    expect(v).toMatchObject({ name: 'penguins', version: 1, runId: run.runId, source: 'auto', blessed: true, experiment: 'penguins', status: 'active', backend: expect.any(String) });
    expect(v.metrics.accuracy).toBeGreaterThan(0.8);
    expect(v.createdBy).toBe('process-manager:registry.registration');
    for (const key of Object.values(v.artifacts)) expect(key).toMatch(/^sha256\/[0-9a-f]{64}$/);
    expect(Object.keys(v.artifacts).sort()).toEqual(['model', 'modelCard', 'preprocessing', 'report', 'weights']);
    // The signature: schema types, ranges and values for the raw inputs; the label's classes as outputs.
    const byName = Object.fromEntries(v.signature.inputs.map((i) => [i.name, i]));
    expect(byName.island).toEqual({ name: 'island', type: 'category', nullable: false, values: ['Biscoe', 'Dream', 'Torgersen'] });
    expect(byName.bill_length_mm).toEqual({ name: 'bill_length_mm', type: 'float', nullable: false, min: 25, max: 70 });
    expect(byName.species).toBeUndefined();
    expect(v.signature).toMatchObject({ task: 'multiclass', label: 'species' });
    expect(v.signature.outputs[0]).toEqual({ name: 'species', type: 'category', classes: ['Adelie', 'Chinstrap', 'Gentoo'] });
    expect(v.lineage.inputs).toEqual([{ ref: 'dataset:penguins@1', sha256: expect.stringMatching(/^[0-9a-f]{64}$/) }]);

    // The preprocessing artifact downloads streamed, byte for byte its content hash.
    const res = await fetch(`${registryUrl}/models/penguins/versions/1/artifacts/preprocessing`);
    const bytes = Buffer.from(await res.arrayBuffer());
    expect(res.headers.get('x-content-sha256')).toBe(v.artifacts.preprocessing.slice('sha256/'.length));
    expect(createHash('sha256').update(bytes).digest('hex')).toBe(v.artifacts.preprocessing.slice('sha256/'.length));
    // The model card as Markdown and as escaped HTML.
    const md = await (await fetch(`${registryUrl}/models/penguins/versions/1/model-card`)).text();
    expect(md).toMatch(/^# penguins v1/);
    expect(md).toMatch(/\| island \| category \| no \| Biscoe, Dream, Torgersen \|/);
    expect(md).toMatch(/# Model card: penguins/);
    const html = await (await fetch(`${registryUrl}/models/penguins/versions/1/model-card?format=html`)).text();
    expect(html).toMatch(/^<!doctype html>/);
    expect(html).toMatch(/<h1>penguins v1<\/h1>/);
    expect(html).toMatch(/<td>island<\/td><td>category<\/td>/);
  });

  it('does not register an unblessed run under blessed-only; every-run does; by hand works once', async () => {
    const unblessed = await train(spec(4, 1.5));
    expect(unblessed).toMatchObject({ status: 'Completed', blessed: false });
    // The process manager has handled it (its checkpoint passed the run's completion) and registered nothing.
    const completed = (await p.store.readStream(streams.run(unblessed.runId))).find((e) => e.type === 'TrainingRunCompleted')!;
    await eventually(async () => ((await p.store.checkpoints().load('registry.registration')) ?? 0) >= completed.position, 30_000, 'the process manager to pass the run');
    expect(((await reg('GET', '/models/penguins/versions')).body.versions as unknown[]).length).toBe(1);

    const manual = await reg('POST', '/models/penguins/versions', { runId: unblessed.runId, description: 'for comparison', tags: { why: 'baseline' } });
    expect(manual.status).toBe(201);
    expect(manual.body).toMatchObject({ version: 2, source: 'manual', blessed: false, tags: { why: 'baseline' }, description: 'for comparison' });
    const again = await reg('POST', '/models/penguins/versions', { runId: unblessed.runId });
    expect(again).toMatchObject({ status: 409, body: { code: 'RUN_ALREADY_REGISTERED' } });
    expect((await reg('POST', '/models/penguins/versions', { runId: 'nope' })).body).toMatchObject({ code: 'RUN_NOT_FOUND' });

    expect((await reg('PUT', '/models/penguins/policy', { registration: 'every-run' })).status).toBe(200);
    const third = await train(spec(5, 1.5));
    const v3 = await eventually(async () => {
      const r = await reg('GET', '/models/penguins/versions/3');
      return r.status === 200 ? (r.body as unknown as ModelVersionView) : undefined;
    }, 30_000, 'version 3 registered');
    expect(v3).toMatchObject({ runId: third.runId, blessed: false, source: 'auto' });
  });

  it('is idempotent: the same TrainingRunCompleted handled again registers nothing more', async () => {
    const completed = (await p.store.readStream(streams.run(blessedRun))).find((e) => e.type === 'TrainingRunCompleted') as RecordedEvent;
    const registry = p.services[3].app.get(RegistryService, { strict: false });
    const before = await p.store.readStream(streams.model('penguins'));
    const pm = registrationProcessManager({ store: p.store, artifacts: p.artifacts, registry });
    await pm.handle(completed, undefined as never);
    await pm.handle(completed, undefined as never);
    expect(await p.store.readStream(streams.model('penguins'))).toHaveLength(before.length);
  });

  it('applies the policy file at start: the model exists with its policy', async () => {
    expect((await reg('GET', '/models/adelie')).body).toMatchObject({ policy: { registration: 'every-run', approvalRequiredFor: ['production'], source: 'model' } });
    expect((await reg('GET', '/models/penguins')).body).toMatchObject({ policy: { registration: 'every-run', source: 'model' }, latestVersion: 3 });
  });
});
