import { Module } from '@nestjs/common';
import { DatasetsController } from './datasets/datasets.controller';
import { DatasetsService } from './datasets/datasets.service';
import { INGESTION_CONFIG, loadIngestionConfig } from './jobs/ingestion-config';
import { IngestionJobsService } from './jobs/ingestion-jobs.service';
import { pushControllers, pushProviders } from './push/push.providers';
import { streamProviders } from './stream/stream.providers';

/** Ingestion: sources → validation → dataset versions (Parquet) + quarantine + quality reports. */
@Module({
  controllers: [DatasetsController, ...pushControllers],
  providers: [
    { provide: INGESTION_CONFIG, useFactory: () => loadIngestionConfig() },
    IngestionJobsService,
    DatasetsService,
    ...pushProviders,
    ...streamProviders,
  ],
})
export class IngestionModule {}
