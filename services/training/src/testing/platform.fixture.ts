import { join } from 'node:path';
import type { FsArtifactStore } from '@mlp/artifacts';
import type { SqliteEventStore } from '@mlp/eventstore';
import type { BaseConfig, StartedService } from '@mlp/service-kit';
import { startInProcessServices } from '@mlp/service-kit/testing';
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
 * Ingestion, the feature store and training in this process (embedded mode: TCP transport, in-process trial
 * queue unless `trainingEnv` sets MLP_TRIAL_QUEUE=jetstream). `trainingEnv` holds the settings training and the
 * feature store read from process.env (MLP_TRIAL_QUEUE, MLP_TRAINING_WORKERS, …).
 */
export async function startTrainingPlatform(env: NodeJS.ProcessEnv = {}, trainingEnv: Record<string, string> = {}): Promise<TrainingPlatform> {
  // The feature store and training read their own settings from process.env.
  const p = await startInProcessServices([ingestionService, featureStoreService, trainingService], {
    prefix: 'train',
    env,
    processEnv: (dir) => ({ MLP_ONLINE_STORE_URL: `sqlite://${join(dir, 'online.db')}`, MLP_TRAINING_WORKERS: env.MLP_TRAINING_WORKERS ?? '2', ...trainingEnv }),
  });
  const [ingestion, featureStore, training] = p.services;
  return { dir: p.dir, config: p.config, store: p.store, artifacts: p.artifacts, ingestion, featureStore, training, close: p.close };
}
