import { randomBytes } from 'node:crypto';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { createArtifactStore } from '@mlp/artifacts';
import { streams, type ServiceName } from '@mlp/contracts';
import { JetStreamEventStore } from '@mlp/eventstore';
import { SeededRng } from '@mlp/ml';
import {
  eventually,
  freePort,
  ingestPenguins,
  penguinRows,
  penguinsSpec,
  penguinsTraffic,
  repoRoot,
  startDistributedPlatform,
  v2ProtoFile,
  type DistributedPlatform,
  type PenguinFeatures,
} from '@mlp/testing';

/** Known secret values: none of them may show up in any log line, event or artifact. */
const NATS_PASSWORD = `nats-pw-${randomBytes(16).toString('hex')}`;
const S3_SECRET = `s3-secret-${randomBytes(16).toString('hex')}`; // s3rver checks the access key, not signatures
const WEBHOOK_TOKEN = `hook-${randomBytes(16).toString('hex')}`;

const SERVICES: ServiceName[] = ['ingestion', 'feature-store', 'training', 'registry', 'serving', 'monitoring'];
const MUTATING = ['post', 'put', 'patch', 'delete'] as const;

/**
 * Routes that deliberately take a key without `write`: a key with the listed
 * scope is let through (the handler answers, here 400/404 for the made-up
 * names), every other non-admin key still gets 403.
 */
const EXCEPTIONS: Record<string, { scope: 'read' | 'push' | 'predict'; reason: string }> = {
  'feature-store POST /features/online': { scope: 'read', reason: 'a lookup of online features sent as a body (a query)' },
  'feature-store POST /feature-views/{name}/check-skew': { scope: 'read', reason: 'compares served and offline values (a query)' },
  'serving POST /v1/online-features': { scope: 'read', reason: 'the feature store lookup through serving (a query)' },
  'ingestion POST /datasets/{name}/rows': { scope: 'push', reason: 'HTTP push of rows: the push scope exists for it' },
  'serving POST /v1/models/{target}': { scope: 'predict', reason: 'inference' },
  'serving POST /v2/models/{m}/infer': { scope: 'predict', reason: 'inference' },
  'serving POST /v2/models/{m}/versions/{v}/infer': { scope: 'predict', reason: 'inference' },
  'serving POST /v1/feedback': { scope: 'predict', reason: 'ground truth for predictions, sent by the predicting client' },
  'serving POST /batch/inputs': { scope: 'predict', reason: 'the input file of a batch inference job' },
  'serving POST /batch/jobs': { scope: 'predict', reason: 'batch inference' },
};

/**
 * Who may call each method of `inference.GRPCInferenceService`: the same rule
 * as its REST twin. Liveness and server readiness are open (probes carry no
 * key: `/v2/health/live` and `/v2/health/ready` are public); metadata and
 * model readiness take `predict` or `read` (like `GET /v2`, `/v2/models/{m}`,
 * `/v2/models/{m}/ready`); inference takes `predict`. `admin` passes all.
 */
const GRPC_RULES: Record<string, { scopes: ('predict' | 'read')[] | 'open'; twin: [string, string]; request: unknown }> = {
  ServerLive: { scopes: 'open', twin: ['GET', '/v2/health/live'], request: {} },
  ServerReady: { scopes: 'open', twin: ['GET', '/v2/health/ready'], request: {} },
  ModelReady: { scopes: ['predict', 'read'], twin: ['GET', '/v2/models/sweep/ready'], request: { name: 'sweep' } },
  ServerMetadata: { scopes: ['predict', 'read'], twin: ['GET', '/v2'], request: {} },
  ModelMetadata: { scopes: ['predict', 'read'], twin: ['GET', '/v2/models/sweep'], request: { name: 'sweep' } },
  ModelInfer: { scopes: ['predict'], twin: ['POST', '/v2/models/sweep/infer'], request: { model_name: 'sweep', inputs: [{ name: 'x', datatype: 'FP64', shape: [1], contents: { fp64_contents: [1] } }] } },
};

type GrpcUnary = (request: unknown, metadata: grpc.Metadata, options: grpc.CallOptions, callback: (err: grpc.ServiceError | null, res: unknown) => void) => void;

/** The V2 service as an outside client builds it: @grpc/proto-loader on the published proto, nothing from serving's code. */
function v2Client(address: string): { client: grpc.Client & Record<string, GrpcUnary>; methods: string[] } {
  const definition = protoLoader.loadSync(v2ProtoFile, { keepCase: true, longs: Number, defaults: true });
  const Service = (grpc.loadPackageDefinition(definition) as unknown as { inference: { GRPCInferenceService: grpc.ServiceClientConstructor } }).inference.GRPCInferenceService;
  return { client: new Service(address, grpc.credentials.createInsecure()) as unknown as grpc.Client & Record<string, GrpcUnary>, methods: Object.keys(Service.service) };
}

/** One call: `{code}` is the gRPC status name (OK on success); the key goes where V2 clients put it. */
function grpcCall(client: grpc.Client & Record<string, GrpcUnary>, method: string, request: unknown, key?: { header: 'x-api-key' | 'authorization'; value: string }): Promise<{ code: string; details: string; response?: unknown }> {
  const metadata = new grpc.Metadata();
  if (key) metadata.set(key.header, key.header === 'authorization' ? `Bearer ${key.value}` : key.value);
  return new Promise((resolve) =>
    client[method](request, metadata, { deadline: Date.now() + 20_000 }, (err, res) =>
      resolve(err ? { code: grpc.status[err.code], details: err.details } : { code: 'OK', details: '', response: res }),
    ),
  );
}

/** A penguins row as V2 gRPC inputs (one typed tensor per feature). */
function penguinInputs(rows: PenguinFeatures[]) {
  return Object.keys(rows[0]).map((name) =>
    rows.some((r) => typeof r[name] === 'string')
      ? { name, datatype: 'BYTES', shape: [rows.length], contents: { bytes_contents: rows.map((r) => Buffer.from(String(r[name]))) } }
      : { name, datatype: 'FP64', shape: [rows.length], contents: { fp64_contents: rows.map((r) => (r[name] === null ? NaN : Number(r[name]))) } },
  );
}

interface Route {
  service: ServiceName;
  method: string;
  /** OpenAPI form, `/models/{name}`. */
  path: string;
}

const routeId = (r: Route) => `${r.service} ${r.method} ${r.path}`;
const concrete = (path: string, value = 'sweep') => path.replace(/\{[^}]+\}/g, value);

/** Every @Post/@Put/@Patch/@Delete in a service's controllers (and service-kit's, mounted in each): what OpenAPI must list. */
function declaredMutatingRoutes(service: ServiceName): number {
  const files = [...walk(join(repoRoot, 'services', service, 'src')), ...walk(join(repoRoot, 'libs/service-kit/src'))].filter((f) => f.endsWith('.controller.ts'));
  return files.reduce((n, f) => n + (readFileSync(f, 'utf8').match(/^\s*@(Post|Put|Patch|Delete)\(/gm)?.length ?? 0), 0);
}

function walk(dir: string): string[] {
  return readdirSync(dir).flatMap((e) => {
    const p = join(dir, e);
    return statSync(p).isDirectory() ? walk(p) : [p];
  });
}

/**
 * The security sweep across processes (each service its own OS process on a
 * real nats-server with a user/password and s3rver, auth on with a bootstrap
 * admin key): (a) every mutating HTTP route of every service, enumerated from
 * its OpenAPI document (and cross-checked against the controllers' source),
 * answers 401 without a key and 403 with keys of the wrong scope; (b) routes
 * that send artifacts refuse traversal in their parameters; (c) after a full
 * pipeline with known secrets (admin key, a created key, the NATS password,
 * the S3 secret key, a webhook token), no process output, event or artifact
 * holds any of them, while the webhook still receives its token.
 */
describe('security sweep across processes: keys on every mutating route, no traversal, no secret in logs or events', () => {
  jest.setTimeout(900_000);
  let platform: DistributedPlatform;
  const keys: Record<'read' | 'push' | 'predict' | 'write', string> = { read: '', push: '', predict: '', write: '' };
  const routes: Route[] = [];
  const received: string[] = [];
  let receiver: Server;
  let hookPort: number;
  let grpcPort: number;

  beforeAll(async () => {
    receiver = createServer((req, res) => {
      received.push(req.url ?? '');
      req.resume();
      req.on('end', () => res.writeHead(200).end('{}'));
    });
    await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
    hookPort = (receiver.address() as AddressInfo).port;
    platform = await startDistributedPlatform({
      prefix: 'e2e-security',
      natsAuth: { user: 'mlp-services', pass: NATS_PASSWORD },
      env: { LOG_LEVEL: 'debug', S3_SECRET_KEY: S3_SECRET, MLP_TRAINING_WORKERS: '1', MLP_MONITORING_WINDOW: '200', MLP_WEBHOOK_ALLOW: '127.0.0.1', MLP_WEBHOOK_BASE_DELAY_MS: '50' },
    });
    grpcPort = await freePort();
    for (const s of SERVICES) await platform.start(s, s, s === 'serving' ? { MLP_SERVING_GRPC_PORT: String(grpcPort) } : {});
    for (const scope of Object.keys(keys) as (keyof typeof keys)[]) {
      const created = await platform.call('registry', 'POST', '/auth/keys', { name: `sweep-${scope}`, scopes: [scope] });
      expect(created.status).toBe(201);
      keys[scope] = created.body.token;
    }
    for (const service of SERVICES) {
      const doc = (await (await fetch(platform.url(service, '/docs-json'))).json()) as { paths: Record<string, Record<string, unknown>> };
      for (const [path, ops] of Object.entries(doc.paths)) for (const m of MUTATING) if (ops[m]) routes.push({ service, method: m.toUpperCase(), path });
    }
  });

  afterAll(async () => {
    await platform?.stop();
    await new Promise((r) => receiver?.close(r));
  });

  it('(a) lists every mutating route of every service in OpenAPI: none escapes the sweep', () => {
    for (const service of SERVICES) {
      const documented = routes.filter((r) => r.service === service);
      expect({ service, count: documented.length }).toEqual({ service, count: declaredMutatingRoutes(service) });
    }
    expect(routes.length).toBeGreaterThan(40);
    for (const id of Object.keys(EXCEPTIONS)) expect(routes.map(routeId)).toContain(id); // no stale exception
  });

  it('(a) every mutating route: 401 without a key or with an unknown one, 403 with a key of the wrong scope', async () => {
    const problems: string[] = [];
    const send = async (r: Route, key?: string) => {
      const headers: Record<string, string> = { 'content-type': 'application/json' };
      if (key) headers['x-api-key'] = key;
      const res = await fetch(platform.url(r.service, concrete(r.path)), { method: r.method, headers, body: r.method === 'DELETE' ? undefined : '{}' });
      const body = (await res.text().catch(() => '')) as string;
      // The MLflow-compatible routes answer in MLflow's shape (`error_code`).
      return { status: res.status, code: (/"(?:code|error_code)":"([A-Z_]+)"/.exec(body) ?? [])[1] };
    };
    for (const r of routes) {
      const id = routeId(r);
      const none = await send(r);
      if (none.status !== 401 || !['UNAUTHORIZED', 'UNAUTHENTICATED'].includes(none.code ?? '')) problems.push(`${id} without a key: ${none.status} ${none.code}`);
      const unknown = await send(r, `mlp_000000000000_${'0'.repeat(43)}`);
      if (unknown.status !== 401) problems.push(`${id} with an unknown key: ${unknown.status}`);
      for (const scope of ['read', 'push', 'predict'] as const) {
        const res = await send(r, keys[scope]);
        const allowed = EXCEPTIONS[id]?.scope === scope;
        if (allowed ? res.status === 401 || res.status === 403 : res.status !== 403 || !['FORBIDDEN', 'PERMISSION_DENIED'].includes(res.code ?? '')) problems.push(`${id} with a ${scope} key: ${res.status} ${res.code}`);
      }
      if (r.path.startsWith('/auth/keys')) {
        const res = await send(r, keys.write);
        if (res.status !== 403) problems.push(`${id} with a write key (admin only): ${res.status}`);
      }
    }
    console.log(`security sweep: ${routes.length} mutating routes × 6 keys; exceptions: ${JSON.stringify(EXCEPTIONS, null, 1)}`);
    expect(problems).toEqual([]);
  });

  it('(d) gRPC: every method of inference.GRPCInferenceService (from the proto) answers UNAUTHENTICATED without a valid key and PERMISSION_DENIED without its scope, like its REST twin', async () => {
    const { client, methods } = v2Client(`127.0.0.1:${grpcPort}`);
    try {
      // No method escapes: every method the proto declares has a rule.
      expect([...methods].sort()).toEqual(Object.keys(GRPC_RULES).sort());
      /** What each created key holds (write implies read and push); `admin` passes everything. */
      const holds: Record<string, string[]> = { read: ['read'], push: ['push'], predict: ['predict'], write: ['write', 'read', 'push'], admin: ['admin'] };
      const variants: { name: string; key?: string; header: 'x-api-key' | 'authorization'; scope?: string }[] = [
        { name: 'no key', header: 'x-api-key' },
        { name: 'an unknown key', key: `mlp_000000000000_${'0'.repeat(43)}`, header: 'x-api-key' },
        { name: 'a malformed bearer', key: 'not-a-key', header: 'authorization' },
        ...(['read', 'push', 'predict', 'write'] as const).map((scope) => ({ name: `a ${scope} key`, key: keys[scope], header: 'x-api-key' as const, scope })),
        { name: 'a predict key as bearer', key: keys.predict, header: 'authorization', scope: 'predict' },
        { name: 'the admin key', key: platform.adminKey, header: 'x-api-key', scope: 'admin' },
      ];
      const problems: string[] = [];
      let calls = 0;
      for (const method of methods) {
        const rule = GRPC_RULES[method];
        for (const v of variants) {
          const expected =
            rule.scopes === 'open' ? 'passes' : !v.scope ? 'UNAUTHENTICATED' : holds[v.scope].some((h) => h === 'admin' || (rule.scopes as string[]).includes(h)) ? 'passes' : 'PERMISSION_DENIED';
          const res = await grpcCall(client, method, rule.request, v.key === undefined ? undefined : { header: v.header, value: v.key });
          calls++;
          const got = res.code === 'UNAUTHENTICATED' || res.code === 'PERMISSION_DENIED' ? res.code : 'passes';
          if (got !== expected) problems.push(`${method} with ${v.name}: ${res.code} ${res.details} (expected ${expected})`);
          if (got === 'passes' && res.code === 'INTERNAL') problems.push(`${method} with ${v.name}: INTERNAL ${res.details}`);
          if (v.key && res.details.includes(v.key)) problems.push(`${method} with ${v.name}: the key is echoed in the status details`);
          // Its REST twin draws the same line.
          const headers: Record<string, string> = { 'content-type': 'application/json' };
          if (v.key !== undefined) headers[v.header] = v.header === 'authorization' ? `Bearer ${v.key}` : v.key;
          const twin = await fetch(platform.url('serving', rule.twin[1]), { method: rule.twin[0], headers, body: rule.twin[0] === 'POST' ? '{"inputs":[]}' : undefined });
          await twin.arrayBuffer();
          const twinGot = twin.status === 401 ? 'UNAUTHENTICATED' : twin.status === 403 ? 'PERMISSION_DENIED' : 'passes';
          if (twinGot !== got) problems.push(`${method} with ${v.name}: gRPC ${got}, but ${rule.twin.join(' ')} ${twin.status}`);
        }
      }
      console.log(`gRPC sweep: ${methods.length} methods (${methods.join(', ')}) × ${variants.length} credentials = ${calls} calls, each against its REST twin; rules: ${JSON.stringify(Object.fromEntries(Object.entries(GRPC_RULES).map(([m, r]) => [m, r.scopes])))}`);
      expect(problems).toEqual([]);
    } finally {
      client.close();
    }
  });

  it('(c) a full pipeline with known secrets leaves none of them in logs, events or artifacts; (b) artifact routes refuse traversal', async () => {
    // ingest → train → register → serve → monitor, with a created key and a webhook whose URL carries a token.
    await ingestPenguins(platform.url('ingestion', ''), { headers: { 'x-api-key': platform.adminKey } });
    const webhook = `http://127.0.0.1:${hookPort}/hook?token=${WEBHOOK_TOKEN}`;
    const policy = `model: penguins\nwindow: {size: 200}\nactions: {onDrift: [alert], onDegraded: []}\nalerts: {webhook: "${webhook}"}\n`;
    const applied = await platform.call('monitoring', 'POST', '/policies', policy, { contentType: 'text/yaml' });
    expect(applied.status).toBe(200);
    expect(JSON.stringify(applied.body)).not.toContain(WEBHOOK_TOKEN);
    const runId = (await platform.call('training', 'POST', '/runs', penguinsSpec({ seed: 7 }), { contentType: 'text/yaml' })).body.runId as string;
    const events = await JetStreamEventStore.connect({ servers: platform.nats.url, auth: { user: 'mlp-services', pass: NATS_PASSWORD } });
    try {
      await eventually(async () => (await events.readStream(streams.model('penguins'))).some((e) => e.type === 'ModelVersionRegistered'), 300_000, 'version 1 registered');
      expect((await platform.call('registry', 'PUT', '/models/penguins/aliases/production', { version: 1, reason: 'sweep' })).status).toBe(200);
      const predict = async (rows: Record<string, unknown>[]) => {
        const res = await platform.call('serving', 'POST', '/v1/models/penguins:predict', { instances: rows }, { key: keys.predict });
        expect(res.status).toBe(200);
      };
      await eventually(async () => (await platform.call('serving', 'GET', '/v2/models/penguins/ready', undefined, { key: keys.predict })).status === 200, 120_000, 'penguins served');
      const rng = new SeededRng(5);
      const rows = penguinRows();
      await predict(penguinsTraffic(rows, rng, 200, true).map((r) => r.features));
      // Predictions over gRPC too, the key in the metadata both ways: the grep below covers them.
      const grpcClient = v2Client(`127.0.0.1:${grpcPort}`).client;
      try {
        const sample = penguinsTraffic(rows, rng, 40)
          .map((r) => r.features)
          .filter((f) => Object.values(f).every((v) => v !== null))
          .slice(0, 8);
        for (const key of [{ header: 'x-api-key' as const, value: keys.predict }, { header: 'authorization' as const, value: keys.predict }]) {
          const res = await grpcCall(grpcClient, 'ModelInfer', { model_name: 'penguins@production', id: 'sweep-grpc', inputs: penguinInputs(sample) }, key);
          expect({ code: res.code, details: res.details }).toEqual({ code: 'OK', details: '' });
          expect((res.response as { model_version: string }).model_version).toBe('1');
        }
        expect((await grpcCall(grpcClient, 'ModelInfer', { model_name: 'penguins@production', inputs: penguinInputs(sample) }, { header: 'x-api-key', value: keys.read })).code).toBe('PERMISSION_DENIED');
      } finally {
        grpcClient.close();
      }
      await eventually(async () => (await events.readStream(streams.monitor('penguins'))).some((e) => e.type === 'AlertDelivered'), 300_000, 'the drift alert delivered');
      // The webhook got its token on the wire, though the policy event only holds a sealed reference.
      expect(received.some((u) => u === `/hook?token=${WEBHOOK_TOKEN}`)).toBe(true);
      const appliedEvent = (await events.readStream(streams.monitor('penguins'))).find((e) => e.type === 'MonitoringPolicyApplied')!;
      expect((appliedEvent.data as { policy: { alerts: { webhook: string } } }).policy.alerts.webhook).toMatch(/token=\$\{sealed:v1\.[A-Za-z0-9_-]+\}$/);

      // (b) every GET route that sends an artifact or a file: traversal in any parameter is a 400/404, never a file.
      const docs = await Promise.all(SERVICES.map(async (s) => [s, ((await (await fetch(platform.url(s, '/docs-json'))).json()) as { paths: Record<string, Record<string, unknown>> }).paths] as const));
      const artifactRoutes = docs.flatMap(([s, paths]) => Object.keys(paths).filter((p) => paths[p].get && p.includes('{') && /artifact|report|data|output|input|download|parquet|file/i.test(p)).map((p) => ({ service: s, path: p })));
      expect(artifactRoutes.length).toBeGreaterThanOrEqual(5);
      const payloads = ['..%2F..%2F..%2Fetc%2Fpasswd', '%2e%2e%2f%2e%2e%2fetc%2fpasswd', '%2Fetc%2Fpasswd', '..%5C..%5Cwindows%5Cwin.ini', 'a%00b', '%252e%252e%252fetc', 'sha256%2F..%2F..%2Fsecrets.key'];
      const traversal: string[] = [];
      for (const { service, path } of artifactRoutes) {
        for (const payload of payloads) {
          const params = path.match(/\{[^}]+\}/g)!;
          for (const param of params) {
            const url = path.replace(/\{[^}]+\}/g, (p) => (p === param ? payload : p === '{version}' || p === '{v}' ? '1' : p === '{name}' || p === '{model}' ? 'penguins' : p === '{id}' || p === '{runId}' ? runId : 'x'));
            const res = await platform.fetch(service, url);
            const text = await res.text();
            if (![400, 404].includes(res.status) || /root:|\[fonts\]/.test(text)) traversal.push(`${service} GET ${url}: ${res.status} ${text.slice(0, 120)}`);
          }
        }
      }
      console.log(`traversal: ${artifactRoutes.length} artifact routes × ${payloads.length} payloads: ${artifactRoutes.map((r) => `${r.service} ${r.path}`).join(', ')}`);
      expect(traversal).toEqual([]);

      // (c) grep everything for every secret.
      const secrets: Record<string, string> = {
        'admin key': platform.adminKey,
        'created predict key': keys.predict,
        'created read key': keys.read,
        'created push key': keys.push,
        'created write key': keys.write,
        'NATS password': NATS_PASSWORD,
        'S3 secret key': S3_SECRET,
        'webhook token': WEBHOOK_TOKEN,
      };
      const hits: string[] = [];
      const grep = (where: string, text: string | Buffer) => {
        for (const [what, secret] of Object.entries(secrets)) if (text.includes(secret)) hits.push(`${what} in ${where}`);
      };
      for (const [name, p] of Object.entries(platform.processes)) {
        expect(p.fullOutput().length).toBeGreaterThan(0);
        grep(`${name}'s output`, p.fullOutput());
      }
      const all = await events.readAll();
      expect(all.length).toBeGreaterThan(20);
      for (const e of all) grep(`event ${e.type} (${e.stream})`, JSON.stringify(e));
      const artifacts = createArtifactStore(platform.env.ARTIFACTS_URL!, platform.env);
      let count = 0;
      for await (const entry of artifacts.list('')) {
        count++;
        grep(`artifact ${entry.key} metadata`, JSON.stringify(await artifacts.stat(entry.key)));
        if (entry.size < 64 * 1024 * 1024) grep(`artifact ${entry.key}`, await artifacts.getBuffer(entry.key));
      }
      expect(count).toBeGreaterThan(3);
      console.log(`secret grep: ${Object.keys(platform.processes).length} processes' output (${Object.values(platform.processes).reduce((n, p) => n + p.fullOutput().length, 0)} chars), ${all.length} events, ${count} artifacts`);
      expect(hits).toEqual([]);
    } finally {
      await events.close();
    }
  });
});
