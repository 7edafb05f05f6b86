import { z } from 'zod';
import { loadConfig } from '@mlp/service-kit';

const datasetName = /^[A-Za-z0-9][A-Za-z0-9_-]*$/;

/** Streaming ingestion settings (env), validated at start-up. */
export const streamConfigSchema = z
  .object({
    /** on | off | auto (default: on when MLP_TRANSPORT=nats). */
    MLP_STREAM_INGEST: z.enum(['on', 'off', 'auto']).default('auto'),
    /** Datasets to consume, comma-separated: one durable consumer `ingest-<dataset>` each. */
    MLP_STREAM_DATASETS: z
      .string()
      .default('')
      .transform((s) => [...new Set(s.split(',').map((d) => d.trim()).filter(Boolean))])
      .refine((names) => names.every((n) => datasetName.test(n) && n.length <= 100), 'dataset names use letters, digits, _ and -'),
    /** A batch becomes a version at this many rows... */
    MLP_STREAM_FLUSH_ROWS: z.coerce.number().int().positive().default(10_000),
    /** ...or this long after its first message, whichever comes first. */
    MLP_STREAM_FLUSH_MS: z.coerce.number().int().positive().default(5_000),
    /** How long JetStream waits for an ack before redelivering; default max(60 s, 6 × flush time). */
    MLP_STREAM_ACK_WAIT_MS: z.coerce.number().int().min(1000).optional(),
  })
  .transform((c) => ({ ...c, MLP_STREAM_ACK_WAIT_MS: c.MLP_STREAM_ACK_WAIT_MS ?? Math.max(60_000, 6 * c.MLP_STREAM_FLUSH_MS) }));
export type StreamConfig = z.output<typeof streamConfigSchema>;

export const STREAM_CONFIG = Symbol('STREAM_CONFIG');

export function loadStreamConfig(env: NodeJS.ProcessEnv = process.env): StreamConfig {
  return loadConfig(streamConfigSchema, env);
}

/** Streaming runs when asked for, or by default when the platform runs on NATS. */
export function streamIngestEnabled(config: StreamConfig, transport: string): boolean {
  return config.MLP_STREAM_INGEST === 'on' || (config.MLP_STREAM_INGEST === 'auto' && transport === 'nats');
}
