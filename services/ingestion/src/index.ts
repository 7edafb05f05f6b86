import type { ServiceDefinition } from '@mlp/service-kit';
import { IngestionModule } from './ingestion.module';

export const ingestionService: ServiceDefinition = { service: 'ingestion', module: IngestionModule };

/** The DuckDB validation engine, for benches. */
export { processFile } from './engine/process-file';
