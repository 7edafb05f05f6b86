import { join } from 'node:path';
import type { BaseConfig, StartedService } from '@mlp/service-kit';
import type { SqliteEventStore } from '@mlp/eventstore';
import { startInProcessServices } from '@mlp/service-kit/testing';
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
  // The feature store reads its own settings from process.env.
  const p = await startInProcessServices([ingestionService, featureStoreService], {
    prefix: 'fs',
    env,
    processEnv: (dir) => ({ MLP_ONLINE_STORE_URL: `sqlite://${join(dir, 'online.db')}`, MLP_AUTO_MATERIALIZE: env.MLP_AUTO_MATERIALIZE ?? 'on' }),
  });
  const [ingestion, featureStore] = p.services;
  return { dir: p.dir, config: p.config, store: p.store, ingestion, featureStore, close: p.close };
}
