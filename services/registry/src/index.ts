import type { ServiceDefinition } from '@mlp/service-kit';
import { RegistryModule } from './registry.module';

export const registryService: ServiceDefinition = { service: 'registry', module: RegistryModule };

/** The registered model's decider: e2e specs fold the model stream with it. */
export { registeredModelDecider } from './model/registered-model.decide';
