import { Module, type DynamicModule, type Type } from '@nestjs/common';
import { TerminusModule } from '@nestjs/terminus';
import type { ServiceName } from '@mlp/contracts';
import { HealthController } from '../health/health.controller';
import { ReadinessChecks } from '../health/readiness-check';
import type { Logger } from '../logging/logger';
import { HttpMetrics } from '../metrics/http-metrics';
import { MetricsController } from '../metrics/metrics.controller';
import { pingControllerFor } from './ping.controller';

/** Injection token of the app's pino logger. */
export const SERVICE_LOGGER = Symbol('SERVICE_LOGGER');

export interface ServiceKitModuleOptions {
  service: ServiceName;
  /** The service's own root module. */
  module: Type<unknown> | DynamicModule;
  logger: Logger;
  metrics: HttpMetrics;
  readiness: ReadinessChecks;
}

/**
 * Root module of a service app: the app's module plus health, metrics and the
 * ping responder. Global, so feature modules can inject SERVICE_LOGGER and
 * HttpMetrics (to register their own metrics on the app's registry).
 */
@Module({})
export class ServiceKitModule {
  static forRoot(options: ServiceKitModuleOptions): DynamicModule {
    return {
      module: ServiceKitModule,
      global: true,
      imports: [TerminusModule.forRoot({ logger: false }), options.module],
      controllers: [HealthController, MetricsController, pingControllerFor(options.service)],
      providers: [
        { provide: SERVICE_LOGGER, useValue: options.logger },
        { provide: HttpMetrics, useValue: options.metrics },
        { provide: ReadinessChecks, useValue: options.readiness },
      ],
      exports: [SERVICE_LOGGER, HttpMetrics],
    };
  }
}
