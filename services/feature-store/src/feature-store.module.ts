import { Module, type OnApplicationShutdown, Inject, Injectable } from '@nestjs/common';
import { natsAuth } from '@mlp/messaging';
import { SERVICE_CONFIG, type BaseConfig } from '@mlp/service-kit';
import { createOnlineStore, type OnlineStore } from './online';
import { ONLINE_STORE } from './online/online-store.token';
import { FEATURE_STORE_CONFIG, loadFeatureStoreConfig, type FeatureStoreConfig } from './feature-store-config';
import { FeatureViewsService } from './views/feature-views.service';
import { MaterializationService } from './materialization/materialization.service';
import { AutoMaterializeProcessManager } from './materialization/auto-materialize.process-manager';
import { OnlineFeaturesService } from './retrieval/online-features.service';
import { TrainingSetsService } from './retrieval/training-sets.service';
import { SkewCheckService } from './retrieval/skew-check.service';
import { FeatureStoreController } from './feature-store.controller';

/** Closes the online store when the app stops. */
@Injectable()
class OnlineStoreLifecycle implements OnApplicationShutdown {
  constructor(@Inject(ONLINE_STORE) private readonly online: OnlineStore) {}
  async onApplicationShutdown(): Promise<void> {
    await this.online.close();
  }
}

/** Feature store: feature views, materialization, online store, point-in-time training sets. */
@Module({
  controllers: [FeatureStoreController],
  providers: [
    { provide: FEATURE_STORE_CONFIG, useFactory: (base: BaseConfig) => loadFeatureStoreConfig(process.env, base), inject: [SERVICE_CONFIG] },
    { provide: ONLINE_STORE, useFactory: (c: FeatureStoreConfig, base: BaseConfig) => createOnlineStore(c.onlineStoreUrl, natsAuth(base)), inject: [FEATURE_STORE_CONFIG, SERVICE_CONFIG] },
    OnlineStoreLifecycle,
    FeatureViewsService,
    MaterializationService,
    AutoMaterializeProcessManager,
    OnlineFeaturesService,
    TrainingSetsService,
    SkewCheckService,
  ],
})
export class FeatureStoreModule {}
