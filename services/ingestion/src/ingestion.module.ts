import { Module } from '@nestjs/common';
import { SERVICE_CONFIG, type BaseConfig } from '@mlp/service-kit';
import { DatasetsController } from './datasets/datasets.controller';
import { DatasetsService } from './datasets/datasets.service';
import { INGESTION_CONFIG, loadIngestionConfig, type IngestionConfig } from './jobs/ingestion-config';
import { IngestionJobsService } from './jobs/ingestion-jobs.service';
import { pushControllers, pushProviders } from './push/push.providers';
import { streamProviders } from './stream/stream.providers';
import { createSourcePolicy, SOURCE_POLICY } from './sources/source-policy';

/** Ingestion: sources → validation → dataset versions (Parquet) + quarantine + quality reports. */
@Module({
  controllers: [DatasetsController, ...pushControllers],
  providers: [
    { provide: INGESTION_CONFIG, useFactory: (base: BaseConfig) => loadIngestionConfig(process.env, base), inject: [SERVICE_CONFIG] },
    { provide: SOURCE_POLICY, useFactory: (config: IngestionConfig) => createSourcePolicy(config), inject: [INGESTION_CONFIG] },
    IngestionJobsService,
    DatasetsService,
    ...pushProviders,
    ...streamProviders,
  ],
})
export class IngestionModule {}
