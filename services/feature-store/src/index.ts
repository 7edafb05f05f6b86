import type { ServiceDefinition } from '@mlp/service-kit';
import { FeatureStoreModule } from './feature-store.module';

export const featureStoreService: ServiceDefinition = { service: 'feature-store', module: FeatureStoreModule };
