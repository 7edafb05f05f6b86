import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { streams, type EventData, type IngestionOutcome } from '@mlp/contracts';
import { cellAt, Pipeline, planSplits, prepareTrainingData, trainingSpecSchema } from '@mlp/ml';
import { startInProcessServices, type InProcessServices } from '@mlp/service-kit/testing';
import { featureStoreService } from '@mlp/service-feature-store';
import { ingestionService } from '@mlp/service-ingestion';
import { registryService } from '@mlp/service-registry';
import { loadParquetFrame, trainingService } from '@mlp/service-training';
import { eventually } from '@mlp/testing';
import { GrpcInferenceServer } from './grpc/grpc-inference.server';
import { loadV2Service } from './grpc/v2-proto';
import { servingService } from './index';
import { ServingRuntime } from './serving-runtime';
import { churnRows } from './testing/model.fixture';

jest.setTimeout(300_000);

const SCHEMA = `dataset: churnds
columns:
  tenure:  {type: float, nullable: true}
  monthly: {type: float, required: true}
  plan:    {type: category, required: true, values: [basic, pro, team]}
  churned: {type: category, required: true, values: ['no', 'yes']}
`;

const SPEC = `experiment: churn
task: binary
data:
  dataset: {name: churnds}
  label: churned
preprocessing:
  - {impute: median, columns: numeric}
  - {scale: standard, columns: numeric}
  - {encode: onehot, columns: categorical}
split: {method: random, test: 0.25}
cv: {folds: 2}
model: {type: logistic, epochs: 30, batchSize: 32, learningRate: 0.05}
evaluation: {baseline: naive}
seed: 11
`;

/**
 * ingest → train → register → promote → serving loads it, in one process on
 * the real services: serving's model inputs after preprocessing equal
 * training's for the same rows, and its predictions over REST and gRPC equal
 * the model's offline predictions on the run's holdout rows.
 */
describe('training → registry → serving: no skew (in process)', () => {
  let p: InProcessServices;
  const url = (i: number, path: string) => `${p.services[i].url}${path}`;
  const { rows, labels } = churnRows(400, 21);
  const csv = ['tenure,monthly,plan,churned', ...rows.map((r, i) => `${r.tenure ?? ''},${r.monthly},${r.plan},${labels[i]}`)].join('\n') + '\n';

  beforeAll(async () => {
    p = await startInProcessServices([ingestionService, featureStoreService, trainingService, registryService, servingService], {
      prefix: 'train-serve',
      processEnv: (dir) => ({ MLP_ONLINE_STORE_URL: `sqlite://${join(dir, 'online.db')}`, MLP_TRAINING_WORKERS: '1', MLP_REGISTRY_AUTO_REGISTER: 'off', MLP_SERVING_GRPC_PORT: '0' }),
    });
  });
  afterAll(async () => p?.close());

  it('serves the promoted version with training preprocessing, and answers like the model offline', async () => {
    expect((await fetch(url(0, '/datasets/churnds/schema'), { method: 'PUT', headers: { 'content-type': 'text/yaml' }, body: SCHEMA })).status).toBeLessThan(300);
    const up = await fetch(url(0, '/datasets/churnds/upload?format=csv'), { method: 'PUT', body: csv });
    expect(((await up.json()) as IngestionOutcome).status).toBe('accepted');

    const started = await fetch(url(2, '/runs'), { method: 'POST', headers: { 'content-type': 'text/yaml' }, body: SPEC });
    expect(started.status).toBe(202);
    const { runId } = (await started.json()) as { runId: string };
    await eventually(async () => {
      const r = (await (await fetch(url(2, `/runs/${runId}`))).json()) as { status: string };
      return r.status === 'Completed' ? r : r.status === 'Failed' ? Promise.reject(new Error(JSON.stringify(r))) : undefined;
    }, 240_000, `run ${runId}`);

    const registered = await fetch(url(3, '/models/churn/versions'), { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ runId }) });
    expect(registered.status).toBe(201);
    const version = ((await registered.json()) as { version: number }).version;
    expect((await fetch(url(3, '/models/churn/aliases/production'), { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ version, reason: 'test' }) })).status).toBeLessThan(300);

    const serving = p.services[4];
    const runtime = serving.app.get(ServingRuntime);
    const served = await eventually(async () => {
      try {
        return runtime.models.resolve({ name: 'churn', alias: 'production' }).served;
      } catch {
        return undefined;
      }
    }, 30_000, 'serving loaded the promoted version');
    expect(served.loaded.version).toBe(version);
    // The registry's signature, from the dataset schema: serving validates against it.
    expect(served.loaded.signature.inputs.map((i) => [i.name, i.type])).toEqual([
      ['tenure', 'float'],
      ['monthly', 'float'],
      ['plan', 'category'],
    ]);

    // Training's side: the run's own frame, prepared and split exactly as training does, through the stored pipeline.
    const events = await p.store.readStream(streams.run(runId));
    const requested = events.find((e) => e.type === 'TrainingRunRequested')!.data as EventData<'TrainingRunRequested'>;
    const completed = events.find((e) => e.type === 'TrainingRunCompleted')!.data as EventData<'TrainingRunCompleted'>;
    const spec = trainingSpecSchema.parse(requested.spec);
    const loaded = await loadParquetFrame(p.artifacts, requested.data.artifactKey, requested.data.sha256);
    const prepared = prepareTrainingData(loaded.frame, loaded.types, spec, { nonFinite: loaded.nonFinite });
    const holdout = planSplits(prepared, spec).holdout.test;
    expect(holdout.length).toBe(100);
    const bundle = JSON.parse((await p.artifacts.getBuffer(completed.preprocessingArtifactKey)).toString('utf8')) as { pipeline: unknown };
    const training = Pipeline.fromJSON(bundle.pipeline).transformToMatrix(prepared.features, holdout);

    // Serving's side: the rows as a client sends them (the CSV's values), through serving's own validation and preprocessing.
    for (const r of holdout) expect(cellAt(prepared.features.plan, r)).toBe(rows[r].plan);
    const instances = holdout.map((r) => rows[r]);
    const frame = served.loaded.inputSchema.frameFromRows(instances as unknown as Record<string, unknown>[], 'instances');
    const servingX = served.loaded.preprocess(frame).x;
    expect(servingX.length).toBe(training.x.length);
    // Equal up to float32 rounding: training reads float columns as float32, a client sends float64 JSON.
    let maxDiff = 0;
    for (let i = 0; i < servingX.length; i++) maxDiff = Math.max(maxDiff, Math.abs(servingX[i] - training.x[i]));
    expect(maxDiff).toBeLessThan(1e-5);

    // Offline predictions of the stored model on training's holdout inputs.
    const offline = served.loaded.predictor.predict(training.x, training.n);

    const rest = await fetch(`${serving.url}/v1/models/churn@production:predict`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ instances }) });
    expect(rest.status).toBe(200);
    const body = (await rest.json()) as { version: string; probabilities: number[][] };
    expect(body.version).toBe(String(version));
    body.probabilities.forEach((pr, i) => expect(pr[1]).toBeCloseTo(offline[i], 5));

    const Client = loadV2Service();
    const client = new Client(`127.0.0.1:${serving.app.get(GrpcInferenceServer).port}`, grpc.credentials.createInsecure()) as unknown as Record<string, (req: unknown, cb: (err: unknown, res: unknown) => void) => void> & { close(): void };
    try {
      const res = await new Promise<{ model_version: string; outputs: { name: string; contents: { fp32_contents: number[] } }[] }>((resolve, reject) =>
        client.ModelInfer(
          {
            model_name: 'churn@production',
            inputs: [
              { name: 'tenure', datatype: 'FP64', shape: [instances.length], contents: { fp64_contents: instances.map((r) => r.tenure ?? NaN) } },
              { name: 'monthly', datatype: 'FP64', shape: [instances.length], contents: { fp64_contents: instances.map((r) => r.monthly) } },
              { name: 'plan', datatype: 'BYTES', shape: [instances.length], contents: { bytes_contents: instances.map((r) => Buffer.from(r.plan)) } },
            ],
            outputs: [{ name: 'probabilities' }],
          },
          (err, out) => (err ? reject(err) : resolve(out as never)),
        ),
      );
      expect(res.model_version).toBe(String(version));
      res.outputs[0].contents.fp32_contents.forEach((pr, i) => expect(pr).toBeCloseTo(offline[i], 5));
    } finally {
      client.close();
    }
  });
});
