import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { join } from 'node:path';
import { assignAlias, churnRows, registerVersion, storeTinyModel, type StoredTinyModel } from '../testing/model.fixture';
import { startServingPlatform, type ServingPlatform } from '../testing/serving-platform.fixture';

jest.setTimeout(120_000);

/** A V2 client as an outside user builds it: @grpc/proto-loader on the proto file, nothing from serving's code. */
function v2Client(port: number): grpc.Client & Record<string, (req: unknown, md: grpc.Metadata, cb: (err: grpc.ServiceError | null, res: unknown) => void) => void> {
  const definition = protoLoader.loadSync(join(__dirname, '../../proto/grpc_predict_v2.proto'), { keepCase: true, longs: Number, defaults: true });
  const pkg = grpc.loadPackageDefinition(definition) as unknown as { inference: { GRPCInferenceService: grpc.ServiceClientConstructor } };
  return new pkg.inference.GRPCInferenceService(`127.0.0.1:${port}`, grpc.credentials.createInsecure()) as never;
}

function call<T>(client: ReturnType<typeof v2Client>, method: string, request: unknown, metadata = new grpc.Metadata()): Promise<T> {
  return new Promise((resolve, reject) => client[method](request, metadata, (err, res) => (err ? reject(err) : resolve(res as T))));
}

interface InferResponse {
  model_name: string;
  model_version: string;
  id: string;
  outputs: { name: string; datatype: string; shape: number[]; contents: { bytes_contents: Buffer[]; fp32_contents: number[] } }[];
}

describe('gRPC inference.GRPCInferenceService (conformance, proto-loader client)', () => {
  let s: ServingPlatform;
  let v1: StoredTinyModel;
  let client: ReturnType<typeof v2Client>;
  const { rows } = churnRows(6, 5);

  beforeAll(async () => {
    s = await startServingPlatform({}, async (p) => {
      v1 = await storeTinyModel(p.artifacts, { epochs: 10 });
      await registerVersion(p.store, 'churn', 1, v1);
      await assignAlias(p.store, 'churn', 'production', 1);
    });
    client = v2Client(s.grpcPort);
  });
  afterAll(async () => {
    client?.close();
    await s?.close();
  });

  it('ServerLive, ServerReady, ServerMetadata', async () => {
    expect(await call(client, 'ServerLive', {})).toEqual({ live: true });
    expect(await call(client, 'ServerReady', {})).toEqual({ ready: true });
    expect(await call(client, 'ServerMetadata', {})).toEqual({ name: 'mlp-serving', version: '1', extensions: [] });
  });

  it('ModelReady and ModelMetadata by alias and by version', async () => {
    expect(await call(client, 'ModelReady', { name: 'churn@production' })).toEqual({ ready: true });
    expect(await call(client, 'ModelReady', { name: 'churn', version: '1' })).toEqual({ ready: true });
    expect(await call(client, 'ModelReady', { name: 'churn', version: '7' })).toEqual({ ready: false });
    expect(await call(client, 'ModelMetadata', { name: 'churn', version: '1' })).toEqual({
      name: 'churn',
      versions: ['1'],
      platform: 'tensorflowjs_layers',
      inputs: [
        { name: 'tenure', datatype: 'FP64', shape: [-1] },
        { name: 'monthly', datatype: 'FP64', shape: [-1] },
        { name: 'plan', datatype: 'BYTES', shape: [-1] },
      ],
      outputs: [
        { name: 'churn', datatype: 'BYTES', shape: [-1] },
        { name: 'probabilities', datatype: 'FP32', shape: [-1, 1] },
      ],
    });
  });

  it('ModelInfer with typed contents equals the offline predictions', async () => {
    const res = await call<InferResponse>(client, 'ModelInfer', {
      model_name: 'churn@production',
      id: 'g-1',
      inputs: [
        { name: 'tenure', datatype: 'FP64', shape: [rows.length], contents: { fp64_contents: rows.map((r) => r.tenure ?? NaN) } },
        { name: 'monthly', datatype: 'FP64', shape: [rows.length], contents: { fp64_contents: rows.map((r) => r.monthly) } },
        { name: 'plan', datatype: 'BYTES', shape: [rows.length], contents: { bytes_contents: rows.map((r) => Buffer.from(r.plan)) } },
      ],
    });
    expect(res).toMatchObject({ model_name: 'churn@production', model_version: '1', id: 'g-1' });
    const offline = Array.from(v1.offline(rows));
    expect(res.outputs[0]).toMatchObject({ name: 'churn', datatype: 'BYTES', shape: [rows.length] });
    expect(res.outputs[0].contents.bytes_contents.map((b) => b.toString())).toEqual(offline.map((p) => (p >= 0.5 ? 'yes' : 'no')));
    expect(res.outputs[1]).toMatchObject({ name: 'probabilities', datatype: 'FP32', shape: [rows.length, 1] });
    res.outputs[1].contents.fp32_contents.forEach((p, i) => expect(p).toBeCloseTo(offline[i], 6));
  });

  it('ModelInfer with raw_input_contents (little-endian FP32, length-prefixed BYTES)', async () => {
    const fp32 = (values: number[]) => {
      const b = Buffer.alloc(values.length * 4);
      values.forEach((v, i) => b.writeFloatLE(v, i * 4));
      return b;
    };
    const bytes = (values: string[]) => Buffer.concat(values.flatMap((v) => [Buffer.from(Uint32Array.of(Buffer.byteLength(v)).buffer), Buffer.from(v)]));
    const res = await call<InferResponse>(client, 'ModelInfer', {
      model_name: 'churn',
      model_version: '1',
      inputs: [
        { name: 'tenure', datatype: 'FP32', shape: [rows.length] },
        { name: 'monthly', datatype: 'FP32', shape: [rows.length] },
        { name: 'plan', datatype: 'BYTES', shape: [rows.length] },
      ],
      outputs: [{ name: 'probabilities' }],
      raw_input_contents: [fp32(rows.map((r) => r.tenure ?? NaN)), fp32(rows.map((r) => r.monthly)), bytes(rows.map((r) => r.plan))],
    });
    expect(res.outputs.map((o) => o.name)).toEqual(['probabilities']);
    // FP32 on the wire: the inputs are the rows rounded to float32.
    const rounded = rows.map((r) => ({ ...r, tenure: r.tenure === null ? null : Math.fround(r.tenure), monthly: Math.fround(r.monthly) }));
    const offline = Array.from(v1.offline(rounded));
    res.outputs[0].contents.fp32_contents.forEach((p, i) => expect(p).toBeCloseTo(offline[i], 6));
  });

  it('INVALID_ARGUMENT naming each bad field, NOT_FOUND for an unknown model', async () => {
    const bad = call(client, 'ModelInfer', {
      model_name: 'churn',
      inputs: [
        { name: 'tenure', datatype: 'FP64', shape: [1], contents: { fp64_contents: [1] } },
        { name: 'monthly', datatype: 'FP64', shape: [1], contents: { fp64_contents: [NaN] } },
        { name: 'plan', datatype: 'BYTES', shape: [1], contents: { bytes_contents: [Buffer.from('gold')] } },
      ],
    });
    await expect(bad).rejects.toMatchObject({ code: grpc.status.INVALID_ARGUMENT });
    const err = (await bad.catch((e: grpc.ServiceError) => e)) as grpc.ServiceError;
    expect(err.details).toContain("inputs[1][0]: 'monthly' may not be NaN");
    expect(err.details).toContain("inputs[2][0]: 'plan' must be one of");
    expect(err.metadata.get('mlp-code')).toEqual(['INVALID_INPUT']);
    await expect(call(client, 'ModelInfer', { model_name: 'nope', inputs: [] })).rejects.toMatchObject({ code: grpc.status.NOT_FOUND });
    await expect(call(client, 'ModelMetadata', { name: 'churn', version: '4' })).rejects.toMatchObject({ code: grpc.status.NOT_FOUND });
  });
});
