import { z } from 'zod';
import { loadConfig } from '@mlp/service-kit';

/** HTTP push settings (env), validated at start-up. */
export const pushConfigSchema = z.object({
  /** Comma-separated API keys accepted by `POST /datasets/:name/rows`. */
  MLP_INGEST_API_KEYS: z.string().optional(),
  /** A file with one API key per line (blank lines and `#` comments ignored). */
  MLP_INGEST_API_KEYS_FILE: z.string().min(1).optional(),
  /** Flush the spool into a version once it holds this many rows... */
  MLP_PUSH_FLUSH_ROWS: z.coerce.number().int().positive().default(10_000),
  /** ...or this long after its first buffered row, whichever comes first. */
  MLP_PUSH_FLUSH_MS: z.coerce.number().int().positive().default(5_000),
  /** Largest NDJSON push body (JSON bodies are limited by the HTTP body parser). */
  MLP_PUSH_MAX_BYTES: z.coerce.number().int().positive().default(64 * 1024 ** 2),
});
export type PushConfig = z.output<typeof pushConfigSchema>;

export const PUSH_CONFIG = Symbol('PUSH_CONFIG');

export function loadPushConfig(env: NodeJS.ProcessEnv = process.env): PushConfig {
  return loadConfig(pushConfigSchema, env);
}
