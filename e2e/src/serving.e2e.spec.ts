import { readFileSync } from 'node:fs';
import { createArtifactStore, type ArtifactStore } from '@mlp/artifacts';
import { streams, type EventData, type ModelSignature } from '@mlp/contracts';
import { JetStreamEventStore } from '@mlp/eventstore';
import { cellAt, initBackend, loadModel, Pipeline, planSplits, prepareTrainingData, trainingSpecSchema, type Cell } from '@mlp/ml';
import { loadParquetFrame } from '@mlp/service-training';
import { eventually, freePort, ingestPenguins, penguinsFiles, penguinsSpec, startDistributedPlatform, v2GrpcCall, v2GrpcClient, type DistributedPlatform } from '@mlp/testing';

const SPEC = penguinsSpec({ seed: 5 });

/** Outputs agree with the offline model to this (float32 model, float32 wire format). */
const TOLERANCE = 1e-5;

interface GrpcTensor {
  name: string;
  datatype: string;
  shape: number[];
  contents?: Record<string, unknown[]>;
}
interface InferResponse {
  model_name: string;
  model_version: string;
  outputs: GrpcTensor[];
  raw_output_contents: Buffer[];
}
/** The holdout rows of a run as a client would send them, and the registered model's own predictions on them. */
interface Holdout {
  instances: Record<string, Cell>[];
  /** Class probabilities per row, row-major [n, K], from the stored model run offline (tfjs wasm + saved pipeline). */
  offline: Float32Array;
  classes: string[];
}

/**
 * The model's offline predictions, computed here and not by serving: the run's
 * own training frame split exactly as training splits it, the saved
 * preprocessing pipeline and the model.json + weights loaded by content hash
 * from the artifact store, run on the wasm backend in this test process.
 */
async function offlineHoldout(artifacts: ArtifactStore, events: JetStreamEventStore, runId: string, version: { artifacts: Record<string, string>; signature: ModelSignature }): Promise<Holdout> {
  const run = await events.readStream(streams.run(runId));
  const requested = run.find((e) => e.type === 'TrainingRunRequested')!.data as EventData<'TrainingRunRequested'>;
  const spec = trainingSpecSchema.parse(requested.spec);
  const loaded = await loadParquetFrame(artifacts, requested.data.artifactKey, requested.data.sha256);
  const prepared = prepareTrainingData(loaded.frame, loaded.types, spec, { nonFinite: loaded.nonFinite });
  const holdout = planSplits(prepared, spec).holdout.test;

  const bundle = JSON.parse((await artifacts.getBuffer(version.artifacts.preprocessing)).toString('utf8')) as { pipeline: unknown; classes: string[] };
  const { x, n } = Pipeline.fromJSON(bundle.pipeline).transformToMatrix(prepared.features, holdout);
  const modelJson = JSON.parse((await artifacts.getBuffer(version.artifacts.model)).toString('utf8')) as { weightsManifest: { paths: string[] }[] };
  const weights = await artifacts.getBuffer(`sha256/${modelJson.weightsManifest[0].paths[0]}`);
  await initBackend('wasm');
  const model = await loadModel(modelJson, new Uint8Array(weights.buffer, weights.byteOffset, weights.byteLength));
  const offline = model.predict(x, n);
  model.dispose();

  const inputs = version.signature.inputs.map((i) => i.name);
  const instances = holdout.map((r) => Object.fromEntries(inputs.map((name) => [name, cellAt(prepared.features[name], r)])));
  return { instances, offline, classes: bundle.classes };
}

function expectClose(actual: ArrayLike<number>, expected: ArrayLike<number>): void {
  expect(actual.length).toBe(expected.length);
  let worst = 0;
  for (let i = 0; i < expected.length; i++) worst = Math.max(worst, Math.abs(Number(actual[i]) - expected[i]));
  expect(worst).toBeLessThanOrEqual(TOLERANCE);
}

/**
 * Serving across processes: ingestion, training, the registry and serving
 * each their own OS process on a real nats-server (commands, JetStream
 * events) and s3rver (artifacts), auth on. ingest → train → register →
 * promote; serving hears the alias event, loads the version by hash, and
 * answers over REST (V2 infer, /v1 predict) and gRPC exactly as the model
 * does offline on the run's holdout rows; after kill -9 and a restart it
 * serves the same version again without anyone asking.
 */
describe('serving across processes: ingest → train → register → promote → REST and gRPC predictions', () => {
  jest.setTimeout(300_000);
  let platform: DistributedPlatform;
  let events: JetStreamEventStore;
  let artifacts: ArtifactStore;
  let grpcPort: number;
  let predictKey: string;
  let holdout: Holdout;
  let version: number;

  beforeAll(async () => {
    platform = await startDistributedPlatform({
      prefix: 'e2e-serving',
      env: { MLP_TRAINING_WORKERS: '1', MLP_REGISTRY_AUTO_REGISTER: 'off' },
    });
    grpcPort = await freePort();
    await Promise.all([
      platform.start('ingestion', 'ingestion'),
      platform.start('training', 'training'),
      platform.start('registry', 'registry'),
      platform.start('serving', 'serving', { MLP_SERVING_GRPC_PORT: String(grpcPort) }),
    ]);
    events = await JetStreamEventStore.connect({ servers: platform.nats.url });
    const { s3 } = platform;
    artifacts = createArtifactStore('s3://e2e-serving', { S3_ENDPOINT: s3.endpoint, S3_ACCESS_KEY: s3.accessKey, S3_SECRET_KEY: s3.secretKey });
  });

  afterAll(async () => {
    await events?.close();
    await platform?.stop();
  });

  /** V2 infer over REST, one tensor per input, in the datatypes the model's metadata names. */
  const restInfer = async (model: string) => {
    const meta = await platform.call('serving', 'GET', `/v2/models/${model}`, undefined, { key: predictKey });
    expect(meta.status).toBe(200);
    const inputs = (meta.body.inputs as { name: string; datatype: string }[]).map(({ name, datatype }) => ({ name, datatype, shape: [holdout.instances.length], data: holdout.instances.map((r) => r[name]) }));
    return platform.call('serving', 'POST', `/v2/models/${model}/infer`, { inputs }, { key: predictKey });
  };

  /** ModelInfer with the typed contents fields, as a Triton/KServe client sends them. */
  const grpcInfer = async (model: string): Promise<InferResponse> => {
    const client = v2GrpcClient(`127.0.0.1:${grpcPort}`);
    try {
      const meta = await v2GrpcCall<{ inputs: { name: string; datatype: string }[] }>(client, 'ModelMetadata', { name: model }, predictKey);
      const contentsField: Record<string, string> = { BYTES: 'bytes_contents', FP64: 'fp64_contents', FP32: 'fp32_contents', INT64: 'int64_contents', INT32: 'int_contents', BOOL: 'bool_contents' };
      const inputs = meta.inputs.map(({ name, datatype }) => {
        const data = holdout.instances.map((r) => r[name]);
        const values = datatype === 'BYTES' ? data.map((v) => Buffer.from(String(v))) : data;
        return { name, datatype, shape: [data.length], contents: { [contentsField[datatype]]: values } };
      });
      return await v2GrpcCall<InferResponse>(client, 'ModelInfer', { model_name: model, inputs, outputs: [{ name: 'probabilities' }] }, predictKey);
    } finally {
      client.close();
    }
  };

  it('serves the promoted version over REST and gRPC with the predictions of the model run offline', async () => {
    // ingest: the penguins with every value present (V2 BYTES tensors have no null).
    const csv = readFileSync(penguinsFiles.csv, 'utf8').split('\n').filter((line) => line && !line.split(',').includes('NA')).join('\n');
    expect(await ingestPenguins(platform.url('ingestion', ''), { csv, headers: { 'x-api-key': platform.adminKey } })).toMatchObject({ version: 1, accepted: 333 });

    // train
    const started = await platform.call('training', 'POST', '/runs', SPEC, { contentType: 'text/yaml' });
    expect(started.status).toBe(202);
    const runId = started.body.runId as string;
    const run = await eventually(async () => {
      const r = (await platform.call('training', 'GET', `/runs/${runId}`)).body as { status: string; error?: string };
      return r.status !== 'Running' && r;
    }, 240_000, 'the run to end');
    expect(run).toMatchObject({ status: 'Completed' });

    // register, promote
    const registered = await platform.call('registry', 'POST', '/models/penguins/versions', { runId });
    expect(registered.status).toBe(201);
    version = registered.body.version;
    const promoted = await platform.call('registry', 'PUT', '/models/penguins/aliases/production', { version, reason: 'e2e' });
    expect(promoted.status).toBe(200);

    // serving (its own process) hears ModelAliasAssigned on JetStream and loads the version
    const keyRes = await platform.call('registry', 'POST', '/auth/keys', { name: 'e2e-predict', scopes: ['predict'] });
    expect(keyRes.status).toBe(201);
    predictKey = keyRes.body.token;
    await eventually(async () => (await platform.call('serving', 'GET', '/v2/models/penguins@production/ready', undefined, { key: predictKey })).status === 200, 60_000, 'serving to load penguins@production');
    const loaded = (await events.readStream(streams.serving('penguins'))).filter((e) => e.type === 'ModelLoaded');
    expect(loaded.map((e) => e.data)).toEqual([expect.objectContaining({ name: 'penguins', version, aliases: ['production'], backend: 'wasm' })]);

    const stored = (await platform.call('registry', 'GET', `/models/penguins/versions/${version}`)).body as { artifacts: Record<string, string>; signature: ModelSignature };
    holdout = await offlineHoldout(artifacts, events, runId, stored);
    expect(holdout.instances.length).toBeGreaterThan(60);
    const k = holdout.classes.length;
    expect(holdout.classes).toEqual(['Adelie', 'Chinstrap', 'Gentoo']);

    // REST, KServe V2
    const v2 = await restInfer('penguins@production');
    expect(v2.status).toBe(200);
    expect(v2.body.model_version).toBe(String(version));
    const probs = v2.body.outputs.find((o: { name: string }) => o.name === 'probabilities');
    expect(probs.shape).toEqual([holdout.instances.length, k]);
    expectClose(probs.data, holdout.offline);

    // REST, the JSON API
    const v1 = await platform.call('serving', 'POST', '/v1/models/penguins@production:predict', { instances: holdout.instances }, { key: predictKey });
    expect(v1.status).toBe(200);
    expect(v1.body).toMatchObject({ model: 'penguins', version: String(version) });
    expectClose((v1.body.probabilities as number[][]).flat(), holdout.offline);
    const argmax = (i: number) => holdout.classes[[0, 1, 2].reduce((b, j) => (holdout.offline[i * k + j] > holdout.offline[i * k + b] ? j : b), 0)];
    expect(v1.body.predictions).toEqual(holdout.instances.map((_, i) => argmax(i)));
    expect(new Set(v1.body.predictions).size).toBe(3);

    // gRPC, inference.GRPCInferenceService
    const g = await grpcInfer('penguins@production');
    expect(g.model_version).toBe(String(version));
    const out = g.outputs.find((o) => o.name === 'probabilities')!;
    expect(out.shape).toEqual([holdout.instances.length, k]);
    const fp32 = out.contents?.fp32_contents?.length ? (out.contents.fp32_contents as number[]) : Array.from(new Float32Array(new Uint8Array(g.raw_output_contents[g.outputs.indexOf(out)]).buffer));
    expectClose(fp32, holdout.offline);
  });

  it('after kill -9 and a restart, serving rebuilds what it serves from the event log and answers the same', async () => {
    expect(holdout).toBeDefined();
    await platform.processes.serving.kill('SIGKILL');
    // Nobody re-promotes or calls serving's management API: the restarted process finds the alias in the event log.
    await platform.start('serving', 'serving', { MLP_SERVING_GRPC_PORT: String(grpcPort) });
    await eventually(async () => (await platform.call('serving', 'GET', '/v2/models/penguins@production/ready', undefined, { key: predictKey })).status === 200, 60_000, 'serving to load penguins@production again');

    const meta = await platform.call('serving', 'GET', '/v2/models/penguins@production', undefined, { key: predictKey });
    expect(meta.body.versions).toEqual([String(version)]);
    const v2 = await restInfer('penguins@production');
    expect(v2.body.model_version).toBe(String(version));
    expectClose(v2.body.outputs.find((o: { name: string }) => o.name === 'probabilities').data, holdout.offline);
    const g = await grpcInfer('penguins@production');
    expect(g.model_version).toBe(String(version));
    expectClose(g.outputs.find((o) => o.name === 'probabilities')!.contents!.fp32_contents as number[], holdout.offline);

    // The restart loaded the version once more (a second ModelLoaded), and the alias was assigned only once.
    const loads = (await events.readStream(streams.serving('penguins'))).filter((e) => e.type === 'ModelLoaded');
    expect(loads.map((e) => (e.data as EventData<'ModelLoaded'>).version)).toEqual([version, version]);
    expect((await events.readStream(streams.model('penguins'))).filter((e) => e.type === 'ModelAliasAssigned')).toHaveLength(1);
  });
});
