import { Module } from '@nestjs/common';
import { ServingRuntimeModule } from '../serving-runtime.module';
import { BatchController } from './batch.controller';
import { BatchService } from './batch.service';

/** Batch inference jobs (TFX BulkInferrer-style): resumable, chunked, on the saved pipeline and model. */
@Module({ imports: [ServingRuntimeModule], controllers: [BatchController], providers: [BatchService], exports: [BatchService] })
export class BatchModule {}
