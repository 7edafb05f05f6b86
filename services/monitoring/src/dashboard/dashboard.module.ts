import { Module } from '@nestjs/common';
import { SERVICE_CONFIG, type BaseConfig } from '@mlp/service-kit';
import { HEALTH_CONFIG, loadHealthConfig } from '../health/health-config';
import { ApiProxyController } from './api-proxy.controller';
import { DashboardController } from './dashboard.controller';
import { DistributionController } from './distribution.controller';
import { EventsController } from './events.controller';

/** The dashboard page, its read-only API pass-through and the event log feed. */
@Module({
  controllers: [DashboardController, ApiProxyController, EventsController, DistributionController],
  providers: [{ provide: HEALTH_CONFIG, useFactory: (base: BaseConfig) => loadHealthConfig(process.env, base), inject: [SERVICE_CONFIG] }],
})
export class DashboardModule {}
