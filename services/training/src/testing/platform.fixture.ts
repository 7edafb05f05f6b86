import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FsArtifactStore } from '@mlp/artifacts';
import { envKey, serviceNames } from '@mlp/contracts';
import { SqliteEventStore } from '@mlp/eventstore';
import { baseConfigSchema, loadConfig, startService, type BaseConfig, type StartedService } from '@mlp/service-kit';
import { freePort } from '@mlp/testing';
import { ingestionService } from '@mlp/service-ingestion';
import { featureStoreService } from '@mlp/service-feature-store';
import { trainingService } from '../index';

export interface TrainingPlatform {
  dir: string;
  config: BaseConfig;
  store: SqliteEventStore;
  artifacts: FsArtifactStore;
  ingestion: StartedService;
  featureStore: StartedService;
  training: StartedService;
  close(): Promise<void>;
}

/**
 * Ingestion, the feature store and training in this process on free ports
 * (embedded mode: TCP transport, in-process trial queue), sharing a SQLite
 * event store and a file artifact store in a temp dir.
 */
export async function startTrainingPlatform(env: NodeJS.ProcessEnv = {}): Promise<TrainingPlatform> {
  const dir = mkdtempSync(join(tmpdir(), 'mlp-train-'));
  const full: NodeJS.ProcessEnv = { MLP_HOME: dir, LOG_LEVEL: 'silent', ...env };
  for (const s of serviceNames) {
    full[`MLP_${envKey(s)}_PORT`] = String(await freePort());
    full[`MLP_${envKey(s)}_RPC_PORT`] = String(await freePort());
  }
  const saved = { MLP_ONLINE_STORE_URL: process.env.MLP_ONLINE_STORE_URL, MLP_TRAINING_WORKERS: process.env.MLP_TRAINING_WORKERS };
  Object.assign(process.env, { MLP_ONLINE_STORE_URL: `sqlite://${join(dir, 'online.db')}`, MLP_TRAINING_WORKERS: env.MLP_TRAINING_WORKERS ?? '2' });
  const config = loadConfig(baseConfigSchema, full);
  const store = new SqliteEventStore(join(dir, 'events.db'), { pollIntervalMs: 20 });
  const artifacts = new FsArtifactStore({ root: join(dir, 'artifacts') });
  const runtime = { eventStore: store, artifacts, config };
  const ingestion = await startService(ingestionService, { runtime, env: full });
  const featureStore = await startService(featureStoreService, { runtime, env: full });
  const training = await startService(trainingService, { runtime, env: full });
  return {
    dir,
    config,
    store,
    artifacts,
    ingestion,
    featureStore,
    training,
    async close() {
      await training.close();
      await featureStore.close();
      await ingestion.close();
      await store.close();
      for (const [k, v] of Object.entries(saved)) {
        if (v === undefined) delete process.env[k];
        else process.env[k] = v;
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
