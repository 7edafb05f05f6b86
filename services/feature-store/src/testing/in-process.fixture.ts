import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FsArtifactStore } from '@mlp/artifacts';
import { envKey, serviceNames } from '@mlp/contracts';
import { SqliteEventStore } from '@mlp/eventstore';
import { baseConfigSchema, loadConfig, startService, type BaseConfig, type StartedService } from '@mlp/service-kit';
import { freePort } from '@mlp/testing';
import { ingestionService } from '@mlp/service-ingestion';
import { featureStoreService } from '../index';

export interface InProcessPlatform {
  dir: string;
  config: BaseConfig;
  store: SqliteEventStore;
  ingestion: StartedService;
  featureStore: StartedService;
  close(): Promise<void>;
}

/**
 * Ingestion and the feature store in this process on free ports, sharing a
 * SQLite event store and a file artifact store in a temp dir; the online store
 * is SQLite there too. `env` adds settings (e.g. MLP_AUTO_MATERIALIZE=off).
 */
export async function startIngestionAndFeatureStore(env: NodeJS.ProcessEnv = {}): Promise<InProcessPlatform> {
  const dir = mkdtempSync(join(tmpdir(), 'mlp-fs-'));
  const full: NodeJS.ProcessEnv = { MLP_HOME: dir, LOG_LEVEL: 'silent', ...env };
  for (const s of serviceNames) {
    full[`MLP_${envKey(s)}_PORT`] = String(await freePort());
    full[`MLP_${envKey(s)}_RPC_PORT`] = String(await freePort());
  }
  // The feature store reads its own settings from process.env.
  const saved = { MLP_ONLINE_STORE_URL: process.env.MLP_ONLINE_STORE_URL, MLP_AUTO_MATERIALIZE: process.env.MLP_AUTO_MATERIALIZE };
  Object.assign(process.env, { MLP_ONLINE_STORE_URL: `sqlite://${join(dir, 'online.db')}`, MLP_AUTO_MATERIALIZE: env.MLP_AUTO_MATERIALIZE ?? 'on' });
  const config = loadConfig(baseConfigSchema, full);
  const store = new SqliteEventStore(join(dir, 'events.db'), { pollIntervalMs: 20 });
  const runtime = { eventStore: store, artifacts: new FsArtifactStore({ root: join(dir, 'artifacts') }), config };
  const ingestion = await startService(ingestionService, { runtime, env: full });
  const featureStore = await startService(featureStoreService, { runtime, env: full });
  return {
    dir,
    config,
    store,
    ingestion,
    featureStore,
    async close() {
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
