import { z } from 'zod';
import { defineEvent } from '../event-definition';
import { artifactKey, name, sha256Hex } from './common';

const sourceRef = z.object({
  dataset: name,
  /** Pinned dataset version; absent = the latest accepted version. */
  version: z.number().int().positive().optional(),
  /** snapshot: each version is the whole table; append: versions add rows (union of versions). */
  mode: z.enum(['snapshot', 'append']).default('snapshot'),
});

export const featureStoreEvents = {
  FeatureViewDefined: defineEvent(
    'FeatureViewDefined',
    1,
    z.object({
      name,
      version: z.number().int().positive(),
      entity: z.object({ name: z.string(), joinKeys: z.array(z.string()).min(1) }),
      timestampColumn: z.string(),
      source: sourceRef,
      /** The view's full definition (features, ttl, online) as applied. */
      spec: z.record(z.string(), z.unknown()),
      specHash: sha256Hex,
      ttlSeconds: z.number().int().positive().nullable(),
      online: z.boolean(),
      /** Changes against the previous version (empty for version 1). */
      diff: z.array(z.record(z.string(), z.unknown())).default([]),
      breaking: z.boolean().default(false),
    }),
  ),
  FeatureViewMaterialized: defineEvent(
    'FeatureViewMaterialized',
    1,
    z.object({
      name,
      version: z.number().int().positive(),
      materializationId: z.string(),
      dataset: name,
      datasetVersion: z.number().int().positive(),
      datasetSha256: sha256Hex,
      /** Dataset versions whose rows the offline table covers (append sources span several). */
      datasetVersions: z.array(z.number().int().positive()),
      offlineArtifactKey: artifactKey,
      offlineSha256: sha256Hex,
      rows: z.number().int().nonnegative(),
      onlineRows: z.number().int().nonnegative(),
      statsArtifactKey: artifactKey,
      /** Latest event timestamp in the offline table. */
      watermark: z.string().nullable(),
      /** Rows computed this time (incremental materializations compute only new ones). */
      computedRows: z.number().int().nonnegative(),
      /** NaN and ±Infinity per feature among the rows pushed online, where they are stored as null (absent when there were none). */
      onlineNonFinite: z.record(z.string(), z.number().int().positive()).optional(),
    }),
  ),
  TrainingSetBuilt: defineEvent(
    'TrainingSetBuilt',
    1,
    z.object({
      trainingSetId: z.string(),
      spec: z.record(z.string(), z.unknown()),
      inputs: z.array(z.object({ ref: z.string(), sha256: sha256Hex })),
      artifactKey,
      sha256: sha256Hex,
      rows: z.number().int().nonnegative(),
      columns: z.array(z.string()),
    }),
  ),
} as const;
