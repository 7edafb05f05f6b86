/** One feature value as the online store keeps it: JSON scalars only. */
export type OnlineValue = number | string | boolean | null;

/** One entity's features at one event time, as a materialization produced them. */
export interface OnlineRow {
  /** From `entityKey(joinKeys, values)`: the same entity gives the same key in every adapter. */
  entityKey: string;
  /** ISO 8601 (`2024-01-01T00:00:00Z`, offsets and sub-millisecond digits allowed; no zone means UTC). */
  eventTimestamp: string;
  values: Record<string, OnlineValue>;
  /** The materialization that produced the row (kept for lineage, not interpreted). */
  materializationId: string;
}

export interface WriteResult {
  /** Rows that became the stored value of their entity. */
  written: number;
  /** The rest: older than (or identical to) what is stored, or superseded by a later row of the same batch. */
  skipped: number;
}

export interface OnlineFeatures {
  /** The stored row's eventTimestamp, exactly as it was written. */
  eventTimestamp: string;
  values: Record<string, unknown>;
}

/**
 * The online feature store port: the latest feature values per entity of a
 * feature view, for low-latency lookups at serving time. Every adapter passes
 * the same contract suite (contract/online-store.contract.ts).
 *
 * Writes are idempotent and monotonic per entity, ordered by eventTimestamp as
 * an instant (offsets normalised, sub-millisecond digits kept):
 * - an older row than the stored one is skipped;
 * - the same row again (same timestamp, values and materializationId) is skipped;
 * - a newer row replaces the stored one; at an equal timestamp a row with
 *   different values or materializationId replaces it too (last writer wins,
 *   so a re-materialization can correct values without deleting the view).
 * View names follow the feature view name rule (`[A-Za-z0-9][A-Za-z0-9_-]*`,
 * at most 100 characters) and are case sensitive.
 */
export interface OnlineStore {
  readonly kind: string;
  write(view: string, rows: readonly OnlineRow[]): Promise<WriteResult>;
  /**
   * Many entities in one call. The map holds every distinct requested key, in
   * request order, with null for an entity (or view) that has no stored row.
   * `features` null returns every stored feature; otherwise only the listed
   * ones that the stored row has.
   */
  read(view: string, entityKeys: readonly string[], features: readonly string[] | null): Promise<Map<string, OnlineFeatures | null>>;
  /** The stable entity key for `values` of the view's join keys, in declared order (see entity-key.ts). */
  entityKey(joinKeys: readonly string[], values: Record<string, unknown>): string;
  /** Drops every row of the view; a no-op for an unknown view. */
  deleteView(view: string): Promise<void>;
  /** Entities stored for the view (0 for an unknown view). */
  count(view: string): Promise<number>;
  /** Throws when the backend cannot serve requests: used by readiness checks. */
  ping(): Promise<void>;
  close(): Promise<void>;
}
