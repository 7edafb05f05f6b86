import { ValidationError } from '@mlp/contracts';
import { ColumnSpec, ColumnType, DatasetSchema } from '../schema/dataset-schema';
import { ObservedColumn } from '../schema/observed-column';
import { parseDatasetSchema } from '../schema/schema-validation';
import { ColumnProfile } from './column-profile';
import { columnTypeOfDuckDb } from './duckdb-types';

export interface InferenceOptions {
  /** A string column with more distinct values is never a category (default 20). */
  categoryMaxDistinct?: number;
  /**
   * Distinct values may be at most this fraction of the non-null rows (default 0.05).
   * Waived when rows are few (fewer than categoryMaxDistinct / categoryMaxFraction
   * non-null rows, where the fraction alone would forbid most categories): then a
   * column qualifies when each value appears twice on average. For fractions up
   * to 0.5 the two rules together amount to "≤ categoryMaxDistinct values, each
   * seen twice on average".
   */
  categoryMaxFraction?: number;
}

export interface InferenceResult {
  schema: DatasetSchema;
  /** Facts about the sample, per column: for comments, never constraints. */
  observed: Record<string, ObservedColumn>;
  /** Single columns that identify a row in the sample, best first; the first is the primary key. */
  candidateKeys: string[][];
}

/** Strings longer than this are free text and never categories. */
const freeTextLength = 200;
const booleanWords = new Set(['true', 'false', 't', 'f', 'yes', 'no', 'y', 'n']);
const orderedTypes: readonly ColumnType[] = ['int', 'float', 'date', 'datetime'];

/**
 * Infers a dataset schema from column profiles.
 *
 * - Type: a typed source (`sourceType`) decides directly. Otherwise the
 *   narrowest of bool → int → float → date → datetime that every non-null
 *   value casts to; bool only when the values are boolean words (so 0/1 stays
 *   int), and numbers with leading zeros (`007`, zip codes) stay strings.
 *   Anything else is a string, or a category when its distinct values are few
 *   (see InferenceOptions) and all known, and no value is free text.
 * - All-null columns are nullable strings.
 * - Nullability: no nulls → `required: true`; else `nullable: true`.
 * - Keys: columns with a value on every row, all distinct (not float, bool or
 *   free text; at least 2 rows); id-like names first (`id`, `*_id`, `key`). The first is
 *   the primary key and `unique`.
 * - Observed ranges, counts and frequent values go to `observed`.
 */
export function inferSchema(dataset: string, profiles: ColumnProfile[], options: InferenceOptions = {}): InferenceResult {
  if (profiles.length === 0) throw new ValidationError('no columns to infer a schema from', [{ path: 'columns', message: 'no columns' }]);
  const names = new Set<string>();
  for (const p of profiles) {
    if (names.has(p.name)) {
      throw new ValidationError(`duplicate column name "${p.name}"`, [{ path: `columns.${p.name}`, message: 'duplicate column name' }]);
    }
    names.add(p.name);
  }
  const maxDistinct = options.categoryMaxDistinct ?? 20;
  const maxFraction = options.categoryMaxFraction ?? 0.05;

  const columns: Record<string, ColumnSpec> = {};
  const observed: Record<string, ObservedColumn> = {};
  const keys: { name: string; rank: number; index: number }[] = [];
  profiles.forEach((profile, index) => {
    const { type, values } = inferType(profile, maxDistinct, maxFraction);
    const spec: ColumnSpec = profile.nulls === 0 && profile.rows > 0
      ? { type, required: true, unique: false }
      : { type, required: false, nullable: true, unique: false };
    if (values) spec.values = values;
    columns[profile.name] = spec;
    observed[profile.name] = observe(profile, type);
    const keyLike = type !== 'float' && type !== 'bool' && (profile.maxLength ?? 0) <= freeTextLength;
    if (keyLike && profile.rows >= 2 && profile.nulls === 0 && profile.distinct === profile.rows) {
      keys.push({ name: profile.name, rank: keyRank(profile.name, type), index });
    }
  });
  keys.sort((a, b) => a.rank - b.rank || a.index - b.index);
  const candidateKeys = keys.map((k) => [k.name]);
  const primaryKey = candidateKeys[0];
  if (primaryKey) columns[primaryKey[0]].unique = true;

  const schema = parseDatasetSchema({ dataset, ...(primaryKey ? { primaryKey } : {}), columns, checks: {} });
  return { schema, observed, candidateKeys };
}

function inferType(p: ColumnProfile, maxDistinct: number, maxFraction: number): { type: ColumnType; values?: string[] } {
  const nonNull = p.rows - p.nulls;
  if (nonNull <= 0) return { type: 'string' };
  if (p.sourceType !== undefined) {
    const type = columnTypeOfDuckDb(p.sourceType);
    if (type === 'category') return { type, values: allValues(p, nonNull) };
    if (type === 'string') return stringOrCategory(p, nonNull, maxDistinct, maxFraction);
    return { type };
  }
  const all = (count: number) => count === nonNull;
  const leadingZeros = p.topValues.some((v) => /^[+-]?0\d/.test(v.value.trim()));
  if (all(p.castable.bool) && looksBoolean(p, nonNull)) return { type: 'bool' };
  if (all(p.castable.int) && !leadingZeros) return { type: 'int' };
  if (all(p.castable.float) && !leadingZeros) return { type: 'float' };
  if (all(p.castable.date)) return { type: 'date' };
  if (all(p.castable.datetime)) return { type: 'datetime' };
  return stringOrCategory(p, nonNull, maxDistinct, maxFraction);
}

function stringOrCategory(p: ColumnProfile, nonNull: number, maxDistinct: number, maxFraction: number): { type: ColumnType; values?: string[] } {
  const fractionLimit = maxFraction * nonNull;
  const fewRows = fractionLimit < maxDistinct;
  const fewEnough = p.distinct <= fractionLimit || (fewRows && p.distinct * 2 <= nonNull);
  const values = allValues(p, nonNull);
  const freeText = (p.maxLength ?? 0) > freeTextLength || p.topValues.some((v) => v.value.length > freeTextLength);
  if (p.distinct >= 1 && p.distinct <= maxDistinct && fewEnough && values && values.length <= maxDistinct && !freeText) {
    return { type: 'category', values };
  }
  return { type: 'string' };
}

/** The sorted distinct values, when `topValues` accounts for every non-null row; else undefined. */
function allValues(p: ColumnProfile, nonNull: number): string[] | undefined {
  const covered = p.topValues.reduce((sum, v) => sum + v.count, 0);
  if (covered !== nonNull) return undefined;
  return [...new Set(p.topValues.map((v) => v.value))].sort();
}

function looksBoolean(p: ColumnProfile, nonNull: number): boolean {
  const values = allValues(p, nonNull);
  return values !== undefined && values.every((v) => booleanWords.has(v.trim().toLowerCase()));
}

/** Lower is a better key: `id`, then `*_id`/`*Id`, then `key`/`*_key`, then others, temporal columns last. */
function keyRank(name: string, type: ColumnType): number {
  const lower = name.toLowerCase();
  if (lower === 'id') return 0;
  if (/[_\-. ]id$/.test(lower) || /[a-z0-9]Id$/.test(name) || lower === 'uuid' || lower === 'guid') return 1;
  if (lower === 'key' || /[_\-. ]key$/.test(lower) || /[a-z0-9]Key$/.test(name)) return 2;
  return type === 'date' || type === 'datetime' ? 4 : 3;
}

function observe(p: ColumnProfile, type: ColumnType): ObservedColumn {
  const facts: ObservedColumn = { rows: p.rows, missing: p.nulls, distinct: p.distinct };
  if (orderedTypes.includes(type)) {
    if (p.min !== undefined) facts.min = p.min;
    if (p.max !== undefined) facts.max = p.max;
  }
  if (p.topValues.length > 0) facts.sample = p.topValues.slice(0, 5).map((v) => v.value);
  if (p.maxLength !== undefined) facts.maxLength = p.maxLength;
  if (p.sourceType !== undefined) facts.sourceType = p.sourceType;
  return facts;
}
