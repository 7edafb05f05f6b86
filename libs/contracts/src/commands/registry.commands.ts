import { z } from 'zod';
import { metrics, name, tags } from '../events/common';
import { aliasName, registrationMode, type ModelSignature, type RegistrationMode } from '../events/registry.events';

/** Command/query DTOs of the registry, validated at every entry (HTTP and NATS). */
export const createRegisteredModelSchema = z.object({
  name,
  description: z.string().max(2000).optional(),
  tags: tags.optional(),
});
export type CreateRegisteredModelDto = z.infer<typeof createRegisteredModelSchema>;

export const describeRegisteredModelSchema = z.object({ name, description: z.string().max(2000) });
export type DescribeRegisteredModelDto = z.infer<typeof describeRegisteredModelSchema>;

export const tagRegisteredModelSchema = z
  .object({ name, set: tags.default({}), remove: z.array(z.string()).default([]) })
  .refine((v) => Object.keys(v.set).length + v.remove.length > 0, { message: 'set or remove at least one tag' });
export type TagRegisteredModelDto = z.infer<typeof tagRegisteredModelSchema>;

export const getRegisteredModelSchema = z.object({ name });
export type GetRegisteredModelDto = z.infer<typeof getRegisteredModelSchema>;

const version = z.coerce.number().int().positive();
const reason = z.string().max(2000).optional();
/**
 * The stream revision the caller read (`revision` of the model view): the command is refused with 412
 * when someone wrote in between. Without it, a conflict is retried a few times on fresh state.
 */
const expectedRevision = z.coerce.number().int().min(-1).optional();
const runId = z.string().regex(/^[A-Za-z0-9_-]{1,100}$/, 'expected a run id');

export const deleteRegisteredModelSchema = z.object({ name, reason, expectedRevision });
export const setRegistrationPolicySchema = z
  .object({ name, registration: registrationMode, approvalRequiredFor: z.array(aliasName).default([]) })
  .strict();
export type SetRegistrationPolicyDto = z.infer<typeof setRegistrationPolicySchema>;

export const registerModelVersionSchema = z.object({ name, runId, description: z.string().max(2000).optional(), tags: tags.optional() }).strict();
export type RegisterModelVersionDto = z.infer<typeof registerModelVersionSchema>;

export const modelVersionRefSchema = z.object({ name, version });
export const tagModelVersionSchema = z
  .object({ name, version, set: tags.default({}), remove: z.array(z.string()).default([]) })
  .refine((v) => Object.keys(v.set).length + v.remove.length > 0, { message: 'set or remove at least one tag' });
export const approveModelVersionSchema = z.object({ name, version, alias: aliasName, reason }).strict();
export const archiveModelVersionSchema = z.object({ name, version, reason, expectedRevision }).strict();
export const assignAliasSchema = z.object({ name, alias: aliasName, version, reason, expectedRevision }).strict();
export const removeAliasSchema = z.object({ name, alias: aliasName, reason, expectedRevision }).strict();
export const rollbackAliasSchema = z.object({ name, alias: aliasName.default('production'), reason, expectedRevision }).strict();
export const aliasRefSchema = z.object({ name, alias: aliasName });
export const compareVersionsSchema = z.object({ name, a: version, b: version });

/** `metric>=value` style thresholds (`>`, `>=`, `<`, `<=`, `=`). */
export const metricThreshold = z.object({ metric: z.string().min(1), op: z.enum(['>', '>=', '<', '<=', '=']), value: z.number() });
export type MetricThreshold = z.infer<typeof metricThreshold>;
export const searchVersionsSchema = z
  .object({
    name: name.optional(),
    tags: tags.default({}),
    metrics: z.array(metricThreshold).default([]),
    alias: aliasName.optional(),
    status: z.enum(['active', 'archived']).optional(),
    runId: runId.optional(),
  })
  .strict();
export type SearchVersionsDto = z.infer<typeof searchVersionsSchema>;

export const lineageQuerySchema = z.object({ name, version });
export const datasetModelsSchema = z.object({ dataset: name, version });

export interface RegistrationPolicyView {
  registration: RegistrationMode;
  approvalRequiredFor: string[];
  /** `default` until a policy is set for this model (the registry's MLP_REGISTRY_DEFAULT_POLICY applies). */
  source: 'default' | 'model';
}

/** The registered-model read model, as returned by queries. */
export interface RegisteredModelView {
  name: string;
  description: string;
  tags: Record<string, string>;
  createdAt: string;
  updatedAt: string;
  /** The model stream's last revision: pass it as `expectedRevision` for optimistic concurrency. */
  revision: number;
  status?: 'active' | 'deleted';
  latestVersion?: number | null;
  versions?: number;
  /** alias → version. */
  aliases?: Record<string, number>;
  policy?: RegistrationPolicyView;
}

export interface ApprovalView {
  alias: string;
  approvedBy: string;
  reason: string;
  at: string;
}

export interface ModelVersionView {
  name: string;
  version: number;
  runId: string;
  source: 'auto' | 'manual';
  status: 'active' | 'archived';
  experiment: string;
  description: string;
  blessed: boolean | null;
  artifacts: Record<string, string>;
  weightsSha256: string | null;
  signature: ModelSignature;
  metrics: z.infer<typeof metrics>;
  params: Record<string, unknown>;
  backend: string;
  tags: Record<string, string>;
  aliases: string[];
  approvals: ApprovalView[];
  lineage: { inputs: { ref: string; sha256: string }[]; featureViews: string[] };
  createdAt: string;
  updatedAt: string;
  createdBy: string;
}

/** One holding of an alias: from its assignment to its move or removal (`to` null while it still holds). */
export interface AliasHistoryEntry {
  alias: string;
  version: number;
  from: string;
  to: string | null;
  kind: 'assigned' | 'moved' | 'rolled-back';
  reason: string;
  actor: string;
  /** How the holding ended, when it did. */
  ended?: { kind: 'moved' | 'removed' | 'rolled-back'; reason: string; actor: string; by: number | null };
}

export interface VersionComparison {
  name: string;
  a: number;
  b: number;
  metrics: { metric: string; a: number | null; b: number | null; delta: number | null }[];
  params: { param: string; a: unknown; b: unknown; same: boolean }[];
  lineage: { onlyA: string[]; onlyB: string[]; same: string[] };
  signatureSame: boolean;
}
