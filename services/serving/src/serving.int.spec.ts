import { join } from 'node:path';
import { streams, telemetryStream, type EventData } from '@mlp/contracts';
import { eventually } from '@mlp/testing';
import { SqliteTelemetrySink } from './telemetry/telemetry-sink';
import { assignAlias, churnRows, churnV2Metadata, registerVersion, removeAlias, storeTinyModel, type StoredTinyModel } from './testing/model.fixture';
import { startServingPlatform, type ServingPlatform } from './testing/serving-platform.fixture';

jest.setTimeout(120_000);

interface PredictBody {
  predictions: string[];
  probabilities: number[][];
  model: string;
  version: string;
  request_id: string;
}

describe('serving: lifecycle, V2 REST and the JSON API (in process)', () => {
  let s: ServingPlatform;
  let v1: StoredTinyModel;
  let v2: StoredTinyModel;
  const { rows } = churnRows(12, 99);

  const post = (path: string, body: unknown, headers: Record<string, string> = {}) =>
    fetch(`${s.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });
  const predict = async (model: string, instances: unknown[]) => {
    const res = await post(`/v1/models/${model}:predict`, { instances });
    return { status: res.status, body: (await res.json()) as PredictBody & { code?: string; details?: { path: string }[] } };
  };
  const servingEvents = async () => (await s.p.store.readStream(streams.serving('churn'))).map((e) => ({ type: e.type, data: e.data as Record<string, unknown> }));

  beforeAll(async () => {
    // Version 1 holds production before serving starts: serving finds it in the log.
    s = await startServingPlatform({ MLP_SERVING_MAX_LATENCY_MS: '1', MLP_SERVING_TELEMETRY_SAMPLE: '1' }, async (p) => {
      v1 = await storeTinyModel(p.artifacts, { epochs: 5 });
      v2 = await storeTinyModel(p.artifacts, { epochs: 40, seed: 2 });
      await registerVersion(p.store, 'churn', 1, v1);
      await assignAlias(p.store, 'churn', 'production', 1);
    });
  });
  afterAll(async () => s?.close());

  it('serves V2 health and server metadata', async () => {
    expect(await (await fetch(`${s.url}/v2/health/live`)).json()).toEqual({ live: true });
    expect(await (await fetch(`${s.url}/v2/health/ready`)).json()).toEqual({ ready: true });
    expect(await (await fetch(`${s.url}/v2`)).json()).toEqual({ name: 'mlp-serving', version: '1', extensions: [] });
  });

  it('describes a model from its signature, by alias, by version and by name', async () => {
    const meta = await (await fetch(`${s.url}/v2/models/churn@production`)).json();
    expect(meta).toEqual(churnV2Metadata('churn@production', ['1']));
    expect(((await (await fetch(`${s.url}/v2/models/churn/versions/1`)).json()) as { versions: string[] }).versions).toEqual(['1']);
    expect(((await (await fetch(`${s.url}/v2/models/churn:1`)).json()) as { versions: string[] }).versions).toEqual(['1']);
    expect(await (await fetch(`${s.url}/v2/models/churn@production/ready`)).json()).toEqual({ name: 'churn@production', ready: true });
    expect(await (await fetch(`${s.url}/v2/models/churn/versions/1/ready`)).json()).toEqual({ name: 'churn', version: '1', ready: true });
  });

  it('V2 infer with one tensor per feature equals the offline predictions, model_version is the registry version', async () => {
    const res = await post('/v2/models/churn@production/infer', {
      id: 'req-1',
      inputs: [
        { name: 'tenure', shape: [rows.length], datatype: 'FP64', data: rows.map((r) => r.tenure) },
        { name: 'monthly', shape: [rows.length, 1], datatype: 'FP64', data: rows.map((r) => [r.monthly]) },
        { name: 'plan', shape: [rows.length], datatype: 'BYTES', data: rows.map((r) => r.plan) },
      ],
    });
    expect(res.status).toBe(200);
    const body = (await res.json()) as { model_name: string; model_version: string; id: string; outputs: { name: string; shape: number[]; datatype: string; data: unknown[] }[] };
    expect(body).toMatchObject({ model_name: 'churn@production', model_version: '1', id: 'req-1' });
    const offline = Array.from(v1.offline(rows));
    const [labels, probs] = body.outputs;
    expect(labels).toMatchObject({ name: 'churn', datatype: 'BYTES', shape: [rows.length] });
    expect(labels.data).toEqual(offline.map((p) => (p >= 0.5 ? 'yes' : 'no')));
    expect(probs).toMatchObject({ name: 'probabilities', datatype: 'FP32', shape: [rows.length, 1] });
    (probs.data as number[]).forEach((p, i) => expect(p).toBeCloseTo(offline[i], 6));
  });

  it('V2 infer with one [N, F] tensor, and only the requested outputs', async () => {
    const res = await post('/v2/models/churn/versions/1/infer', {
      inputs: [{ name: 'input', shape: [2, 3], datatype: 'BYTES', data: rows.slice(0, 2).flatMap((r) => [String(r.tenure ?? 'NaN'), String(r.monthly), r.plan]) }],
      outputs: [{ name: 'probabilities' }],
    });
    expect(res.status).toBe(200);
    const body = (await res.json()) as { outputs: { name: string; data: number[] }[] };
    expect(body.outputs.map((o) => o.name)).toEqual(['probabilities']);
    const offline = v1.offline(rows.slice(0, 2));
    body.outputs[0].data.forEach((p, i) => expect(p).toBeCloseTo(offline[i], 6));
  });

  it('POST /v1/models/{m}:predict returns predictions, probabilities, model, version and request_id', async () => {
    const { status, body } = await predict('churn@production', rows.slice(0, 3));
    expect(status).toBe(200);
    const offline = v1.offline(rows.slice(0, 3));
    expect(body).toMatchObject({ model: 'churn', version: '1', predictions: Array.from(offline).map((p) => (p >= 0.5 ? 'yes' : 'no')) });
    expect(body.request_id).toMatch(/^[0-9a-f-]{36}$/);
    body.probabilities.forEach((p, i) => {
      expect(p[1]).toBeCloseTo(offline[i], 6);
      expect(p[0] + p[1]).toBeCloseTo(1, 6);
    });
  });

  it('unknown models and versions are 404, field errors are 400 naming the field (never 500)', async () => {
    expect((await predict('nope@production', rows.slice(0, 1))).status).toBe(404);
    expect((await fetch(`${s.url}/v2/models/churn/versions/9`)).status).toBe(404);
    const bad = await predict('churn', [{ ...rows[0], plan: 'gold' }, { tenure: 1, monthly: 'x', plan: 'pro' }, { ...rows[0], colour: 'red' }]);
    expect(bad.status).toBe(400);
    expect(bad.body.code).toBe('INVALID_INPUT');
    expect(bad.body.details!.map((d) => d.path)).toEqual(['instances[0].plan', 'instances[1].monthly', 'instances[2].colour']);
    const shape = await post('/v2/models/churn/infer', { inputs: [{ name: 'tenure', shape: [2], datatype: 'FP64', data: [1] }] });
    expect(shape.status).toBe(400);
    expect(((await shape.json()) as { error: string }).error).toContain('shape [2] holds 2 values, received 1');
  });

  it('hot swap under load: moving production to version 2 fails no request; v1 is unloaded after its in-flight requests', async () => {
    let stop = false;
    const seen = new Set<string>();
    const failures: unknown[] = [];
    const client = async () => {
      while (!stop) {
        const r = await predict('churn@production', rows.slice(0, 4)).catch((err: unknown) => ({ status: 0, body: err as never }));
        if (r.status !== 200) failures.push(r);
        else seen.add(r.body.version);
      }
    };
    const clients = Array.from({ length: 8 }, client);
    await eventually(async () => seen.has('1'), 10_000, 'traffic on v1');
    await registerVersion(s.p.store, 'churn', 2, v2);
    await assignAlias(s.p.store, 'churn', 'production', 2, 1);
    await eventually(async () => seen.has('2'), 30_000, 'traffic on v2');
    // Keep the traffic going a little after the swap.
    const after = seen.size;
    await eventually(async () => (await predict('churn@production', rows.slice(0, 1))).body.version === '2' && after === seen.size, 10_000, 'steady on v2');
    stop = true;
    await Promise.all(clients);
    expect(failures).toEqual([]);
    const events = await eventually(async () => {
      const e = await servingEvents();
      return e.some((x) => x.type === 'ModelUnloaded') ? e : undefined;
    }, 10_000, 'ModelUnloaded');
    expect(events.map((e) => [e.type, e.data.version])).toEqual([
      ['ModelLoaded', 1],
      ['ModelLoaded', 2],
      ['ModelUnloaded', 1],
    ]);
    expect(events[1].data).toMatchObject({ aliases: ['production'], backend: 'wasm', weightsSha256: v2.weightsSha256 });
    expect(events[2].data).toMatchObject({ reason: 'replaced' });
    expect((events[2].data.requests as number) > 0).toBe(true);
    // The new version answers with its own weights.
    const offline = v2.offline(rows.slice(0, 4));
    (await predict('churn@production', rows.slice(0, 4))).body.probabilities.forEach((p, i) => expect(p[1]).toBeCloseTo(offline[i], 6));
  });

  it('a failed load keeps the old version serving and records why', async () => {
    await registerVersion(s.p.store, 'churn', 3, { ...v2, artifacts: { ...v2.artifacts, preprocessing: 'sha256/' + '0'.repeat(64) } });
    await assignAlias(s.p.store, 'churn', 'production', 3, 2);
    const failed = await eventually(async () => (await servingEvents()).find((e) => e.type === 'ModelLoadFailed'), 15_000, 'ModelLoadFailed');
    expect(failed.data).toMatchObject({ name: 'churn', version: 3, aliases: ['production'], keptVersion: 2, code: 'ARTIFACT_UNAVAILABLE' });
    expect(failed.data.reason).toContain('sha256/' + '0'.repeat(64));
    expect((await predict('churn@production', rows.slice(0, 1))).body.version).toBe('2');
    // Back to a loadable version.
    await assignAlias(s.p.store, 'churn', 'production', 2, 3);
  });

  it('publishes telemetry off the hot path and records feedback for a request id', async () => {
    const { body } = await predict('churn@production', rows.slice(0, 2));
    const sink = new SqliteTelemetrySink(join(s.p.dir, telemetryStream.sqlite.file));
    try {
      const records = await eventually(async () => {
        const r = sink.predictions(100_000).filter((x) => x.requestId === body.request_id);
        return r.length === 2 ? r : undefined;
      }, 10_000, 'telemetry');
      expect(records[0]).toMatchObject({ model: 'churn', version: 2, arm: 'production', row: 0, features: { tenure: rows[0].tenure, monthly: rows[0].monthly, plan: rows[0].plan }, prediction: body.predictions[0] });
      expect(records[0].probabilities![1]).toBeCloseTo(body.probabilities[0][1], 6);
      expect(records[0].latencyMs).toBeGreaterThan(0);
      const fb = await post('/v1/feedback', { request_id: body.request_id, label: 'yes' });
      expect(fb.status).toBe(202);
      expect(await fb.json()).toEqual({ accepted: 1 });
      const batch = await post('/v1/feedback', { items: [{ request_id: body.request_id, row: 1, label: 'no' }] });
      expect(batch.status).toBe(202);
      const unknown = await post('/v1/feedback', { request_id: 'never-seen', label: 'no' });
      expect(unknown.status).toBe(404);
      const fbRows = await eventually(async () => {
        const f = sink.feedback().filter((x) => x.requestId === body.request_id);
        return f.length === 2 ? f : undefined;
      }, 10_000, 'feedback');
      expect(fbRows.map((f) => [f.model, f.row, f.label])).toEqual([
        ['churn', 0, 'yes'],
        ['churn', 1, 'no'],
      ]);
    } finally {
      await sink.close();
    }
  });

  it('exposes Prometheus metrics per model and version, and a status with loaded versions', async () => {
    const text = await (await fetch(`${s.url}/metrics`)).text();
    expect(text).toMatch(/serving_requests_total\{model="churn",version="2",protocol="rest-v1",code="OK"[^}]*\} \d+/);
    expect(text).toMatch(/serving_requests_total\{model="churn",version="1",protocol="rest-v1",code="INVALID_ARGUMENT"[^}]*\} \d+/);
    expect(text).toMatch(/serving_request_duration_seconds_bucket\{[^}]*model="churn",version="2"/);
    expect(text).toMatch(/serving_batch_size_bucket\{[^}]*model="churn",version="2"/);
    expect(text).toMatch(/serving_queue_depth\{model="churn",version="2"[^}]*\} 0/);
    const status = (await (await fetch(`${s.url}/v1/serving/status`)).json()) as { ready: boolean; models: { name: string; version: string; aliases: string[]; requests: number; weightsBytes: number }[]; routes: unknown[] };
    expect(status.ready).toBe(true);
    expect(status.models).toEqual([expect.objectContaining({ name: 'churn', version: '2', aliases: ['production'], backend: 'wasm' })]);
    expect(status.models[0].requests).toBeGreaterThan(0);
    expect(status.models[0].weightsBytes).toBeGreaterThan(0);
    expect(status.routes).toEqual([{ name: 'churn', alias: 'production', version: 2 }]);
  });

  it('restart: a new instance serves what the log says, with no operator action', async () => {
    await assignAlias(s.p.store, 'churn', 'staging', 1);
    await eventually(async () => (await predict('churn@staging', rows.slice(0, 1))).status === 200, 15_000, 'staging served');
    await s.restart();
    expect((await predict('churn@production', rows.slice(0, 1))).body.version).toBe('2');
    expect((await predict('churn@staging', rows.slice(0, 1))).body.version).toBe('1');
    const loaded = (await servingEvents()).filter((e) => e.type === 'ModelLoaded').slice(-2);
    expect(loaded.map((e) => e.data.version).sort()).toEqual([1, 2]);
  });

  it('removing an alias unloads the version it held', async () => {
    await removeAlias(s.p.store, 'churn', 'staging', 1);
    await eventually(async () => (await predict('churn@staging', rows.slice(0, 1))).status === 404, 15_000, 'staging gone');
    const unloaded = await eventually(async () => (await servingEvents()).filter((e) => e.type === 'ModelUnloaded').at(-1), 10_000, 'unloaded');
    expect(unloaded.data).toMatchObject({ version: 1, reason: 'alias-removed' } satisfies Partial<EventData<'ModelUnloaded'>>);
    expect((await predict('churn', rows.slice(0, 1))).body.version).toBe('2');
  });
});
