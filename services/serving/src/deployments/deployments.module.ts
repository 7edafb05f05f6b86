import { Module } from '@nestjs/common';
import { ServingRuntimeModule } from '../serving-runtime.module';
import { DeploymentsController } from './deployments.controller';
import { DeploymentsService } from './deployments.service';

/** Rollouts: the deployment aggregate's commands (HTTP + NATS), its projection per instance, and the router in the inference path. */
@Module({ imports: [ServingRuntimeModule], controllers: [DeploymentsController], providers: [DeploymentsService], exports: [DeploymentsService] })
export class DeploymentsModule {}
