import { Module, type DynamicModule } from '@nestjs/common';
import type { ArtifactStore } from '@mlp/artifacts';
import type { EventStore } from '@mlp/eventstore';
import type { BaseConfig } from '../config/service-config';

/** Injection tokens of the platform's shared ports. */
export const EVENT_STORE = Symbol('EVENT_STORE');
export const ARTIFACT_STORE = Symbol('ARTIFACT_STORE');
export const SERVICE_CONFIG = Symbol('SERVICE_CONFIG');

/** The adapters a service runs on; shared by all six in embedded mode. */
export interface PlatformRuntime {
  eventStore: EventStore;
  artifacts: ArtifactStore;
  config: BaseConfig;
}

/** Provides the event store, artifact store and config to every module of one service app. */
@Module({})
export class PlatformModule {
  static forRoot(runtime: PlatformRuntime): DynamicModule {
    return {
      module: PlatformModule,
      global: true,
      providers: [
        { provide: EVENT_STORE, useValue: runtime.eventStore },
        { provide: ARTIFACT_STORE, useValue: runtime.artifacts },
        { provide: SERVICE_CONFIG, useValue: runtime.config },
      ],
      exports: [EVENT_STORE, ARTIFACT_STORE, SERVICE_CONFIG],
    };
  }
}
