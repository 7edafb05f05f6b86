import { mkdtempSync, rmSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { INestApplicationContext } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { createArtifactStore } from '@mlp/artifacts';
import { subjects, type DeploymentView } from '@mlp/contracts';
import { createEventStore, type EventStore } from '@mlp/eventstore';
import { MLP_CLIENT, MessagingModule, type MlpClient } from '@mlp/messaging';
import { startService, type StartedService } from '@mlp/service-kit';
import { eventually, freePort, overrideEnv, startNatsServer, type NatsServerHandle } from '@mlp/testing';
import { servingService } from '../index';
import { ServingRuntime } from '../serving-runtime';
import { assignAlias, churnRows, registerVersion, storeTinyModel } from '../testing/model.fixture';
import { stickyBucket } from './deployment-router';
import { DeploymentsService } from './deployments.service';

jest.setTimeout(180_000);

/**
 * Two serving instances, each with its own JetStream event store connection
 * and subscriptions, behind one NATS queue group: a rollout started over
 * NATS reaches both from the events, and a sticky A/B split gives every key
 * the same arm on either instance.
 */
describe('deployments across two serving instances on one nats-server', () => {
  let nats: NatsServerHandle;
  let dir: string;
  let store: EventStore;
  let instances: StartedService[] = [];
  let context: INestApplicationContext;
  let client: MlpClient;
  const agent = new Agent({ keepAlive: true, maxSockets: 8 });
  let restoreEnv = () => undefined as void;
  const { rows } = churnRows(4, 3);

  const predictAt = (base: string, key: string): Promise<{ status: number; version: string }> =>
    new Promise((resolve, reject) => {
      const req = request(`${base}/v1/models/churn:predict`, { method: 'POST', agent, headers: { 'content-type': 'application/json', 'x-mlp-key': key } }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, version: (JSON.parse(Buffer.concat(chunks).toString('utf8')) as { version: string }).version }));
      });
      req.on('error', reject);
      req.end(JSON.stringify({ instances: [rows[0]] }));
    });
  /** One more serving instance: its own home, port, event store connection and subscriptions. */
  async function startInstance(): Promise<StartedService> {
    const env = {
      MLP_HOME: join(dir, `home-${instances.length}`),
      LOG_LEVEL: 'silent',
      MLP_AUTH: 'off',
      MLP_TRANSPORT: 'nats',
      NATS_URL: nats.url,
      EVENTSTORE_URL: nats.url,
      ARTIFACTS_URL: `file://${join(dir, 'artifacts')}`,
      MLP_SERVING_PORT: String(await freePort()),
    };
    return startService(servingService, { env });
  }
  const loadedOn = (s: StartedService, version: number) => s.app.get(ServingRuntime).models.list().some((v) => v.loaded.version === version && !v.retiring);

  beforeAll(async () => {
    nats = await startNatsServer();
    dir = mkdtempSync(join(tmpdir(), 'mlp-deployments-nats-'));
    restoreEnv = overrideEnv({ MLP_SERVING_GRPC_PORT: '-1', MLP_SERVING_TELEMETRY: 'off', MLP_SERVING_MAX_LATENCY_MS: '1' });
    store = await createEventStore(nats.url);
    const artifacts = createArtifactStore(`file://${join(dir, 'artifacts')}`);
    await registerVersion(store, 'churn', 1, await storeTinyModel(artifacts, { epochs: 5 }));
    await registerVersion(store, 'churn', 2, await storeTinyModel(artifacts, { epochs: 40, seed: 2 }));
    await assignAlias(store, 'churn', 'production', 1);
    for (let i = 0; i < 2; i++) instances.push(await startInstance());
    context = await NestFactory.createApplicationContext(MessagingModule.forService('registry', { MLP_TRANSPORT: 'nats', NATS_URL: nats.url }), { logger: false });
    client = context.get(MLP_CLIENT);
    for (const s of instances) await eventually(async () => loadedOn(s, 1) && (await predictAt(s.url, 'warm')).status === 200, 60_000, `instance ${s.url} serving`);
  });

  afterAll(async () => {
    agent.destroy();
    await context?.close();
    for (const s of instances) await s.close();
    instances = [];
    await store?.close();
    await nats?.stop();
    restoreEnv();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('converges both instances on the split from the events, and a sticky A/B key gets the same arm on either', async () => {
    const started = await client.send<DeploymentView>(subjects.cmd.serving.startDeployment, { model: 'churn', version: 2, strategy: 'ab', sticky: { header: 'x-mlp-key' } });
    const id = started.active!.deploymentId;
    expect(started.split).toEqual([
      { arm: 'stable', version: 1, weight: 50 },
      { arm: 'candidate', version: 2, weight: 50 },
    ]);
    // Each instance follows the deployment stream and loads the candidate itself.
    for (const s of instances) {
      await eventually(async () => s.app.get(DeploymentsService).router.get('churn')?.rollout.deploymentId === id && loadedOn(s, 2), 60_000, `instance ${s.url} on the rollout`);
    }

    const keys = Array.from({ length: 200 }, (_, i) => `customer-${i}`);
    const arms: string[] = [];
    for (const key of keys) {
      const [a, b, again] = await Promise.all([predictAt(instances[0].url, key), predictAt(instances[1].url, key), predictAt(instances[0].url, key)]);
      expect([a.status, b.status, again.status]).toEqual([200, 200, 200]);
      expect({ key, b: b.version, again: again.version }).toEqual({ key, b: a.version, again: a.version });
      // The arm is the key's FNV-1a bucket within this rollout.
      expect({ key, version: a.version }).toEqual({ key, version: stickyBucket(id, key) < 50 ? '2' : '1' });
      arms.push(a.version);
    }
    const share = arms.filter((v) => v === '2').length / arms.length;
    expect(share).toBeGreaterThan(0.35);
    expect(share).toBeLessThan(0.65);

    // An instance started during the rollout reads it from the log before it reports ready: from then on it agrees.
    const third = await startInstance();
    instances.push(third);
    await eventually(async () => (await fetch(`${third.url}/v2/health/ready`, { headers: { connection: 'close' } })).ok, 60_000, 'third instance ready');
    for (const [i, key] of keys.slice(0, 60).entries()) expect({ key, version: (await predictAt(third.url, key)).version }).toEqual({ key, version: arms[i] });

    // The query over NATS and GET on each instance tell the same split and history.
    const viaNats = await client.send<DeploymentView>(subjects.qry.serving.getDeployment, { model: 'churn' });
    for (const s of instances) {
      const viaHttp = (await (await fetch(`${s.url}/deployments/churn`, { headers: { connection: 'close' } })).json()) as DeploymentView;
      expect(viaHttp).toEqual(viaNats);
    }
    expect(viaNats.history.map((h) => h.type)).toEqual(['DeploymentStarted']);

    // A rollback over NATS returns every key to the stable version on both instances.
    const rolledBack = await client.send<DeploymentView>(subjects.cmd.serving.rollbackDeployment, { model: 'churn', reason: 'experiment over' });
    expect(rolledBack.split).toEqual([{ arm: 'stable', version: 1, weight: 100 }]);
    for (const s of instances) await eventually(async () => s.app.get(DeploymentsService).router.get('churn') === undefined, 30_000, 'rollout cleared');
    for (const key of keys.slice(0, 40)) {
      const [a, b] = await Promise.all([predictAt(instances[0].url, key), predictAt(instances[1].url, key)]);
      expect([a.version, b.version]).toEqual(['1', '1']);
    }
  });
});
