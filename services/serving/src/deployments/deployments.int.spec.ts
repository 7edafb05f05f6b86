import { Agent, request } from 'node:http';
import { join } from 'node:path';
import { streams, telemetryStream, toNewEvent, type DeploymentView, type EventData } from '@mlp/contracts';
import { registryService } from '@mlp/service-registry';
import { startInProcessServices, type InProcessServices } from '@mlp/service-kit/testing';
import * as grpc from '@grpc/grpc-js';
import { eventually, runMlp, v2GrpcClient } from '@mlp/testing';
import { GrpcInferenceServer } from '../grpc/grpc-inference.server';
import { servingService } from '../index';
import { ServingRuntime } from '../serving-runtime';
import { SqliteTelemetrySink } from '../telemetry/telemetry-sink';
import { assignAlias, churnRows, registerVersion, storeTinyModel, type ChurnRow, type StoredTinyModel } from '../testing/model.fixture';
import { stickyBucket } from './deployment-router';
import { DeploymentsService } from './deployments.service';

jest.setTimeout(180_000);

interface Reply {
  status: number;
  body: { version?: string; predictions?: string[]; probabilities?: number[][]; request_id?: string; code?: string; details?: { path: string }[] };
}

/**
 * Rollouts on one serving instance with the registry beside it (promotion
 * moves the registry alias), on a SQLite event store: every request goes
 * through the real HTTP server and the real models.
 */
describe('deployments: blue-green, canary, auto policy and shadow through HTTP', () => {
  let p: InProcessServices;
  let url: string;
  let runtime: ServingRuntime;
  let deployments: DeploymentsService;
  let v1: StoredTinyModel;
  let v2: StoredTinyModel;
  const agent = new Agent({ keepAlive: true, maxSockets: 16 });
  const { rows } = churnRows(64, 11);

  const call = (method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<Reply> =>
    new Promise((resolve, reject) => {
      const payload = body === undefined ? undefined : JSON.stringify(body);
      const req = request(`${url}${path}`, { method, agent, headers: { 'content-type': 'application/json', ...headers } }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}') }));
      });
      req.on('error', reject);
      req.end(payload);
    });
  const predict = (instances: ChurnRow[], headers: Record<string, string> = {}) => call('POST', '/v1/models/churn:predict', { instances }, headers);
  const view = async () => (await call('GET', '/deployments/churn')).body as unknown as DeploymentView;
  const loaded = (version: number) => runtime.models.list().some((s) => s.loaded.name === 'churn' && s.loaded.version === version && !s.retiring);

  /** `n` predictions with `concurrency` in flight; returns the replies in order. */
  async function burst(n: number, concurrency = 16): Promise<Reply[]> {
    const out: Reply[] = new Array(n);
    let next = 0;
    await Promise.all(
      Array.from({ length: concurrency }, async () => {
        while (next < n) {
          const i = next++;
          out[i] = await predict([rows[i % rows.length]]);
        }
      }),
    );
    return out;
  }

  const policy = { minRequests: 40, maxErrorRate: 0.05, maxP99Ms: 600_000 };
  /** A 50 % canary of `version` under the policy, with traffic until the policy ends it. */
  async function autoCanary(version: number, withPolicy: object = policy): Promise<void> {
    expect((await call('POST', '/deployments', { model: 'churn', version, strategy: 'canary', weight: 50, auto: true, policy: withPolicy })).status).toBe(201);
    await eventually(async () => loaded(version), 60_000, `version ${version} loaded`);
    await eventually(async () => {
      await burst(40, 8);
      return (await view()).active === null;
    }, 60_000, 'the policy ending the rollout');
  }

  beforeAll(async () => {
    p = await startInProcessServices([registryService, servingService], {
      prefix: 'deployments',
      processEnv: () => ({ MLP_SERVING_GRPC_PORT: '0', MLP_SERVING_MAX_LATENCY_MS: '1', MLP_SERVING_TELEMETRY_SAMPLE: '1' }),
    });
    v1 = await storeTinyModel(p.artifacts, { epochs: 5 });
    v2 = await storeTinyModel(p.artifacts, { epochs: 40, seed: 2 });
    // Version 3 takes differently named inputs: every request clients send today fails on it (an incompatible canary).
    const v3 = await storeTinyModel(p.artifacts, { epochs: 5, prefix: 'cust__' });
    await registerVersion(p.store, 'churn', 1, v1);
    await registerVersion(p.store, 'churn', 2, v2);
    await registerVersion(p.store, 'churn', 3, v3);
    await assignAlias(p.store, 'churn', 'production', 1);
    const serving = p.services[1];
    url = serving.url;
    runtime = serving.app.get(ServingRuntime);
    deployments = serving.app.get(DeploymentsService);
    await runtime.whenStarted();
    await deployments.whenCaughtUp();
    await eventually(async () => loaded(1) && (await predict(rows.slice(0, 1))).status === 200, 30_000, 'v1 serving');
  });

  afterAll(async () => {
    agent.destroy();
    await p?.close();
  });

  it('blue-green: switches all traffic to the warm new version and back on rollback, with zero failed requests under load', async () => {
    const replies: Reply[] = [];
    let stop = false;
    const workers = Array.from({ length: 8 }, async (_, w) => {
      for (let i = w; !stop; i += 8) replies.push(await predict([rows[i % rows.length]]));
    });
    const lastAll = (version: string, k = 40) => replies.length >= k && replies.slice(-k).every((r) => r.body.version === version);
    await eventually(async () => replies.length > 100, 30_000, 'load running');

    const started = await call('POST', '/deployments', { model: 'churn', version: 2, strategy: 'blue-green', reason: 'new colour' });
    expect(started.status).toBe(201);
    expect((started.body as unknown as DeploymentView).split).toEqual([
      { arm: 'stable', version: 1, weight: 0 },
      { arm: 'candidate', version: 2, weight: 100 },
    ]);
    // Until version 2 is loaded and warm, version 1 answers; then every request goes to 2.
    await eventually(async () => lastAll('2'), 60_000, 'all traffic on version 2');
    const switchedAt = replies.length;

    const rolledBack = await call('POST', '/deployments/churn/rollback', { reason: 'bad colour' });
    expect(rolledBack.status).toBe(200);
    expect((rolledBack.body as unknown as DeploymentView).split).toEqual([{ arm: 'stable', version: 1, weight: 100 }]);
    await eventually(async () => replies.length > switchedAt + 100 && lastAll('1'), 60_000, 'all traffic back on version 1');
    stop = true;
    await Promise.all(workers);

    expect(replies.filter((r) => r.status !== 200)).toEqual([]);
    expect(new Set(replies.map((r) => r.body.version))).toEqual(new Set(['1', '2']));
    const history = (await view()).history.map((h) => h.type);
    expect(history).toEqual(['DeploymentStarted', 'DeploymentRolledBack', 'DeploymentCompleted']);
    // The candidate is unloaded once the rollout is over.
    await eventually(async () => !loaded(2), 30_000, 'version 2 unloaded');
  });

  it('canary: the split holds within ±3 % over 10k requests; a shift moves it; weights that do not sum to 100 are refused', async () => {
    const started = await call('POST', '/deployments', { model: 'churn', version: 2, strategy: 'canary', weight: 10 });
    expect(started.status).toBe(201);
    await eventually(async () => loaded(2), 60_000, 'version 2 loaded');
    const share = (replies: Reply[]) => replies.filter((r) => r.body.version === '2').length / replies.length;

    const first = await burst(10_000);
    expect(first.filter((r) => r.status !== 200)).toEqual([]);
    expect(Math.abs(share(first) - 0.1)).toBeLessThanOrEqual(0.03);

    const bad = await call('POST', '/deployments/churn/shift', { weights: { stable: 60, candidate: 50 } });
    expect(bad.status).toBe(400);
    expect(bad.body.details?.map((d) => d.path)).toEqual(['weights']);
    const shifted = await call('POST', '/deployments/churn/shift', { weight: 50, reason: 'looks fine' });
    expect(shifted.status).toBe(200);
    const second = await burst(2_000);
    expect(Math.abs(share(second) - 0.5)).toBeLessThanOrEqual(0.03);

    // One rollout per model: a second start is a 409 naming the active one.
    const again = await call('POST', '/deployments', { model: 'churn', version: 3, strategy: 'canary' });
    expect(again.status).toBe(409);
    expect(again.body.code).toBe('ROLLOUT_ACTIVE');
    expect((await call('POST', '/deployments/churn/rollback')).status).toBe(200);

    const v = await view();
    expect(v.active).toBeNull();
    expect(v.history.map((h) => h.type).slice(-4)).toEqual(['DeploymentStarted', 'TrafficShifted', 'DeploymentRolledBack', 'DeploymentCompleted']);
    expect(v.history.find((h) => h.type === 'TrafficShifted')?.data).toMatchObject({ from: { stable: 90, candidate: 10 }, to: { stable: 50, candidate: 50 }, by: 'hand', reason: 'looks fine' });
  });

  it('canary --auto: rolls back by itself when the candidate fails, with the policy and its decision in the event', async () => {
    await autoCanary(3);
    const events = await p.store.readStream(streams.deployment('churn'));
    const rolledBack = events.filter((e) => e.type === 'DeploymentRolledBack').pop()!.data as EventData<'DeploymentRolledBack'>;
    expect(rolledBack).toMatchObject({ by: 'policy', restoredVersion: 1, candidateVersion: 3, policy: { ...policy, metrics: [] }, decision: { outcome: 'rollback' } });
    expect(rolledBack.decision!.requests).toBeGreaterThanOrEqual(40);
    expect(rolledBack.decision!.errorRate).toBeGreaterThan(0.05);
    expect(rolledBack.decision!.reasons[0]).toMatch(/^error rate [0-9.]+ > 0.05$/);
    expect(rolledBack.actor).toMatch(/^serving:/);
    const after = await burst(50, 8);
    expect(after.every((r) => r.status === 200 && r.body.version === '1')).toBe(true);
  });

  it('canary --auto: promotes a healthy candidate by itself, and the registry alias follows', async () => {
    await autoCanary(2);
    const v = await view();
    const events = await p.store.readStream(streams.deployment('churn'));
    expect(v.split).toEqual([{ arm: 'stable', version: 2, weight: 100 }]);
    const promoted = v.history.filter((h) => h.type === 'DeploymentPromoted').pop()!.data as EventData<'DeploymentPromoted'>;
    expect(promoted).toMatchObject({ by: 'policy', alias: 'production', version: 2, previousVersion: 1, decision: { outcome: 'promote', errors: 0, errorRate: 0, reasons: [] } });
    expect(promoted.decision!.p99Ms).toBeGreaterThan(0);
    // The registry moved the alias (its own event, by the serving instance).
    const aliasMoves = (await p.store.readStream(streams.model('churn'))).filter((e) => e.type === 'ModelAliasAssigned').map((e) => e.data as EventData<'ModelAliasAssigned'>);
    expect(aliasMoves.pop()).toMatchObject({ alias: 'production', version: 2, previousVersion: 1 });
    await eventually(async () => !loaded(1), 30_000, 'version 1 unloaded');
    const after = await burst(50, 8);
    expect(after.every((r) => r.status === 200 && r.body.version === '2')).toBe(true);
    // The candidate stayed loaded from the rollout into the alias: loaded once, never dropped and reloaded.
    const startedAt = events.filter((e) => e.type === 'DeploymentStarted').pop()!.position;
    const servingLog = (await p.store.readStream(streams.serving('churn'))).filter((e) => e.position > startedAt && (e.data as { version: number }).version === 2);
    expect(servingLog.map((e) => e.type)).toEqual(['ModelLoaded']);
  });

  it('shadow: answers equal the answers without shadow; the challenger’s outputs are in telemetry; its errors never reach callers', async () => {
    const sample = rows.slice(0, 20);
    const send = (tag: string) => Promise.all(sample.map((r, i) => predict([r], { 'x-request-id': `${tag}-${i}` })));
    const strip = (replies: Reply[]) => replies.map((r) => ({ status: r.status, version: r.body.version, predictions: r.body.predictions, probabilities: r.body.probabilities }));
    const without = await send('plain');

    // Version 1 shadows production (version 2) on every request.
    expect((await call('POST', '/deployments', { model: 'churn', version: 1, strategy: 'shadow', weight: 100 })).status).toBe(201);
    await eventually(async () => loaded(1), 60_000, 'challenger loaded');
    const withShadow = await send('shadowed');
    expect(strip(withShadow)).toEqual(strip(without));

    const sink = new SqliteTelemetrySink(join(p.dir, telemetryStream.sqlite.file));
    try {
      const shadowRecords = await eventually(async () => {
        await runtime.telemetry.flush();
        const found = sink.predictions(100_000).filter((t) => t.arm === 'shadow' && t.requestId.startsWith('shadowed-'));
        return found.length === sample.length ? found : undefined;
      }, 30_000, 'shadow telemetry');
      const offline = v1.offline(sample);
      for (const t of shadowRecords) {
        const i = Number(t.requestId.slice('shadowed-'.length));
        expect(t).toMatchObject({ model: 'churn', version: 1, row: 0 });
        expect(t.probabilities![1]).toBeCloseTo(offline[i], 6);
      }
      // The primary answers are in telemetry too, under their own arm.
      expect(sink.predictions(100_000).filter((t) => t.requestId.startsWith('shadowed-') && t.arm === 'stable').map((t) => t.version)).toEqual(sample.map(() => 2));
    } finally {
      await sink.close();
    }
    expect((await call('POST', '/deployments/churn/rollback')).status).toBe(200);

    // An incompatible challenger fails on every mirrored request: callers never see it.
    expect((await call('POST', '/deployments', { model: 'churn', version: 3, strategy: 'shadow', weight: 100 })).status).toBe(201);
    await eventually(async () => loaded(3), 60_000, 'incompatible challenger loaded');
    expect(strip(await send('failing'))).toEqual(strip(without));
    await eventually(async () => {
      const text = await (await fetch(`${url}/metrics`)).text();
      return /serving_shadow_requests_total\{model="churn",version="3",code="INVALID_ARGUMENT"[^}]*\} 20$/m.test(text);
    }, 30_000, 'shadow failures counted');
    expect((await call('POST', '/deployments/churn/rollback')).status).toBe(200);
  });

  it('refuses bad input with field details, promoting without a rollout, and shifting a blue-green rollout', async () => {
    const docs = (await (await fetch(`${url}/docs-json`)).json()) as { paths: Record<string, unknown> };
    expect(Object.keys(docs.paths).filter((k) => k.startsWith('/deployments')).sort()).toEqual([
      '/deployments',
      '/deployments/{model}',
      '/deployments/{model}/promote',
      '/deployments/{model}/rollback',
      '/deployments/{model}/shift',
    ]);
    const bad = await call('POST', '/deployments', { model: 'churn', version: 'x', strategy: 'purple' });
    expect(bad.status).toBe(400);
    expect(bad.body.details?.map((d) => d.path).sort()).toEqual(['strategy', 'version']);
    const none = await call('POST', '/deployments/churn/promote');
    expect(none.status).toBe(409);
    expect(none.body.code).toBe('NO_ACTIVE_ROLLOUT');
    const missing = await call('POST', '/deployments', { model: 'churn', version: 9, strategy: 'canary' });
    expect(missing.status).toBe(404);
    const other = runtime.models.aliasVersion('churn', 'production') === 1 ? 2 : 1;
    expect((await call('POST', '/deployments', { model: 'churn', version: other, strategy: 'blue-green' })).status).toBe(201);
    const shift = await call('POST', '/deployments/churn/shift', { weight: 50 });
    expect(shift.status).toBe(409);
    expect(shift.body.code).toBe('NOT_SHIFTABLE');
    expect((await call('POST', '/deployments/churn/rollback')).status).toBe(200);
  });

  it('canary schedule: moves to each step by itself, then promotes after the last one', async () => {
    // Production holds version 2: version 1 comes back through a scheduled canary.
    expect((await call('POST', '/deployments', { model: 'churn', version: 1, strategy: 'canary', schedule: { steps: [20, 60], everySeconds: 1 } })).status).toBe(201);
    await eventually(async () => (await view()).active === null, 60_000, 'the schedule finishing the rollout');
    const events = (await view()).history.slice(-4);
    expect(events.map((h) => [h.type, h.data.by])).toEqual([
      ['DeploymentStarted', undefined],
      ['TrafficShifted', 'schedule'],
      ['DeploymentPromoted', 'schedule'],
      ['DeploymentCompleted', undefined],
    ]);
    expect(events[1].data).toMatchObject({ from: { stable: 80, candidate: 20 }, to: { stable: 40, candidate: 60 } });
    expect(events[2].data).toMatchObject({ version: 1, previousVersion: 2 });
    await eventually(async () => runtime.models.aliasVersion('churn', 'production') === 1, 30_000, 'the registry alias on version 1');
  });

  it('canary --auto: checks the model metrics monitoring supplies for the candidate', async () => {
    const evaluated = toNewEvent(
      {
        type: 'PerformanceEvaluated',
        data: { model: 'churn', version: 2, arm: 'candidate', labelled: 500, correct: 300, metrics: { accuracy: 0.6 }, reference: { accuracy: 0.9 }, from: '2026-01-01T00:00:00Z', to: '2026-01-01T01:00:00Z', seq: 1 },
      },
      { now: new Date().toISOString(), correlationId: 'monitoring', causationId: null, actor: 'monitoring' },
      { codeVersion: 'test' },
    );
    await p.store.appendToStream(streams.monitor('churn'), [evaluated]);
    await autoCanary(2, { ...policy, metrics: [{ metric: 'accuracy', op: '>=', value: 0.8 }] });
    const rolledBack = (await view()).history.filter((h) => h.type === 'DeploymentRolledBack').pop()!.data as EventData<'DeploymentRolledBack'>;
    expect(rolledBack.decision).toMatchObject({ outcome: 'rollback', errors: 0, metrics: { accuracy: 0.6 }, reasons: ['accuracy 0.6 is not >= 0.8'] });
  });

  it('mlp deploy / deploy shift / deploy rollback / deployments drive the same API', async () => {
    const mlp = (args: string[]) => runMlp(args, { MLP_SERVING_URL: url, MLP_API_KEY: '', MLP_ADMIN_KEY: '', MLP_ACTOR: 'cli-user' });
    // Production holds version 1 again: a canary of version 2, sticky by a header.
    const started = await mlp(['deploy', 'churn', '--version', '2', '--strategy', 'canary', '--weight', '20', '--sticky-header', 'x-mlp-key', '--json']);
    expect(started.stderr).toBe('');
    const view = JSON.parse(started.stdout) as DeploymentView;
    expect(view.active).toMatchObject({ strategy: 'canary', stableVersion: 1, candidateVersion: 2, weights: { stable: 80, candidate: 20 }, sticky: { header: 'x-mlp-key' } });
    expect((await mlp(['deploy', 'shift', 'churn', '--weight', '30'])).stdout).toContain('split: stable v1 70% | candidate v2 30%');
    const printed = await mlp(['deployments', 'churn']);
    expect(printed.status).toBe(0);
    expect(printed.stdout).toContain('churn@production: canary rollout');
    expect(printed.stdout).toMatch(/TrafficShifted\s+cli-user\s+80\/20 → 70\/30 by hand/);
    const bad = await mlp(['deploy', 'churn', '--version', '2', '--strategy', 'purple']);
    expect(bad.status).toBe(1);
    expect(bad.stderr).toContain('strategy');
    const rolledBack = await mlp(['deploy', 'rollback', 'churn', '--reason', 'enough', '--json']);
    expect((JSON.parse(rolledBack.stdout) as DeploymentView).split).toEqual([{ arm: 'stable', version: 1, weight: 100 }]);
    const again = await mlp(['deploy', 'rollback', 'churn']);
    expect(again.status).toBe(1);
    expect(again.stderr).toContain('no active rollout');
    // mlp promote --canary starts the same rollout (the alias moves on promotion).
    const viaPromote = await mlp(['promote', 'churn', '2', '--alias', 'production', '--canary', '15', '--json']);
    expect((JSON.parse(viaPromote.stdout) as DeploymentView).active).toMatchObject({ strategy: 'canary', alias: 'production', stableVersion: 1, candidateVersion: 2, weights: { stable: 85, candidate: 15 } });
    expect((await call('POST', '/deployments/churn/rollback')).status).toBe(200);
  }, 420_000); // seven CLI processes, each loading the whole CLI (about 4 s of CPU each)

  it('a sticky split keys on gRPC metadata as on HTTP headers: the same key gets the same arm over both', async () => {
    const started = await call('POST', '/deployments', { model: 'churn', version: 2, strategy: 'ab', sticky: { header: 'x-mlp-key' } });
    expect(started.status).toBe(201);
    const id = (started.body as unknown as DeploymentView).active!.deploymentId;
    await eventually(async () => loaded(2), 60_000, 'version 2 loaded');
    const client = v2GrpcClient(`127.0.0.1:${p.services[1].app.get(GrpcInferenceServer).port}`);
    const r = rows[0];
    const inferRequest = {
      model_name: 'churn',
      inputs: [
        { name: 'tenure', datatype: 'FP64', shape: [1], contents: { fp64_contents: [r.tenure ?? NaN] } },
        { name: 'monthly', datatype: 'FP64', shape: [1], contents: { fp64_contents: [r.monthly] } },
        { name: 'plan', datatype: 'BYTES', shape: [1], contents: { bytes_contents: [Buffer.from(r.plan)] } },
      ],
    };
    const overGrpc = (key: string) =>
      new Promise<string>((resolve, reject) => {
        const metadata = new grpc.Metadata();
        metadata.set('x-mlp-key', key);
        client.ModelInfer(inferRequest, metadata, (err, res) => (err ? reject(err) : resolve((res as { model_version: string }).model_version)));
      });
    try {
      for (let i = 0; i < 40; i++) {
        const key = `user-${i}`;
        const [rest, viaGrpc] = await Promise.all([predict([r], { 'x-mlp-key': key }), overGrpc(key)]);
        expect({ key, rest: rest.body.version, grpc: viaGrpc }).toEqual({ key, rest: stickyBucket(id, key) < 50 ? '2' : '1', grpc: rest.body.version });
      }
    } finally {
      client.close();
    }
    expect((await call('POST', '/deployments/churn/rollback')).status).toBe(200);
  });

  it('a promotion seen before its alias move keeps the promoted version loaded until the alias arrives', async () => {
    const started = await call('POST', '/deployments', { model: 'churn', version: 2, strategy: 'canary', weight: 10 });
    const id = (started.body as unknown as DeploymentView).active!.deploymentId;
    await eventually(async () => loaded(2), 60_000, 'version 2 loaded');
    const startedAt = (await p.store.readStream(streams.deployment('churn'))).pop()!.position;
    // Another instance promoted (its events arrive here before the registry's alias move does).
    const meta = { now: new Date().toISOString(), correlationId: 'elsewhere', causationId: null, actor: 'serving:other' };
    await p.store.appendToStream(streams.deployment('churn'), [
      toNewEvent({ type: 'DeploymentPromoted', data: { model: 'churn', deploymentId: id, alias: 'production', version: 2, previousVersion: 1, by: 'hand', actor: 'ana' } }, meta, { codeVersion: 'test' }),
      toNewEvent({ type: 'DeploymentCompleted', data: { model: 'churn', deploymentId: id, outcome: 'promoted', stableVersion: 2 } }, meta, { codeVersion: 'test' }),
    ]);
    await eventually(async () => deployments.router.get('churn') === undefined, 30_000, 'rollout over here');
    await runtime.models.settled();
    expect(loaded(2)).toBe(true);
    await assignAlias(p.store, 'churn', 'production', 2, 1);
    await eventually(async () => (await predict(rows.slice(0, 1))).body.version === '2', 30_000, 'the alias on version 2');
    await eventually(async () => !runtime.models.routesView().some((r) => r.alias.startsWith('~')), 30_000, 'pin released');
    const v2Log = (await p.store.readStream(streams.serving('churn'))).filter((e) => e.position > startedAt && (e.data as { version: number }).version === 2);
    expect(v2Log.map((e) => e.type)).toEqual(['ModelLoaded']);
  });
});
