import { z } from 'zod';
import { defineEvent } from '../event-definition';
import type { Upcaster } from '../upcasters';
import { artifactKey, metrics, name, sha256Hex, tags } from './common';

/** An alias name: `production`, `staging`, `champion`, `challenger` or any name (not `latest`, not `v<digits>`). */
export const aliasName = z
  .string()
  .regex(/^[A-Za-z][A-Za-z0-9_-]*$/, 'start with a letter; use letters, digits, _ and -')
  .max(100)
  .refine((a) => a !== 'latest' && !/^v\d+$/.test(a), { message: "'latest' and 'v<number>' are reserved (they name versions)" });

/** How versions enter a model: `blessed-only` runs, `every-run`, or `manual` (never by the process manager). */
export const registrationMode = z.enum(['blessed-only', 'every-run', 'manual']);
export type RegistrationMode = z.infer<typeof registrationMode>;

const category = z.union([z.string(), z.number(), z.boolean()]);

/** One input feature of a version's signature: a raw column the stored pipeline reads. */
export const signatureInput = z.object({
  name: z.string().min(1),
  /** The column type from the training data's schema (`float`, `int`, `category`, `string`, `bool`, `date`, …), `unknown` when not declared. */
  type: z.string().min(1),
  nullable: z.boolean().default(true),
  /** Allowed categories (declared, else learnt by the pipeline's encoder). */
  values: z.array(category).optional(),
  min: z.number().optional(),
  max: z.number().optional(),
});

/** What a version takes and gives, from the training schema and its saved preprocessing. */
export const modelSignature = z.object({
  task: z.string().default(''),
  label: z.string().nullable().default(null),
  inputs: z.array(signatureInput).default([]),
  /** Model inputs after preprocessing, in order. */
  features: z.array(z.string()).default([]),
  outputs: z.array(z.object({ name: z.string(), type: z.string(), classes: z.array(category).optional() })).default([]),
});
export type ModelSignature = z.output<typeof modelSignature>;

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
  /** A soft delete: the stream stays, the model leaves listings; refused while an alias points into it. */
  RegisteredModelDeleted: defineEvent('RegisteredModelDeleted', 1, z.object({ name, reason: z.string().max(2000).default(''), actor: z.string().default('unknown') })),
  /** Which runs the registration process manager registers, and which aliases need an approval by another actor. */
  RegistrationPolicySet: defineEvent(
    'RegistrationPolicySet',
    1,
    z.object({ name, registration: registrationMode, approvalRequiredFor: z.array(aliasName).default([]) }),
  ),
  /**
   * v2: typed signature, source, params, backend, tags, blessed, lineage summary. Artifact keys are content
   * addresses (`sha256/<hex>`). `lineage.featureViews` (`view@version`) is read by the feature store.
   */
  ModelVersionRegistered: defineEvent(
    'ModelVersionRegistered',
    2,
    z.object({
      name,
      version: z.number().int().positive(),
      runId: z.string(),
      source: z.enum(['auto', 'manual']).default('manual'),
      experiment: z.string().default(''),
      description: z.string().max(2000).default(''),
      /** The run's gate verdict (null when unknown). */
      blessed: z.boolean().nullable().default(null),
      /** model, weights, preprocessing, report, modelCard → content-addressed key. */
      artifacts: z.record(z.string(), artifactKey),
      weightsSha256: sha256Hex.nullable().default(null),
      signature: modelSignature.default({ task: '', label: null, inputs: [], features: [], outputs: [] }),
      metrics,
      params: z.record(z.string(), z.unknown()).default({}),
      backend: z.string().default(''),
      tags: tags.default({}),
      lineage: z
        .object({
          /** `dataset:<name>@<v>`, `featureview:<view>@<v>/materialization:<id>`, `trainingset:<id>` with their sha256. */
          inputs: z.array(z.object({ ref: z.string(), sha256: sha256Hex })).default([]),
          featureViews: z.array(z.string()).default([]),
        })
        .default({ inputs: [], featureViews: [] }),
    }),
  ),
  ModelVersionTagged: defineEvent(
    'ModelVersionTagged',
    1,
    z.object({ name, version: z.number().int().positive(), set: tags, removed: z.array(z.string()) }),
  ),
  /** `approvedBy` approves `version` for `alias`: another actor may then assign it. */
  ModelVersionApproved: defineEvent(
    'ModelVersionApproved',
    1,
    z.object({ name, version: z.number().int().positive(), alias: aliasName, approvedBy: z.string().min(1), reason: z.string().max(2000).default('') }),
  ),
  ModelVersionArchived: defineEvent(
    'ModelVersionArchived',
    1,
    z.object({ name, version: z.number().int().positive(), reason: z.string().max(2000).default(''), actor: z.string().default('unknown') }),
  ),
  /**
   * v2: `kind` (assigned: the alias was free; moved: it held `previousVersion`; rolled-back: back to the holder
   * before), `reason` and `actor`. The time is the envelope's `occurredAt`.
   */
  ModelAliasAssigned: defineEvent(
    'ModelAliasAssigned',
    2,
    z.object({
      name,
      alias: z.string().min(1),
      version: z.number().int().positive(),
      previousVersion: z.number().int().nullable(),
      kind: z.enum(['assigned', 'moved', 'rolled-back']).default('assigned'),
      reason: z.string().max(2000).default(''),
      actor: z.string().default('unknown'),
    }),
  ),
  /** v2: `reason` and `actor`. */
  ModelAliasRemoved: defineEvent(
    'ModelAliasRemoved',
    2,
    z.object({ name, alias: z.string().min(1), version: z.number().int(), reason: z.string().max(2000).default(''), actor: z.string().default('unknown') }),
  ),
} as const;

/** Upcasters of the registry's superseded event versions (registered in catalogue.ts). */
export const registryUpcasters: Upcaster[] = [
  {
    type: 'ModelVersionRegistered',
    from: 1,
    upcast: (data) => {
      const v1 = data as { name: string; version: number; runId: string; artifacts: Record<string, string>; metrics: Record<string, number>; lineage?: { featureViews?: string[] } };
      return {
        name: v1.name,
        version: v1.version,
        runId: v1.runId,
        source: 'manual',
        experiment: '',
        description: '',
        blessed: null,
        artifacts: v1.artifacts,
        weightsSha256: null,
        signature: { task: '', label: null, inputs: [], features: [], outputs: [] },
        metrics: v1.metrics,
        params: {},
        backend: '',
        tags: {},
        lineage: { inputs: [], featureViews: Array.isArray(v1.lineage?.featureViews) ? v1.lineage.featureViews : [] },
      };
    },
  },
  {
    type: 'ModelAliasAssigned',
    from: 1,
    upcast: (data) => {
      const v1 = data as { name: string; alias: string; version: number; previousVersion: number | null };
      return { ...v1, kind: v1.previousVersion === null ? 'assigned' : 'moved', reason: '', actor: 'unknown' };
    },
  },
  {
    type: 'ModelAliasRemoved',
    from: 1,
    upcast: (data) => ({ ...(data as object), reason: '', actor: 'unknown' }),
  },
];
