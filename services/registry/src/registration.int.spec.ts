import { createHash } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { streams, type ModelVersionView, type RecordedEvent } from '@mlp/contracts';
import { startInProcessServices, type InProcessServices } from '@mlp/service-kit/testing';
import { eventually, ingestPenguins, penguinsSpec } from '@mlp/testing';
import { ingestionService } from '@mlp/service-ingestion';
import { featureStoreService } from '@mlp/service-feature-store';
import { trainingService } from '@mlp/service-training';
import { registryService } from './index';
import { registrationProcessManager } from './registration/registration.process-manager';
import { RegistryService } from './model/registry.service';
import { LineageService } from './lineage/lineage.controller';
import { LineageProjection, type DatasetVersionNode, type LineageGraph, type ModelVersionNode, type RunNode } from './lineage/lineage.projection';

const spec = (seed: number, minAccuracy: number) => penguinsSpec({ sensitive: true, seed, evaluation: `{baseline: naive, gate: {accuracy: {min: ${minAccuracy}}}}` });

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
    await ingestPenguins(p.services[0].url);
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

  it('traces a version to the exact dataset bytes: graph, printed tree, OpenLineage events, reverse query, rebuild', async () => {
    const ingested = (await p.store.readStream(streams.dataset('penguins'))).find((e) => e.type === 'DatasetVersionIngested')!.data as { sha256: string; quarantined: number };
    expect((await reg('PUT', '/models/penguins/aliases/production', { version: 1, reason: 'first' })).status).toBe(200);
    const graph = (await reg('GET', '/lineage/models/penguins/versions/1')).body as unknown as LineageGraph;
    expect(graph.root).toBe('model:penguins@1');
    const dataset = graph.nodes.find((n) => n.id === 'dataset:penguins@1') as DatasetVersionNode;
    expect(dataset).toMatchObject({ sha256: ingested.sha256, quarantined: ingested.quarantined, status: 'accepted', qualityReport: { artifactKey: expect.stringMatching(/^sha256\//) } });
    expect(dataset.quarantined).toBeGreaterThan(0);
    expect(Object.values(dataset.quarantine.reasons).reduce((a, b) => a + b, 0)).toBeGreaterThan(0);
    const run = graph.nodes.find((n) => n.type === 'run') as RunNode;
    expect(run).toMatchObject({ runId: blessedRun, seed: 3, status: 'completed', blessed: true, specHash: expect.stringMatching(/^[0-9a-f]{64}$/), codeVersion: expect.any(String) });
    expect(graph.edges).toEqual(expect.arrayContaining([
      { from: 'dataset:penguins@1', to: `run:${blessedRun}`, relation: 'trained-on' },
      { from: `run:${blessedRun}`, to: 'model:penguins@1', relation: 'registered-as' },
    ]));
    const root = graph.nodes.find((n) => n.id === graph.root) as ModelVersionNode;
    expect(root.aliases).toEqual([{ alias: 'production', from: expect.any(String), to: null, kind: 'assigned', reason: 'first', actor: 'anonymous' }]);

    const tree = await (await fetch(`${registryUrl}/lineage/models/penguins/versions/1?format=tree`)).text();
    expect(tree).toMatch(/^model penguins v1 \(active\)\n {2}alias production: .* → now \(assigned by anonymous: first\)/);
    expect(tree).toContain(`└─ run ${blessedRun}`);
    expect(tree).toContain(`sha256 ${ingested.sha256}`);

    const ol = (await reg('GET', '/lineage/models/penguins/versions/1/openlineage')).body.events as { eventType: string; eventTime: string; run: { runId: string; facets: Record<string, { _producer: string }> }; job: { namespace: string; name: string }; inputs: { name: string; facets: Record<string, Record<string, unknown>> }[]; outputs: { name: string }[] }[];
    expect(ol.map((e) => e.job.name)).toEqual(['ingestion.penguins', 'training.penguins']);
    const training = ol[1];
    expect(training).toMatchObject({ eventType: 'COMPLETE', run: { runId: blessedRun }, job: { namespace: 'mlp' }, outputs: [{ name: 'model:penguins@1' }] });
    expect(new Date(training.eventTime).toISOString()).toBe(training.eventTime);
    expect(training.run.facets.mlp._producer).toMatch(/^https:\/\//);
    expect(training.inputs[0]).toMatchObject({ name: 'dataset:penguins@1', facets: { mlp_dataset: { sha256: ingested.sha256 } } });

    const reverse = (await reg('GET', '/lineage/datasets/penguins/versions/1/models')).body as { models: { name: string; version: number; aliases: string[] }[] };
    expect(reverse.models.map((m: { name: string; version: number }) => `${m.name}@${m.version}`)).toEqual(['penguins@1', 'penguins@2', 'penguins@3']);
    expect(reverse.models[0].aliases).toEqual(['production']);
    expect((await reg('GET', '/lineage/datasets/penguins/versions/9/models')).status).toBe(404);

    // The lineage read model rebuilt from an empty start equals the live one.
    const live = p.services[3].app.get(LineageService, { strict: false }).projection.snapshot();
    const rebuilt = new LineageProjection();
    for (let from = 1; ; ) {
      const page = await p.store.readAll({ fromPosition: from, maxCount: 500 });
      if (page.length === 0) break;
      for (const e of page) if (rebuilt.canHandle(e)) rebuilt.handle(e);
      from = page[page.length - 1].position + 1;
    }
    expect(rebuilt.snapshot()).toEqual(live);
  });
});
