import { Module } from '@nestjs/common';
import { ServingRuntime } from './serving-runtime';

/** Provides the one ServingRuntime of the app (also to the throttler's options factory). */
@Module({ providers: [ServingRuntime], exports: [ServingRuntime] })
export class ServingRuntimeModule {}
