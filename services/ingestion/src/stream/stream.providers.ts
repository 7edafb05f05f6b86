import type { Provider } from '@nestjs/common';
import { loadStreamConfig, STREAM_CONFIG } from './stream-config';
import { StreamIngestService } from './stream-ingest.service';

/** What IngestionModule registers for streaming ingestion (inactive unless enabled by env). */
export const streamProviders: Provider[] = [{ provide: STREAM_CONFIG, useFactory: () => loadStreamConfig() }, StreamIngestService];
