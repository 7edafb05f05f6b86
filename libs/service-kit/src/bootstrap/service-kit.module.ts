import { Module, type DynamicModule, type Type } from '@nestjs/common';
import { TerminusModule } from '@nestjs/terminus';
import type { ServiceName } from '@mlp/contracts';
import { ApiKeyRing } from '../auth/api-key-ring';
import { API_KEYS_SERVICE, ApiKeysController } from '../auth/api-keys.controller';
import type { ApiKeysService } from '../auth/api-keys.service';
import { HealthController } from '../health/health.controller';
import { ReadinessChecks } from '../health/readiness-check';
import type { Logger } from '../logging/logger';
import { HttpMetrics } from '../metrics/http-metrics';
import { MetricsController } from '../metrics/metrics.controller';
import { ProjectionCatalog } from '../projections/projection-catalog';
import { projectionsControllerFor } from '../projections/projections.controller';
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
  /** The keys this service accepts (global provider: ingestion adds its push keys). */
  keys: ApiKeyRing;
  /** Key management (`/auth/keys`), when keys are stored in an event store. */
  keyManagement?: ApiKeysService;
}

/**
 * Root module of a service app: the app's module plus health, metrics and the
 * ping responder (and `/auth/keys`, `/admin/projections/verify`). Global, so feature modules can inject
 * SERVICE_LOGGER, HttpMetrics (to register their own metrics on the app's
 * registry), ApiKeyRing (to add keys of their own from the environment) and
 * ProjectionCatalog (to register their read models).
 */
@Module({})
export class ServiceKitModule {
  static forRoot(options: ServiceKitModuleOptions): DynamicModule {
    return {
      module: ServiceKitModule,
      global: true,
      imports: [TerminusModule.forRoot({ logger: false }), options.module],
      controllers: [
        HealthController,
        MetricsController,
        pingControllerFor(options.service),
        projectionsControllerFor(options.service),
        ...(options.keyManagement ? [ApiKeysController] : []),
      ],
      providers: [
        { provide: SERVICE_LOGGER, useValue: options.logger },
        { provide: HttpMetrics, useValue: options.metrics },
        { provide: ReadinessChecks, useValue: options.readiness },
        { provide: ApiKeyRing, useValue: options.keys },
        // Filled by the services' modules (they register their read models); read by the projections controller.
        { provide: ProjectionCatalog, useValue: new ProjectionCatalog() },
        ...(options.keyManagement ? [{ provide: API_KEYS_SERVICE, useValue: options.keyManagement }] : []),
      ],
      exports: [SERVICE_LOGGER, HttpMetrics, ApiKeyRing, ProjectionCatalog, ReadinessChecks],
    };
  }
}
