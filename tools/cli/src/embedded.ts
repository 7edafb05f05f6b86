import { mkdirSync } from 'node:fs';
import { createArtifactStore } from '@mlp/artifacts';
import { serviceNames } from '@mlp/contracts';
import { createEventStore } from '@mlp/eventstore';
import { natsAuth } from '@mlp/messaging';
import { baseConfigSchema, loadConfig, startService, type ServiceDefinition, type StartedService } from '@mlp/service-kit';
import { ingestionService } from '@mlp/service-ingestion';
import { featureStoreService } from '@mlp/service-feature-store';
import { trainingService } from '@mlp/service-training';
import { registryService } from '@mlp/service-registry';
import { servingService } from '@mlp/service-serving';
import { monitoringService } from '@mlp/service-monitoring';

export const allServices: ServiceDefinition[] = [
  ingestionService,
  featureStoreService,
  trainingService,
  registryService,
  servingService,
  monitoringService,
];

export interface EmbeddedPlatform {
  services: StartedService[];
  home: string;
  eventStoreUrl: string;
  close(): Promise<void>;
}

/**
 * All six services in this process, each its own Nest app and port, sharing
 * one event store (SQLite under MLP_HOME by default) and one artifact store.
 */
export async function startEmbedded(env: NodeJS.ProcessEnv = process.env): Promise<EmbeddedPlatform> {
  const config = loadConfig(baseConfigSchema, env);
  mkdirSync(config.MLP_HOME, { recursive: true });
  const eventStore = await createEventStore(config.EVENTSTORE_URL, { auth: natsAuth(config) });
  const artifacts = createArtifactStore(config.ARTIFACTS_URL, env);
  const runtime = { eventStore, artifacts, config };
  const settled = await Promise.allSettled(allServices.map((definition) => startService(definition, { runtime, env })));
  const services = settled.flatMap((s) => (s.status === 'fulfilled' ? [s.value] : []));
  const close = async () => {
    await Promise.all(services.map((s) => s.close()));
    await eventStore.close();
  };
  const failed = settled.find((s): s is PromiseRejectedResult => s.status === 'rejected');
  if (failed) {
    await close();
    throw failed.reason;
  }
  services.sort((a, b) => serviceNames.indexOf(a.service) - serviceNames.indexOf(b.service));
  return { services, home: config.MLP_HOME, eventStoreUrl: config.EVENTSTORE_URL, close };
}
