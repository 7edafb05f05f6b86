import { z } from 'zod';
import { loadConfig } from '@mlp/service-kit';

/** Ingestion's own settings (env), validated at start-up. */
export const ingestionConfigSchema = z.object({
  MLP_INGEST_RETRY_ATTEMPTS: z.coerce.number().int().min(1).max(20).default(4),
  MLP_INGEST_RETRY_BASE_MS: z.coerce.number().int().min(0).default(200),
  MLP_INGEST_RETRY_MAX_MS: z.coerce.number().int().min(0).default(5000),
  /** Largest upload accepted over HTTP. */
  MLP_INGEST_MAX_UPLOAD_BYTES: z.coerce.number().int().positive().default(2 * 1024 ** 3),
  /** Identifies this worker in job events: after a crash it resumes its own jobs only. */
  MLP_WORKER_ID: z.string().min(1).optional(),
});
export type IngestionConfig = z.output<typeof ingestionConfigSchema>;

export const INGESTION_CONFIG = Symbol('INGESTION_CONFIG');

export function loadIngestionConfig(env: NodeJS.ProcessEnv = process.env): IngestionConfig {
  return loadConfig(ingestionConfigSchema, env);
}
