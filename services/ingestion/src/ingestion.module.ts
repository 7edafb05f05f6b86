import { Module } from '@nestjs/common';

/** Ingestion: sources, validation, dataset versions. Boots with health, metrics, docs and ping; its capabilities arrive with the ingestion issue. */
@Module({})
export class IngestionModule {}
