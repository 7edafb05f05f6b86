import type { ServiceDefinition } from '@mlp/service-kit';
import { IngestionModule } from './ingestion.module';

export const ingestionService: ServiceDefinition = { service: 'ingestion', module: IngestionModule };
