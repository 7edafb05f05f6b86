import { Inject, Injectable, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { categories, type EventData, type RecordedEvent } from '@mlp/contracts';
import type { EventStore, ProcessManager, RunningProcessManager } from '@mlp/eventstore';
import { EVENT_STORE, SERVICE_LOGGER, startProcessManager, type Logger } from '@mlp/service-kit';
import { FEATURE_STORE_CONFIG, type FeatureStoreConfig } from '../feature-store-config';
import { FeatureViewsService } from '../views/feature-views.service';
import { MaterializationService } from './materialization.service';

/**
 * A new accepted dataset version materializes every view that follows that
 * dataset (latest version, not pinned). Checkpointed; materialization is
 * idempotent per (view version, dataset version), so a re-delivered event
 * changes nothing.
 */
@Injectable()
export class AutoMaterializeProcessManager implements OnApplicationBootstrap, OnApplicationShutdown {
  private running?: RunningProcessManager;

  constructor(
    @Inject(EVENT_STORE) private readonly store: EventStore,
    @Inject(FEATURE_STORE_CONFIG) private readonly config: FeatureStoreConfig,
    @Inject(SERVICE_LOGGER) private readonly logger: Logger,
    private readonly views: FeatureViewsService,
    private readonly materializations: MaterializationService,
  ) {}

  readonly manager: ProcessManager = {
    name: 'feature-store.auto-materialize',
    filter: { category: categories.dataset },
    canHandle: (e: RecordedEvent) => e.type === 'DatasetVersionIngested' && (e.data as EventData<'DatasetVersionIngested'>).status === 'accepted',
    handle: async (event) => {
      const data = event.data as EventData<'DatasetVersionIngested'>;
      for (const view of this.views.projection.followers(data.dataset)) {
        const r = await this.materializations.materialize(view, {
          now: new Date().toISOString(),
          correlationId: event.correlationId,
          causationId: event.id,
          actor: `process-manager:${this.manager.name}`,
        }, data.version);
        this.logger.info({ view, datasetVersion: data.version, created: r.created }, `materialized ${view} from ${data.dataset} v${data.version}`);
      }
    },
  };

  async onApplicationBootstrap(): Promise<void> {
    if (this.config.MLP_AUTO_MATERIALIZE === 'off') return;
    // Starts again from its checkpoint when its subscription ends with an error (a broker restart): see runProcessManager.
    this.running = await startProcessManager(this.store, this.manager, this.logger);
  }

  async onApplicationShutdown(): Promise<void> {
    await this.running?.stop();
  }
}
