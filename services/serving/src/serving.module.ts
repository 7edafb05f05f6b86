import { Module } from '@nestjs/common';
import { ThrottlerModule } from '@nestjs/throttler';
import { FeatureLookupController } from './features/feature-lookup.controller';
import { InferenceFastPath } from './http/inference-fast-path';
import { RateLimitGuard } from './http/rate-limit.guard';
import { ServingExceptionFilter } from './http/serving-exception.filter';
import { V1Controller } from './http/v1.controller';
import { V2Controller } from './http/v2.controller';
import { GrpcInferenceServer } from './grpc/grpc-inference.server';
import { ServingRuntime } from './serving-runtime';
import { ServingRuntimeModule } from './serving-runtime.module';
import { BatchModule } from './batch/batch.module';
import { DeploymentsModule } from './deployments/deployments.module';

/**
 * Serving: models hot-swapped by alias from the event log, the Open Inference
 * Protocol over REST and gRPC, a friendly JSON API, per-key rate limits,
 * adaptive micro-batching, load shedding, telemetry; and the online-feature
 * lookup through the feature store.
 */
@Module({
  imports: [
    ThrottlerModule.forRootAsync({
      useFactory: (runtime: ServingRuntime) => {
        const limit = runtime.config.rateLimit ?? { perSecond: 1, burst: 1 };
        return { throttlers: [{ name: 'default', limit: limit.burst, ttl: (1000 * limit.burst) / limit.perSecond }], storage: runtime.limiter };
      },
      inject: [ServingRuntime],
      imports: [ServingRuntimeModule],
    }),
    ServingRuntimeModule,
    BatchModule,
    DeploymentsModule,
  ],
  controllers: [FeatureLookupController, V1Controller, V2Controller],
  providers: [
    RateLimitGuard,
    GrpcInferenceServer,
    InferenceFastPath,
    ServingExceptionFilter,
  ],
})
export class ServingModule {}
