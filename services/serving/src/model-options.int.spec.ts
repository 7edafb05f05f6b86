import * as grpc from '@grpc/grpc-js';
import { v2GrpcCall, v2GrpcClient, type V2GrpcClient } from '@mlp/testing';
import { assignAlias, churnRows, registerVersion, storeTinyModel } from './testing/model.fixture';
import { startServingPlatform, type ServingPlatform } from './testing/serving-platform.fixture';

jest.setTimeout(120_000);

/**
 * What a model's own settings change: MLP_SERVING_MODEL_OPTIONS overrides
 * the batching of one model (maxBatchSize, maxLatencyMs), and the min/max
 * its signature declares bound its inputs on every protocol.
 */
describe('serving: per-model batching options and signature bounds', () => {
  let s: ServingPlatform;
  let client: V2GrpcClient;
  const { rows } = churnRows(8, 9);

  beforeAll(async () => {
    const options = { small: { maxBatchSize: 2 }, patient: { maxLatencyMs: 10_000 } };
    s = await startServingPlatform({ MLP_SERVING_MAX_BATCH_SIZE: '64', MLP_SERVING_MAX_LATENCY_MS: '0', MLP_SERVING_MODEL_OPTIONS: JSON.stringify(options) }, async (p) => {
      const stored = await storeTinyModel(p.artifacts, { epochs: 3 });
      for (const name of ['small', 'wide', 'patient']) {
        await registerVersion(p.store, name, 1, stored);
        await assignAlias(p.store, name, 'production', 1);
      }
      const bounded = { ...stored, signature: { ...stored.signature, inputs: stored.signature.inputs.map((i) => (i.name === 'monthly' ? { ...i, min: 0, max: 500 } : i)) } };
      await registerVersion(p.store, 'bounded', 1, bounded);
      await assignAlias(p.store, 'bounded', 'production', 1);
    });
    client = v2GrpcClient(`127.0.0.1:${s.grpcPort}`);
  });
  afterAll(async () => {
    client?.close();
    await s?.close();
  });

  /** Rows per predict call of a model so far, from its batch-size histogram (count and sum). */
  async function batches(model: string): Promise<{ count: number; sum: number }> {
    const { values } = await s.runtime.metrics.batchSize.get();
    const of = (suffix: string) => values.find((v) => v.metricName === `serving_batch_size_${suffix}` && v.labels.model === model)?.value ?? 0;
    return { count: of('count'), sum: of('sum') };
  }

  /** Six one-row requests queued in the same turn of the event loop. */
  const sixAtOnce = (model: string, timeoutMs?: number) =>
    Promise.all(rows.slice(0, 6).map((r) => s.runtime.inference.predictInstances({ name: model }, undefined, [r], { protocol: 'rest-v1', ...(timeoutMs ? { timeoutMs } : {}) })));

  it('maxBatchSize per model: six queued rows run as 2 + 2 + 2 on the overridden model, as one batch of 6 on the default', async () => {
    const before = { small: await batches('small'), wide: await batches('wide') };
    await Promise.all([sixAtOnce('small'), sixAtOnce('wide')]);
    const small = await batches('small');
    const wide = await batches('wide');
    expect({ count: small.count - before.small.count, sum: small.sum - before.small.sum }).toEqual({ count: 3, sum: 6 });
    expect({ count: wide.count - before.wide.count, sum: wide.sum - before.wide.sum }).toEqual({ count: 1, sum: 6 });
  });

  it('maxLatencyMs per model: once batches were seen, a lone request waits for company on the overridden model (its own deadline ends it), not on the default', async () => {
    // Both models learn that requests come six at a time.
    await Promise.all([sixAtOnce('patient'), sixAtOnce('wide')]);
    // A lone request: the default (maxLatencyMs 0) runs it at once; the patient model (10 s window) holds it
    // until its 300 ms deadline answers 504, independent of the window.
    const lone = (model: string) => s.runtime.inference.predictInstances({ name: model }, undefined, [rows[7]], { protocol: 'rest-v1', timeoutMs: 300 });
    await expect(lone('wide')).resolves.toMatchObject({ n: 1 });
    await expect(lone('patient')).rejects.toMatchObject({ code: 'DEADLINE_EXCEEDED' });
  });

  it('a value below the declared min → 400 (REST) naming the field', async () => {
    const res = await fetch(`${s.url}/v1/models/bounded:predict`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ instances: [rows[0], { ...rows[1], monthly: -3 }] }),
    });
    expect(res.status).toBe(400);
    const body = (await res.json()) as { code: string; details: { path: string; message: string }[] };
    expect(body.code).toBe('INVALID_INPUT');
    expect(body.details).toEqual([{ path: 'instances[1].monthly', message: "'monthly' must be at least 0, received -3" }]);
  });

  it('a value above the declared max → 400 on V2 REST and INVALID_ARGUMENT on gRPC, naming the field', async () => {
    const inputs = (monthly: number) => [
      { name: 'tenure', datatype: 'FP64', shape: [1], data: [3] },
      { name: 'monthly', datatype: 'FP64', shape: [1], data: [monthly] },
      { name: 'plan', datatype: 'BYTES', shape: [1], data: ['pro'] },
    ];
    const ok = await fetch(`${s.url}/v2/models/bounded/infer`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ inputs: inputs(500) }) });
    expect(ok.status).toBe(200);
    const rest = await fetch(`${s.url}/v2/models/bounded/infer`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ inputs: inputs(501) }) });
    expect(rest.status).toBe(400);
    expect(((await rest.json()) as { details: unknown[] }).details).toEqual([{ path: 'inputs[1][0]', message: "'monthly' must be at most 500, received 501" }]);

    const grpcInputs = inputs(750).map(({ data, ...t }) => ({ ...t, contents: t.datatype === 'BYTES' ? { bytes_contents: (data as string[]).map((d) => Buffer.from(d)) } : { fp64_contents: data } }));
    const err = (await v2GrpcCall(client, 'ModelInfer', { model_name: 'bounded', inputs: grpcInputs }).catch((e: grpc.ServiceError) => e)) as grpc.ServiceError;
    expect(err.code).toBe(grpc.status.INVALID_ARGUMENT);
    expect(err.details).toContain("inputs[1][0]: 'monthly' must be at most 500, received 750");
  });
});
