import { Module } from '@nestjs/common';

/** Feature store: feature views, materialization, offline and online retrieval. Boots with health, metrics, docs and ping; capabilities arrive with the feature-store issue. */
@Module({})
export class FeatureStoreModule {}
