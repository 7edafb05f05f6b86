import { z } from 'zod';
import { name } from '../events/common';

const featureRef = z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*(:[A-Za-z_][A-Za-z0-9_]*)?$/, 'view or view:feature');

export const onlineFeaturesRequestSchema = z
  .object({
    /** `view:feature` or a whole `view`. */
    features: z.array(featureRef).min(1).max(1000),
    /** Join key → values; all arrays the same length (one entity per index). */
    entities: z.record(z.string(), z.array(z.union([z.string(), z.number()])).min(1).max(10_000)),
  })
  .strict()
  .refine((r) => new Set(Object.values(r.entities).map((v) => v.length)).size === 1, {
    message: 'every join key needs the same number of values',
    path: ['entities'],
  });
export type OnlineFeaturesRequest = z.infer<typeof onlineFeaturesRequestSchema>;

export type FeatureStatus = 'present' | 'missing' | 'expired';

export interface OnlineFeaturesResponse {
  /** One entry per requested entity, in request order. */
  results: {
    entity: Record<string, string | number>;
    features: Record<string, { value: unknown; eventTimestamp: string | null; status: FeatureStatus }>;
  }[];
}

export const materializeSchema = z.object({ name, datasetVersion: z.number().int().positive().optional() }).strict();

export const trainingSetRequestSchema = z
  .object({
    /** Entity rows: a dataset (latest accepted version or pinned) or an artifact key of a Parquet file. */
    entities: z.union([
      z.object({ dataset: name, version: z.number().int().positive().optional() }).strict(),
      z.object({ artifactKey: z.string().min(1) }).strict(),
    ]),
    /** Timestamp column of the entity rows (the "as of" time of each row). */
    timestampColumn: z.string().min(1),
    features: z.array(featureRef).min(1),
  })
  .strict();
export type TrainingSetRequest = z.infer<typeof trainingSetRequestSchema>;

export interface TrainingSetResult {
  trainingSetId: string;
  artifactKey: string;
  sha256: string;
  rows: number;
  columns: string[];
  inputs: { ref: string; sha256: string }[];
}

/** Join key → value of one entity. */
export type EntityValues = Record<string, string | number>;

/** A feature whose online value differs from the offline table's value at the same event time. */
export interface SkewMismatch {
  entity: EntityValues;
  feature: string;
  online: unknown;
  offline: unknown;
  /** The online row's event time (the offline row compared has the same one). */
  eventTimestamp: string;
}

/**
 * A sampled entity that could not be compared: no online row at all
 * (`online_missing`), or an online row whose event time has no row of that
 * entity in the offline table (`offline_missing`).
 */
export interface SkewMissing {
  entity: EntityValues;
  reason: 'online_missing' | 'offline_missing';
  /** The online row's event time (null when there is none). */
  onlineEventTimestamp: string | null;
  /** The entity's latest event time in the offline table. */
  offlineEventTimestamp: string | null;
}

/** The reply of `POST /feature-views/:name/check-skew`, as the service builds it and the CLI prints it. */
export interface SkewReport {
  view: string;
  version: number;
  materializationId: string;
  sampled: number;
  tolerance: number;
  mismatches: SkewMismatch[];
  missing: SkewMissing[];
  ok: boolean;
}
