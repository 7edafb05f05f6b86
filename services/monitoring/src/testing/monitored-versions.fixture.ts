import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect, type NatsConnection } from 'nats';
import { FsArtifactStore, type ArtifactStore } from '@mlp/artifacts';
import { streams, toNewEvent, type DomainEventInput, type EventData } from '@mlp/contracts';
import { JetStreamEventStore, type EventStore } from '@mlp/eventstore';
import type { SeededRng } from '@mlp/ml';
import { baseConfigSchema, loadConfig, startService, type StartedService } from '@mlp/service-kit';
import { freePort, startNatsServer, type NatsServerHandle } from '@mlp/testing';
import { monitoringService } from '../index';

const meta = { now: '2026-12-01T00:00:00.000Z', correlationId: 'seed', causationId: null, actor: 'test' };
/** An event as the test appends it (fixed metadata). */
export const seedEvent = (e: DomainEventInput) => toNewEvent(e, meta, { codeVersion: 'test' });

export const PLANS = ['basic', 'plus', 'pro'];

/** Rows of the training distribution (`amount` numeric, `plan` categorical), and a shifted one. */
export function churnTraffic(rng: SeededRng) {
  const pick = (weights: number[]) => {
    let u = rng.next();
    for (let i = 0; i < weights.length; i++) if ((u -= weights[i]) < 0) return PLANS[i];
    return PLANS[PLANS.length - 1];
  };
  return {
    trainingRow: () => ({ amount: rng.normal(50, 10), plan: pick([0.5, 0.3, 0.2]) }),
    shiftedRow: () => ({ amount: rng.normal(65, 10), plan: pick([0.2, 0.3, 0.5]) }),
  };
}

/**
 * Versions 1..n of `churn`, each trained on the same distribution: its run
 * evaluated (holdout accuracy 0.9) with a baseline whose reference sample is
 * an artifact of 800 training rows, then registered.
 */
export async function seedChurnVersions(store: EventStore, artifacts: ArtifactStore, rng: SeededRng, versions: number[]): Promise<void> {
  const { trainingRow } = churnTraffic(rng);
  const rows = Array.from({ length: 800 }, trainingRow);
  const sample = { columns: { amount: rows.map((r) => r.amount), plan: rows.map((r) => r.plan), prediction: rows.map(() => (rng.next() < 0.3 ? 'yes' : 'no')) } };
  const bytes = Buffer.from(JSON.stringify(sample));
  const { key } = await artifacts.put(bytes, { contentType: 'application/json', size: bytes.length });
  for (const version of versions) {
    const runId = `run${version}`;
    const baseline: EventData<'BaselineRecorded'> = {
      runId, experiment: 'churn', task: 'binary', classes: ['no', 'yes'], rows: 800, seed: 1, sampleArtifactKey: key, sampleRows: 800,
      columns: { amount: { kind: 'numeric', count: 800, missing: 0, mean: 50, std: 10, min: 0, max: 100 }, plan: { kind: 'categorical', count: 800, missing: 0, top: {}, distinct: 3 } },
      prediction: { kind: 'categorical', count: 800, missing: 0, top: {}, distinct: 2 },
    };
    await store.appendToStream(streams.run(runId), [
      seedEvent({ type: 'ModelEvaluated', data: { runId, metrics: { accuracy: 0.9 }, slices: {}, fairness: {}, baseline: { kind: 'none', metrics: {} }, comparison: {}, blessed: true } }),
      seedEvent({ type: 'BaselineRecorded', data: baseline }),
    ]);
    await store.appendToStream(streams.model('churn'), [seedEvent({ type: 'ModelVersionRegistered', data: { name: 'churn', version, runId, artifacts: {}, metrics: { accuracy: 0.9 } } })]);
  }
}

export interface MonitoringOnNats {
  nats: NatsServerHandle;
  dir: string;
  store: JetStreamEventStore;
  /** A plain connection, to publish telemetry as serving does. */
  nc: NatsConnection;
  artifacts: FsArtifactStore;
  /** Starts a monitoring app (NATS transport, telemetry from JetStream) on this store: call again after closing one for a restart. */
  start(): Promise<StartedService>;
  /** Stops the server and connections, removes the directory, restores process.env. */
  close(): Promise<void>;
}

/**
 * A real nats-server with the event store on JetStream and file artifacts
 * in a temp directory; `processEnv` (monitoring's settings, read from
 * process.env) stays set until close().
 */
export async function monitoringOnNats(processEnv: Record<string, string>): Promise<MonitoringOnNats> {
  const saved = { ...process.env };
  const nats = await startNatsServer();
  const dir = mkdtempSync(join(tmpdir(), 'mlp-monitoring-'));
  const store = await JetStreamEventStore.connect({ servers: nats.url });
  const nc = await connect({ servers: nats.url });
  const artifacts = new FsArtifactStore({ root: join(dir, 'artifacts') });
  Object.assign(process.env, { MLP_MONITORING_TELEMETRY: 'jetstream', ...processEnv });
  const env = { MLP_HOME: dir, LOG_LEVEL: 'silent', MLP_TRANSPORT: 'nats', NATS_URL: nats.url, MLP_AUTH: 'off', MLP_MONITORING_PORT: String(await freePort()) };
  return {
    nats,
    dir,
    store,
    nc,
    artifacts,
    start: () => startService(monitoringService, { runtime: { eventStore: store, artifacts, config: loadConfig(baseConfigSchema, env) }, env }),
    async close() {
      await nc.drain();
      await store.close();
      await nats.stop();
      rmSync(dir, { recursive: true, force: true });
      process.env = saved;
    },
  };
}
