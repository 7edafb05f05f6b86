import { z } from 'zod';
import { defineEvent } from '../event-definition';
import { artifactKey, name, sha256Hex } from './common';

export const ingestionEvents = {
  DatasetRegistered: defineEvent('DatasetRegistered', 1, z.object({ dataset: name, description: z.string().optional() })),
  DatasetSchemaDeclared: defineEvent(
    'DatasetSchemaDeclared',
    1,
    z.object({ dataset: name, schemaHash: sha256Hex, schema: z.record(z.string(), z.unknown()) }),
  ),
  IngestionStarted: defineEvent(
    'IngestionStarted',
    1,
    z.object({ jobId: z.string(), dataset: name, source: z.object({ kind: z.string(), uri: z.string() }), format: z.string().optional() }),
  ),
  IngestionRetried: defineEvent('IngestionRetried', 1, z.object({ jobId: z.string(), attempt: z.number().int(), error: z.string(), delayMs: z.number() })),
  IngestionFailed: defineEvent('IngestionFailed', 1, z.object({ jobId: z.string(), dataset: name, error: z.string(), attempts: z.number().int() })),
  DatasetVersionIngested: defineEvent(
    'DatasetVersionIngested',
    1,
    z.object({
      dataset: name,
      version: z.number().int().positive(),
      jobId: z.string(),
      source: z.object({ kind: z.string(), uri: z.string() }),
      artifactKey,
      sha256: sha256Hex,
      rows: z.number().int().nonnegative(),
      accepted: z.number().int().nonnegative(),
      quarantined: z.number().int().nonnegative(),
      schemaHash: sha256Hex,
      statsArtifactKey: artifactKey.optional(),
      status: z.enum(['accepted', 'rejected']),
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
