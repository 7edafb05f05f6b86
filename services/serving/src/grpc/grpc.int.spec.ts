import * as grpc from '@grpc/grpc-js';
import { v2GrpcCall as call, v2GrpcClient, type V2GrpcClient } from '@mlp/testing';
import { churnRows, churnV2Metadata, promoteTinyModel, type StoredTinyModel } from '../testing/model.fixture';
import { startServingPlatform, type ServingPlatform } from '../testing/serving-platform.fixture';

jest.setTimeout(120_000);

interface InferResponse {
  model_name: string;
  model_version: string;
  id: string;
  outputs: { name: string; datatype: string; shape: number[]; contents: { bytes_contents: Buffer[]; fp32_contents: number[] } }[];
}

describe('gRPC inference.GRPCInferenceService (conformance, proto-loader client)', () => {
  let s: ServingPlatform;
  let v1: StoredTinyModel;
  let client: V2GrpcClient;
  const { rows } = churnRows(6, 5);

  beforeAll(async () => {
    s = await startServingPlatform({}, async (p) => {
      v1 = await promoteTinyModel(p, { epochs: 10 });
    });
    client = v2GrpcClient(`127.0.0.1:${s.grpcPort}`);
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
    expect(await call(client, 'ModelMetadata', { name: 'churn', version: '1' })).toEqual(churnV2Metadata('churn', ['1']));
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
