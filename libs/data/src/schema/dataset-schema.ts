import { z } from 'zod';

/** Column types of the platform; each maps to one DuckDB/Parquet type (see `storageType`). */
export const columnTypes = ['int', 'float', 'bool', 'string', 'category', 'date', 'datetime'] as const;
export type ColumnType = (typeof columnTypes)[number];

export const storageType: Record<ColumnType, string> = {
  int: 'BIGINT',
  float: 'DOUBLE',
  bool: 'BOOLEAN',
  string: 'VARCHAR',
  category: 'VARCHAR',
  date: 'DATE',
  datetime: 'TIMESTAMP',
};

const columnName = z.string().min(1).max(128);

export const columnSpecSchema = z
  .object({
    type: z.enum(columnTypes),
    /** A value must be present (not null, not empty). */
    required: z.boolean().default(false),
    /** Null is allowed (default true unless required). */
    nullable: z.boolean().optional(),
    /** No two rows share a value (later occurrences are quarantined). */
    unique: z.boolean().default(false),
    min: z.union([z.number(), z.string()]).optional(),
    max: z.union([z.number(), z.string()]).optional(),
    /** Allowed values of a category. */
    values: z.array(z.string()).optional(),
    /** Regular expression a string must match. */
    pattern: z.string().optional(),
    /** Float columns: accept NaN and ±Infinity instead of quarantining them as `non_finite` (default false). */
    allowNonFinite: z.boolean().optional(),
    /** Overrides checks.maxMissingFraction for this column. */
    maxMissingFraction: z.number().min(0).max(1).optional(),
    description: z.string().optional(),
  })
  .strict();
export type ColumnSpec = z.output<typeof columnSpecSchema>;

export const datasetChecksSchema = z
  .object({
    /** Per column, unless a column overrides it. */
    maxMissingFraction: z.number().min(0).max(1).optional(),
    minRows: z.number().int().nonnegative().optional(),
    /** Above this fraction of quarantined rows the version is rejected. */
    maxQuarantinedFraction: z.number().min(0).max(1).optional(),
  })
  .strict();
export type DatasetChecks = z.output<typeof datasetChecksSchema>;

export const datasetSchemaSchema = z
  .object({
    dataset: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_-]*$/, 'use letters, digits, _ and -').max(100),
    primaryKey: z.array(columnName).optional(),
    columns: z.record(columnName, columnSpecSchema).refine((c) => Object.keys(c).length > 0, 'declare at least one column'),
    checks: datasetChecksSchema.default({}),
  })
  .strict();
export type DatasetSchema = z.output<typeof datasetSchemaSchema>;

/** Why a row was quarantined. Every quarantined row carries at least one. */
export const quarantineReasonCodes = [
  'wrong_type',
  'unparseable_date',
  'ragged_row',
  'out_of_range',
  'unknown_category',
  'pattern_mismatch',
  'missing_required',
  'duplicate_key',
  'bad_encoding',
  'unterminated_quote',
  'malformed_row',
  'non_finite',
] as const;
export type QuarantineReasonCode = (typeof quarantineReasonCodes)[number];

export interface QuarantineReason {
  code: QuarantineReasonCode;
  /** The column at fault; null for row-level reasons (ragged row, encoding). */
  column: string | null;
  message: string;
}
