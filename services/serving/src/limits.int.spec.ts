import * as grpc from '@grpc/grpc-js';
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { telemetryStream } from '@mlp/contracts';
import { eventually, v2GrpcCall, v2GrpcClient, type V2GrpcClient } from '@mlp/testing';
import { SqliteTelemetrySink } from './telemetry/telemetry-sink';
import { churnRows, promoteTinyModel } from './testing/model.fixture';
import { startServingPlatform, type ServingPlatform } from './testing/serving-platform.fixture';

jest.setTimeout(120_000);

const ADMIN = 'admin-key-for-the-serving-limits-test-000000';
const { rows } = churnRows(50, 3);

const grpcInfer = (client: V2GrpcClient, key?: string) => {
  const request = {
    model_name: 'churn',
    inputs: [
      { name: 'tenure', datatype: 'FP64', shape: [1], contents: { fp64_contents: [3] } },
      { name: 'monthly', datatype: 'FP64', shape: [1], contents: { fp64_contents: [40] } },
      { name: 'plan', datatype: 'BYTES', shape: [1], contents: { bytes_contents: [Buffer.from('pro')] } },
    ],
  };
  return v2GrpcCall(client, 'ModelInfer', request, key);
};

async function platformWithModel(processEnv: Record<string, string>, env: NodeJS.ProcessEnv = {}): Promise<ServingPlatform> {
  return startServingPlatform(processEnv, async (p) => void (await promoteTinyModel(p, { epochs: 3 })), env);
}

describe('serving auth and per-key rate limits (REST and gRPC)', () => {
  let s: ServingPlatform;
  let client: V2GrpcClient;
  const keys: Record<string, string> = {};
  const predict = (key?: string) =>
    fetch(`${s.url}/v1/models/churn:predict`, { method: 'POST', headers: { 'content-type': 'application/json', ...(key ? { 'x-api-key': key } : {}) }, body: JSON.stringify({ instances: rows.slice(0, 1) }) });

  beforeAll(async () => {
    s = await platformWithModel({ MLP_SERVING_RATE_LIMIT: '0.5', MLP_SERVING_RATE_BURST: '3' }, { MLP_AUTH: 'on', MLP_ADMIN_KEY: ADMIN });
    for (const [name, scopes] of [['reader', ['read']], ['app', ['predict']], ['app2', ['predict']], ['grpc-app', ['predict']]] as const) {
      const res = await fetch(`${s.url}/auth/keys`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-api-key': ADMIN }, body: JSON.stringify({ name, scopes }) });
      expect(res.status).toBe(201);
      keys[name] = ((await res.json()) as { token: string }).token;
    }
    client = v2GrpcClient(`127.0.0.1:${s.grpcPort}`);
  });
  afterAll(async () => {
    client?.close();
    await s?.close();
  });

  it('REST: 401 without a valid key, 403 without the predict scope, health stays open', async () => {
    expect((await predict()).status).toBe(401);
    expect((await predict('mlp_000000000000_nope')).status).toBe(401);
    const forbidden = await predict(keys.reader);
    expect(forbidden.status).toBe(403);
    expect(((await forbidden.json()) as { code: string }).code).toBe('FORBIDDEN');
    expect((await fetch(`${s.url}/v2/health/ready`)).status).toBe(200);
    // read is enough for metadata.
    expect((await fetch(`${s.url}/v2/models/churn`, { headers: { 'x-api-key': keys.reader } })).status).toBe(200);
  });

  it('REST: the burst passes, then 429 with Retry-After; another key has its own bucket', async () => {
    const statuses: number[] = [];
    let limited: Response | undefined;
    for (let i = 0; i < 5; i++) {
      const res = await predict(keys.app);
      statuses.push(res.status);
      if (res.status === 429) limited = res;
    }
    expect(statuses).toEqual([200, 200, 200, 429, 429]);
    expect(Number(limited!.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect(((await limited!.json()) as { code: string }).code).toBe('RATE_LIMITED');
    expect((await predict(keys.app2)).status).toBe(200);
    expect(await (await fetch(`${s.url}/metrics`)).text()).toMatch(/serving_rate_limited_total\{protocol="rest-v1"[^}]*\} 2/);
  });

  it('gRPC: UNAUTHENTICATED, PERMISSION_DENIED, then RESOURCE_EXHAUSTED past the burst', async () => {
    await expect(grpcInfer(client)).rejects.toMatchObject({ code: grpc.status.UNAUTHENTICATED });
    await expect(grpcInfer(client, keys.reader)).rejects.toMatchObject({ code: grpc.status.PERMISSION_DENIED });
    const outcomes: (number | 'ok')[] = [];
    let exhausted: grpc.ServiceError | undefined;
    for (let i = 0; i < 4; i++) {
      try {
        await grpcInfer(client, keys['grpc-app']);
        outcomes.push('ok');
      } catch (err) {
        exhausted = err as grpc.ServiceError;
        outcomes.push(exhausted.code);
      }
    }
    expect(outcomes).toEqual(['ok', 'ok', 'ok', grpc.status.RESOURCE_EXHAUSTED]);
    expect(Number(exhausted!.metadata.get('retry-after')[0])).toBeGreaterThanOrEqual(1);
  });

  it('telemetry holds a hash of the key id, never the key or its id', async () => {
    const sink = new SqliteTelemetrySink(join(s.p.dir, telemetryStream.sqlite.file));
    try {
      const records = await eventually(async () => {
        const r = sink.predictions();
        return r.length >= 3 ? r : undefined;
      }, 10_000, 'telemetry');
      const ids = Object.values(keys).map((t) => t.split('_')[1]);
      for (const r of records) {
        expect(r.keyHash).toMatch(/^[0-9a-f]{16}$/);
        const text = JSON.stringify(r);
        for (const [i, token] of Object.values(keys).entries()) {
          expect(text).not.toContain(token);
          expect(text).not.toContain(ids[i]);
        }
      }
    } finally {
      await sink.close();
    }
  });
});

describe('serving load shedding', () => {
  let s: ServingPlatform;
  beforeAll(async () => {
    s = await platformWithModel({ MLP_SERVING_MAX_QUEUE: '2000', MLP_SERVING_MAX_BATCH_SIZE: '5000', MLP_SERVING_MAX_LATENCY_MS: '0' });
  });
  afterAll(async () => s?.close());

  it('past the bounded queue the answer is 503 with Retry-After; every other request succeeds', async () => {
    // 2000-row requests: while one is parsed and validated, the others wait in their sockets, and once two reach the
    // queue together (before a predict drains it) the second one does not fit in MLP_SERVING_MAX_QUEUE=2000.
    const body = JSON.stringify({ instances: churnRows(2000, 11).rows });
    // The clients run in another process, as real clients do: the server's event loop is its own.
    const script = `const body = require('fs').readFileSync(0, 'utf8');
Promise.all(Array.from({ length: 40 }, () => fetch(process.argv[1], { method: 'POST', headers: { 'content-type': 'application/json' }, body })
  .then(async (r) => ({ status: r.status, retryAfter: r.headers.get('retry-after'), code: r.status === 200 ? undefined : (await r.json()).code }))))
  .then((out) => console.log(JSON.stringify(out)));`;
    const stdout = await new Promise<string>((resolve, reject) => {
      const child = execFile(process.execPath, ['-e', script, `${s.url}/v1/models/churn:predict`], { timeout: 60_000 }, (err, out) => (err ? reject(err) : resolve(out)));
      child.stdin!.end(body);
    });
    const responses = JSON.parse(stdout) as { status: number; retryAfter: string | null; code?: string }[];
    const shed = responses.filter((r) => r.status === 503);
    expect(responses.map((r) => r.status).filter((st) => st !== 503 && st !== 200)).toEqual([]);
    expect(shed.length).toBeGreaterThan(0);
    expect(responses.filter((r) => r.status === 200).length).toBeGreaterThan(0);
    expect(shed[0]).toEqual({ status: 503, retryAfter: '1', code: 'OVERLOADED' });
    expect(await (await fetch(`${s.url}/metrics`)).text()).toMatch(/serving_shed_total\{model="churn",version="1"[^}]*\} [1-9]/);
  });
});

describe('MLP_SERVING_FAST_PATH=off: the Nest controllers answer inference, with @nestjs/throttler guarding them', () => {
  let s: ServingPlatform;
  beforeAll(async () => {
    s = await platformWithModel({ MLP_SERVING_FAST_PATH: 'off', MLP_SERVING_RATE_LIMIT: '0.5', MLP_SERVING_RATE_BURST: '2' });
  });
  afterAll(async () => s?.close());

  it('predicts, validates and limits the same way', async () => {
    const post = (path: string, body: unknown) => fetch(`${s.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    const ok = await post('/v1/models/churn:predict', { instances: rows.slice(0, 2) });
    expect(ok.status).toBe(200);
    expect(((await ok.json()) as { version: string }).version).toBe('1');
    const v2 = await post('/v2/models/churn/infer', { inputs: [{ name: 'tenure', shape: [1], datatype: 'FP64', data: [1] }, { name: 'monthly', shape: [1], datatype: 'FP64', data: [20] }, { name: 'plan', shape: [1], datatype: 'BYTES', data: ['gold'] }] });
    expect(v2.status).toBe(400);
    expect((await v2.json()) as object).toMatchObject({ code: 'INVALID_INPUT', details: [{ path: 'inputs[2][0]' }], error: expect.stringContaining("'plan' must be one of") });
    const limited = await post('/v1/models/churn:predict', { instances: rows.slice(0, 1) });
    expect(limited.status).toBe(429);
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect(((await limited.json()) as { code: string }).code).toBe('RATE_LIMITED');
  });
});
