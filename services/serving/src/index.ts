import type { ServiceDefinition } from '@mlp/service-kit';
import { ServingModule } from './serving.module';

export const servingService: ServiceDefinition = { service: 'serving', module: ServingModule };
export { GrpcInferenceServer } from './grpc/grpc-inference.server';
export { ServingRuntime } from './serving-runtime';
export { loadV2Service, v2ProtoPath } from './grpc/v2-proto';
