import { Module, type DynamicModule, type Type } from '@nestjs/common';
import { createArtifactStore } from '@mlp/artifacts';
import type { ServiceName } from '@mlp/contracts';
import { createEventStore } from '@mlp/eventstore';
import { MessagingModule, MLP_CLIENT, natsAuth, type MlpClient } from '@mlp/messaging';
import { bootstrapService, type RunningService } from '../bootstrap/bootstrap-service';
import { transportReadiness, type ReadinessCheck } from '../health/readiness-check';
import { loadConfig } from '../config/load-config';
import { baseConfigSchema, type BaseConfig } from '../config/service-config';
import type { Logger } from '../logging/logger';
import { PlatformModule, type PlatformRuntime } from './platform.module';

/** What a service package exports so it can run alone or embedded. */
export interface ServiceDefinition {
  service: ServiceName;
  module: Type<unknown> | DynamicModule;
}

export interface StartServiceOptions {
  /** Shared adapters (embedded mode); created from the config when absent, and then owned by the service. */
  runtime?: Partial<PlatformRuntime>;
  env?: NodeJS.ProcessEnv;
  httpPort?: number;
  logger?: Logger;
}

export interface StartedService extends RunningService {
  service: ServiceName;
  runtime: PlatformRuntime;
}

@Module({})
class ServiceRootModule {}

export function eventStoreReadiness(runtime: PlatformRuntime): ReadinessCheck {
  return { name: 'eventstore', check: () => runtime.eventStore.ping() };
}

/** A real round trip to the artifact store (bucket or directory reachable). */
export function artifactsReadiness(runtime: PlatformRuntime): ReadinessCheck {
  return { name: 'artifacts', check: async () => void (await runtime.artifacts.exists('health/probe')) };
}

/**
 * Boots one service on its adapters: config from env (validated), event
 * store and artifact store chosen by URL scheme, transport, readiness checks
 * on both. Closing it closes the adapters it created itself.
 */
export async function startService(definition: ServiceDefinition, options: StartServiceOptions = {}): Promise<StartedService> {
  const config: BaseConfig = options.runtime?.config ?? loadConfig(baseConfigSchema, options.env ?? process.env);
  const ownsEventStore = !options.runtime?.eventStore;
  const eventStore = options.runtime?.eventStore ?? (await createEventStore(config.EVENTSTORE_URL, { auth: natsAuth(config) }));
  const artifacts = options.runtime?.artifacts ?? createArtifactStore(config.ARTIFACTS_URL, options.env ?? process.env);
  const runtime: PlatformRuntime = { eventStore, artifacts, config };

  const root: DynamicModule = {
    module: ServiceRootModule,
    imports: [PlatformModule.forRoot(runtime), MessagingModule.forService(definition.service, config), definition.module],
  };
  let running: RunningService;
  try {
    running = await bootstrapService({
      service: definition.service,
      module: root,
      config,
      httpPort: options.httpPort,
      logger: options.logger,
      eventStore,
      readiness: (app) => [eventStoreReadiness(runtime), artifactsReadiness(runtime), transportReadiness(app.get<MlpClient>(MLP_CLIENT), definition.service)],
    });
  } catch (err) {
    if (ownsEventStore) await eventStore.close().catch(() => undefined);
    throw err;
  }
  let closing: Promise<void> | undefined;
  return {
    ...running,
    service: definition.service,
    runtime,
    close: () =>
      (closing ??= (async () => {
        await running.close();
        if (ownsEventStore) await eventStore.close();
      })()),
  };
}

/** `main.ts` of a service: start, log where, stop cleanly on SIGINT/SIGTERM, exit 1 with a clear message on failure. */
export function runStandalone(definition: ServiceDefinition): void {
  startService(definition).then(
    (started) => closeOnSignals(() => started.close()),
    (err: unknown) => {
      console.error(`${definition.service} failed to start: ${(err as Error)?.message ?? String(err)}`);
      process.exit(1);
    },
  );
}

/** Closes on the first SIGINT/SIGTERM, then exits 0 (or 1 if closing failed). */
export function closeOnSignals(close: () => Promise<void>): void {
  const stop = () => {
    close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}
