import type { ServiceDefinition } from '@mlp/service-kit';
import { FeatureStoreModule } from './feature-store.module';

export const featureStoreService: ServiceDefinition = { service: 'feature-store', module: FeatureStoreModule };

/** The online store port and adapters, for benches. */
export * from './online';
