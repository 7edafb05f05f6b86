import { z } from 'zod';
import { name } from '../events/common';

export const inputFormatSchema = z.enum(['csv', 'tsv', 'ndjson', 'json', 'parquet', 'arrow']);

export const csvOptionsSchema = z
  .object({
    delimiter: z.string().min(1).max(4).optional(),
    quote: z.string().max(1).optional(),
    escape: z.string().max(1).optional(),
    header: z.boolean().optional(),
    /** Strings read as missing besides the empty field, e.g. ["NA", "null"]. */
    nullValues: z.array(z.string().max(20)).max(20).optional(),
  })
  .strict();

/** Where an ingestion reads from. Secrets never travel here: a PostgreSQL source names a configured connection. */
export const sourceSpecSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('file'), path: z.string().min(1) }).strict(),
  z.object({ kind: z.literal('url'), url: z.url() }).strict(),
  z
    .object({
      kind: z.literal('postgres'),
      query: z.string().min(1),
      /** A connection named in the service's MLP_PG_CONNECTIONS; never a connection string. */
      connection: z
        .string({ error: 'the name of a connection configured in MLP_PG_CONNECTIONS' })
        .regex(/^[A-Za-z][A-Za-z0-9_-]{0,62}$/, 'the name of a connection configured in MLP_PG_CONNECTIONS, not a connection string'),
      /** Incremental: only rows whose column is above the last version's watermark. */
      watermarkColumn: z.string().min(1).optional(),
    })
    .strict(),
]);
export type SourceSpec = z.infer<typeof sourceSpecSchema>;

export const registerDatasetSchema = z.object({ name, description: z.string().max(2000).optional() }).strict();
export type RegisterDatasetDto = z.infer<typeof registerDatasetSchema>;

export const startIngestionSchema = z
  .object({
    dataset: name,
    source: sourceSpecSchema,
    format: inputFormatSchema.optional(),
    csv: csvOptionsSchema.optional(),
    /** Wait for the outcome instead of returning the job id at once. */
    wait: z.boolean().default(false),
  })
  .strict();
export type StartIngestionDto = z.infer<typeof startIngestionSchema>;

export const getDatasetSchema = z.object({ name });
export const getIngestionSchema = z.object({ jobId: z.string().min(1).max(100) });

/** What an ingestion job ends with (HTTP, NATS and `mlp ingest --json`). */
export interface IngestionOutcome {
  jobId: string;
  dataset: string;
  status: 'accepted' | 'rejected' | 'duplicate' | 'failed' | 'running';
  version: number | null;
  duplicateOf: number | null;
  rows: number;
  accepted: number;
  quarantined: number;
  artifact: string | null;
  sha256: string | null;
  quarantineArtifact: string | null;
  reportArtifact: string | null;
  reasons: Record<string, number>;
  failedChecks: string[];
  schemaChanges: number;
  error?: string;
}
