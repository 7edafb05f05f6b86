import { z } from 'zod';
import { defineEvent } from '../event-definition';
import { artifactKey, metrics, name, tags } from './common';

export const registryEvents = {
  /** v2 added `tags`; v1 is upcast in catalogue.ts. */
  RegisteredModelCreated: defineEvent(
    'RegisteredModelCreated',
    2,
    z.object({ name, description: z.string().max(2000).default(''), tags: tags.default({}) }),
  ),
  RegisteredModelDescribed: defineEvent('RegisteredModelDescribed', 1, z.object({ name, description: z.string().max(2000) })),
  RegisteredModelTagged: defineEvent(
    'RegisteredModelTagged',
    1,
    z.object({ name, set: tags, removed: z.array(z.string()) }),
  ),
  ModelVersionRegistered: defineEvent(
    'ModelVersionRegistered',
    1,
    z.object({
      name,
      version: z.number().int().positive(),
      runId: z.string(),
      artifacts: z.record(z.string(), artifactKey),
      signature: z.record(z.string(), z.unknown()),
      metrics,
      lineage: z.record(z.string(), z.unknown()),
    }),
  ),
  ModelAliasAssigned: defineEvent(
    'ModelAliasAssigned',
    1,
    z.object({ name, alias: z.string().min(1), version: z.number().int().positive(), previousVersion: z.number().int().nullable() }),
  ),
  ModelAliasRemoved: defineEvent('ModelAliasRemoved', 1, z.object({ name, alias: z.string().min(1), version: z.number().int() })),
} as const;
