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
  /** Directories file sources may be read from (`:` or `,` separated); default `<MLP_HOME>/inbox`. */
  MLP_INGEST_ROOTS: z.string().optional(),
  /** Hosts, host:port, CIDRs or `*` that URL sources may fetch from; default loopback (embedded) or none (distributed). */
  MLP_INGEST_URL_ALLOW: z.string().optional(),
  /** Named PostgreSQL connections: JSON `{"name": "postgres://…"}` or `name=postgres://…,…`; secrets from env. */
  MLP_PG_CONNECTIONS: z.string().optional(),
});

/** The platform settings ingestion also needs. */
export interface IngestionPlatformSettings {
  MLP_HOME: string;
  MLP_TRANSPORT: string;
}

export type IngestionConfig = z.output<typeof ingestionConfigSchema> & IngestionPlatformSettings;

export const INGESTION_CONFIG = Symbol('INGESTION_CONFIG');

export function loadIngestionConfig(
  env: NodeJS.ProcessEnv = process.env,
  platform: IngestionPlatformSettings = { MLP_HOME: env.MLP_HOME || '.mlp', MLP_TRANSPORT: env.MLP_TRANSPORT || 'tcp' },
): IngestionConfig {
  return { ...loadConfig(ingestionConfigSchema, env), MLP_HOME: platform.MLP_HOME, MLP_TRANSPORT: platform.MLP_TRANSPORT };
}
