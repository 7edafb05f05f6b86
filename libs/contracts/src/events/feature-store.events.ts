import { z } from 'zod';
import { defineEvent } from '../event-definition';
import { artifactKey, name, sha256Hex } from './common';

export const featureStoreEvents = {
  FeatureViewDefined: defineEvent(
    'FeatureViewDefined',
    1,
    z.object({
      name,
      version: z.number().int().positive(),
      entityKeys: z.array(z.string()).min(1),
      timestampColumn: z.string(),
      source: z.object({ dataset: name, version: z.number().int().optional() }),
      transforms: z.array(z.record(z.string(), z.unknown())),
      ttlSeconds: z.number().int().positive().optional(),
      diff: z.array(z.record(z.string(), z.unknown())).optional(),
    }),
  ),
  FeatureViewMaterialized: defineEvent(
    'FeatureViewMaterialized',
    1,
    z.object({
      name,
      version: z.number().int(),
      datasetVersion: z.number().int(),
      datasetSha256: sha256Hex,
      offlineArtifactKey: artifactKey,
      onlineRows: z.number().int().nonnegative(),
      watermark: z.string().nullable(),
    }),
  ),
  TrainingSetBuilt: defineEvent(
    'TrainingSetBuilt',
    1,
    z.object({ spec: z.record(z.string(), z.unknown()), inputs: z.array(z.object({ ref: z.string(), sha256: sha256Hex })), artifactKey, sha256: sha256Hex }),
  ),
} as const;
