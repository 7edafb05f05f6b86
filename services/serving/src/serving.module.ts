import { Module } from '@nestjs/common';
import { FeatureLookupController } from './features/feature-lookup.controller';

/** Serving: online feature lookup through the feature store; V2 inference, rollouts, auth and rate limits arrive with the serving issue. */
@Module({ controllers: [FeatureLookupController] })
export class ServingModule {}
