import type { ServiceDefinition } from '@mlp/service-kit';
import { RegistryModule } from './registry.module';

export const registryService: ServiceDefinition = { service: 'registry', module: RegistryModule };
