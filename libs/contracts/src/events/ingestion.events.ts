import { z } from 'zod';
import { defineEvent } from '../event-definition';
import { artifactKey, name, sha256Hex } from './common';

const source = z.object({
  kind: z.enum(['file', 'url', 'postgres', 'upload', 'push', 'stream']),
  /** Human description without credentials (paths, URLs without secrets, the query). */
  uri: z.string(),
  /** Non-secret parameters needed to run the source again (resume after a crash). */
  spec: z.record(z.string(), z.unknown()).default({}),
});

export const ingestionEvents = {
  DatasetRegistered: defineEvent('DatasetRegistered', 1, z.object({ dataset: name, description: z.string().default('') })),
  DatasetSchemaDeclared: defineEvent(
    'DatasetSchemaDeclared',
    1,
    z.object({ dataset: name, schemaHash: sha256Hex, schema: z.record(z.string(), z.unknown()) }),
  ),
  IngestionStarted: defineEvent(
    'IngestionStarted',
    1,
    z.object({
      jobId: z.string(),
      dataset: name,
      source,
      format: z.string().nullable().default(null),
      options: z.record(z.string(), z.unknown()).default({}),
      /** The worker running the job: after a crash only that worker resumes it. */
      worker: z.string(),
    }),
  ),
  IngestionRetried: defineEvent(
    'IngestionRetried',
    1,
    z.object({ jobId: z.string(), attempt: z.number().int(), error: z.string(), delayMs: z.number() }),
  ),
  IngestionFailed: defineEvent(
    'IngestionFailed',
    1,
    z.object({ jobId: z.string(), dataset: name, error: z.string(), code: z.string().default('INGESTION_FAILED'), attempts: z.number().int() }),
  ),
  /** The job ended: a new version, or none because identical bytes were already ingested. */
  IngestionCompleted: defineEvent(
    'IngestionCompleted',
    1,
    z.object({ jobId: z.string(), dataset: name, version: z.number().int().nullable(), duplicateOf: z.number().int().nullable() }),
  ),
  DatasetVersionIngested: defineEvent(
    'DatasetVersionIngested',
    1,
    z.object({
      dataset: name,
      version: z.number().int().positive(),
      jobId: z.string(),
      source,
      format: z.string(),
      /** sha256 of the source bytes: the same bytes again give no new version. */
      sourceSha256: sha256Hex,
      /** Accepted rows as Parquet (content-addressed) and its sha256. */
      artifactKey,
      sha256: sha256Hex,
      rows: z.number().int().nonnegative(),
      accepted: z.number().int().nonnegative(),
      quarantined: z.number().int().nonnegative(),
      schemaHash: sha256Hex,
      /** The schema the rows were validated and typed with. */
      schema: z.record(z.string(), z.unknown()),
      inferred: z.boolean(),
      reportArtifactKey: artifactKey,
      quarantineArtifactKey: artifactKey.nullable(),
      /** Summary of the quality report. */
      report: z.record(z.string(), z.unknown()),
      status: z.enum(['accepted', 'rejected']),
      /** Incremental sources: the high-water mark reached (next run starts after it). */
      watermark: z.string().nullable().default(null),
      /** Streaming sources: the JetStream sequences this version covers. */
      streamRange: z.object({ first: z.number().int(), last: z.number().int() }).nullable().default(null),
    }),
  ),
  RowsQuarantined: defineEvent(
    'RowsQuarantined',
    1,
    z.object({ dataset: name, version: z.number().int(), count: z.number().int(), artifactKey, reasons: z.record(z.string(), z.number()) }),
  ),
  SchemaChangeDetected: defineEvent(
    'SchemaChangeDetected',
    1,
    z.object({ dataset: name, version: z.number().int(), previousVersion: z.number().int(), diff: z.array(z.record(z.string(), z.unknown())) }),
  ),
  DataQualityCheckFailed: defineEvent(
    'DataQualityCheckFailed',
    1,
    z.object({ dataset: name, version: z.number().int(), checks: z.array(z.object({ check: z.string(), message: z.string() })) }),
  ),
} as const;
