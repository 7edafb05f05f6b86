import { Module } from '@nestjs/common';
import { SERVICE_CONFIG, type BaseConfig } from '@mlp/service-kit';
import { HEALTH_CONFIG, loadHealthConfig } from './health-config';
import { SystemHealthController } from './health.controller';
import { HealthService } from './health.service';

/** System health of the whole platform, from every service's /metrics and the event store. */
@Module({
  controllers: [SystemHealthController],
  providers: [{ provide: HEALTH_CONFIG, useFactory: (base: BaseConfig) => loadHealthConfig(process.env, base), inject: [SERVICE_CONFIG] }, HealthService],
})
export class SystemHealthModule {}
