import type { ServiceDefinition } from '@mlp/service-kit';
import { ServingModule } from './serving.module';

export const servingService: ServiceDefinition = { service: 'serving', module: ServingModule };
