import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect } from 'nats';
import { startService } from '@mlp/service-kit';
import { eventually, freePort, overrideEnv, startNatsCluster, type NatsClusterHandle } from '@mlp/testing';
import { trainingService } from '../index';
import { JetStreamTrialQueue } from './jetstream-trial-queue';

/**
 * MLP_TRIAL_QUEUE_REPLICAS reaches a real three-server JetStream cluster: the
 * trial work queue is created with the replicas configured (R3 as in
 * deploy/k8s), and an existing R1 queue is scaled to R3.
 */
describe('trial work queue replicas on a real NATS cluster', () => {
  jest.setTimeout(120_000);
  let cluster: NatsClusterHandle;

  beforeAll(async () => {
    cluster = await startNatsCluster({ size: 3 });
  });
  afterAll(async () => cluster?.stop());

  async function stream(): Promise<{ replicas: number; peers: number } | null> {
    const nc = await connect({ servers: cluster.urls });
    try {
      const info = await (await nc.jetstreamManager()).streams.info('MLP_TRIALS').catch(() => null);
      return info && { replicas: info.config.num_replicas, peers: new Set([info.cluster?.leader, ...(info.cluster?.replicas ?? []).map((r) => r.name)].filter(Boolean)).size };
    } finally {
      await nc.close();
    }
  }

  async function deleteStream(): Promise<void> {
    const nc = await connect({ servers: cluster.urls });
    try {
      await (await nc.jetstreamManager()).streams.delete('MLP_TRIALS').catch(() => undefined);
    } finally {
      await nc.close();
    }
  }

  it('a training service started with MLP_TRIAL_QUEUE_REPLICAS=3 creates the queue with three replicas', async () => {
    await deleteStream();
    const home = mkdtempSync(join(tmpdir(), 'mlp-train-replicas-'));
    const restore = overrideEnv({ MLP_TRIAL_QUEUE_REPLICAS: '3' });
    try {
      const env = { MLP_HOME: home, LOG_LEVEL: 'silent', MLP_TRANSPORT: 'nats', NATS_URL: cluster.url, MLP_AUTH: 'off', MLP_TRAINING_PORT: String(await freePort()) };
      const started = await startService(trainingService, { env });
      await started.close();
      await eventually(async () => (await stream())?.peers === 3, 30_000, 'three peers of MLP_TRIALS');
      expect(await stream()).toEqual({ replicas: 3, peers: 3 });
    } finally {
      restore();
      rmSync(home, { recursive: true, force: true });
    }
  });

  it('without the setting the queue has one replica; connecting with replicas 3 scales it to three', async () => {
    await deleteStream();
    await (await JetStreamTrialQueue.connect(cluster.url, { ackWaitMs: 2000 })).close();
    expect(await stream()).toEqual({ replicas: 1, peers: 1 });
    await (await JetStreamTrialQueue.connect(cluster.url, { ackWaitMs: 2000, replicas: 3 })).close();
    // The stream's peer list follows once the new replicas have caught up.
    await eventually(async () => (await stream())?.peers === 3, 30_000, 'three peers of MLP_TRIALS');
    expect(await stream()).toEqual({ replicas: 3, peers: 3 });
  });
});
