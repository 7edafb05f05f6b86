import { FieldIssue, ValidationError } from '@mlp/contracts';
import { z } from 'zod';
import { ColumnSpec, ColumnType, DatasetSchema, columnSpecSchema, datasetChecksSchema, datasetSchemaSchema } from './dataset-schema';
import { isIsoDate, isIsoDatetime, isoToEpochMs } from './iso-time';
import { hasPath, isRecord, stripPrefix, valueAt } from './value-paths';

/** One problem in a schema document, at a structured path (`['columns', 'amount', 'min']`). */
export interface SchemaIssue {
  path: (string | number)[];
  message: string;
  /** The key at `path` is at fault (unknown or malformed), rather than its value. */
  target?: 'key';
}

export type SchemaValidation = { ok: true; schema: DatasetSchema } | { ok: false; issues: SchemaIssue[] };

/**
 * Validates a plain value (parsed YAML or a JSON body) as a dataset schema:
 * first its shape (zod), then the rules zod cannot express. Never throws.
 */
export function validateDatasetSchema(input: unknown): SchemaValidation {
  const parsed = datasetSchemaSchema.safeParse(input);
  if (parsed.success) {
    const issues = schemaRuleViolations(parsed.data);
    return issues.length > 0 ? { ok: false, issues } : { ok: true, schema: parsed.data };
  }
  // Also report rule violations in the parts that are well formed, so one round of fixes is enough.
  return { ok: false, issues: [...issuesFromZod(parsed.error, input), ...salvagedRuleViolations(input)] };
}

/** Like `validateDatasetSchema`, but throws a ValidationError naming every bad field (for inputs without line numbers). */
export function parseDatasetSchema(input: unknown): DatasetSchema {
  const result = validateDatasetSchema(input);
  if (result.ok) return result.schema;
  const details: FieldIssue[] = result.issues.map((i) => ({ path: dottedPath(i.path), message: i.message }));
  const summary = details.map((d) => (d.path ? `${d.path}: ${d.message}` : d.message)).join('; ');
  throw new ValidationError(`invalid dataset schema: ${summary}`, details);
}

export function dottedPath(path: readonly (string | number)[]): string {
  return path.map(String).join('.');
}

const orderedTypes: readonly ColumnType[] = ['int', 'float', 'date', 'datetime'];

/** Rules over a shape-valid schema: where each constraint may appear, and that it makes sense. */
export function schemaRuleViolations(schema: DatasetSchema): SchemaIssue[] {
  const issues = Object.entries(schema.columns).flatMap(([name, spec]) => columnRuleViolations(name, spec));
  if (schema.primaryKey !== undefined) issues.push(...primaryKeyViolations(schema.primaryKey, Object.keys(schema.columns)));
  return issues;
}

/** Column specs ignoring unknown keys (reported separately). */
const lenientColumnSpec = z.object(columnSpecSchema.shape);

/** The rules applied to the columns that parse on their own, and to a primary key that is a list of names. */
function salvagedRuleViolations(input: unknown): SchemaIssue[] {
  if (!isRecord(input)) return [];
  const issues: SchemaIssue[] = [];
  const columns = isRecord(input.columns) ? input.columns : {};
  for (const [name, raw] of Object.entries(columns)) {
    const spec = lenientColumnSpec.safeParse(raw);
    if (spec.success) issues.push(...columnRuleViolations(name, spec.data));
  }
  const primaryKey = input.primaryKey;
  if (Array.isArray(primaryKey) && primaryKey.every((c) => typeof c === 'string')) {
    issues.push(...primaryKeyViolations(primaryKey, Object.keys(columns)));
  }
  return issues;
}

function columnRuleViolations(name: string, spec: ColumnSpec): SchemaIssue[] {
  const issues: SchemaIssue[] = [];
  const at = (...rest: (string | number)[]) => ['columns', name, ...rest];
  if (spec.required && spec.nullable === true) {
    issues.push({ path: at('nullable'), message: 'a required column cannot be nullable' });
  }
  if (spec.values !== undefined) {
    if (spec.type !== 'category') {
      issues.push({ path: at('values'), message: `values are only allowed on category columns, not ${spec.type}` });
    }
    const seen = new Set<string>();
    spec.values.forEach((value, i) => {
      if (seen.has(value)) issues.push({ path: at('values', i), message: `duplicate value ${JSON.stringify(value)}` });
      seen.add(value);
    });
  }
  if (spec.pattern !== undefined) {
    if (spec.type !== 'string' && spec.type !== 'category') {
      issues.push({ path: at('pattern'), message: `pattern is only allowed on string and category columns, not ${spec.type}` });
    }
    try {
      new RegExp(spec.pattern);
    } catch (err) {
      issues.push({ path: at('pattern'), message: `not a valid regular expression: ${(err as Error).message.replace(/^Invalid regular expression: /, '')}` });
    }
  }
  if (spec.allowNonFinite !== undefined && spec.type !== 'float') {
    issues.push({ path: at('allowNonFinite'), message: `allowNonFinite is only allowed on float columns, not ${spec.type}` });
  }
  const ordinals: number[] = [];
  for (const key of ['min', 'max'] as const) {
    const bound = spec[key];
    if (bound === undefined) continue;
    if (!orderedTypes.includes(spec.type)) {
      issues.push({ path: at(key), message: `${key} is only allowed on int, float, date and datetime columns, not ${spec.type}` });
      continue;
    }
    const problem = boundProblem(spec.type, bound);
    if (problem) issues.push({ path: at(key), message: problem });
    else ordinals.push(typeof bound === 'number' ? bound : isoToEpochMs(bound)!);
  }
  if (ordinals.length === 2 && ordinals[0] > ordinals[1]) {
    issues.push({ path: at('max'), message: `max (${String(spec.max)}) is less than min (${String(spec.min)})` });
  }
  return issues;
}

function primaryKeyViolations(primaryKey: string[], declared: string[]): SchemaIssue[] {
  const issues: SchemaIssue[] = [];
  if (primaryKey.length === 0) issues.push({ path: ['primaryKey'], message: 'list at least one column, or leave primaryKey out' });
  const known = new Set(declared);
  const seen = new Set<string>();
  primaryKey.forEach((column, i) => {
    if (!known.has(column)) issues.push({ path: ['primaryKey', i], message: `unknown column "${column}"; declare it under columns` });
    else if (seen.has(column)) issues.push({ path: ['primaryKey', i], message: `column "${column}" is listed twice` });
    seen.add(column);
  });
  return issues;
}

function boundProblem(type: ColumnType, bound: number | string): string | undefined {
  switch (type) {
    case 'int':
    case 'float':
      return typeof bound === 'number' ? undefined : `expected number, received ${JSON.stringify(bound)}`;
    case 'date':
      return typeof bound === 'string' && isIsoDate(bound) ? undefined : `expected an ISO date (YYYY-MM-DD), received ${JSON.stringify(bound)}`;
    case 'datetime':
      return typeof bound === 'string' && isIsoDatetime(bound)
        ? undefined
        : `expected an ISO datetime (YYYY-MM-DDTHH:MM:SS, optional offset), received ${JSON.stringify(bound)}`;
    default:
      return `not an ordered type: ${type}`;
  }
}

/** Allowed keys per object level, for "unknown key" messages. */
function allowedKeys(path: readonly PropertyKey[]): string[] | undefined {
  if (path.length === 0) return Object.keys(datasetSchemaSchema.shape);
  if (path.length === 1 && path[0] === 'checks') return Object.keys(datasetChecksSchema.shape);
  if (path.length === 2 && path[0] === 'columns') return Object.keys(columnSpecSchema.shape);
  return undefined;
}

/** zod issues → schema issues with messages a schema author can act on. */
export function issuesFromZod(error: z.ZodError, input: unknown): SchemaIssue[] {
  const issues: SchemaIssue[] = [];
  for (const issue of error.issues) {
    const path = issue.path.map((p) => (typeof p === 'symbol' ? String(p) : p));
    if (issue.code === 'unrecognized_keys') {
      const allowed = allowedKeys(path);
      for (const key of issue.keys) {
        issues.push({
          path: [...path, key],
          message: `unknown key "${key}"${allowed ? `; expected one of ${allowed.join(', ')}` : ''}`,
          target: 'key',
        });
      }
      continue;
    }
    if (issue.code === 'invalid_key') {
      issues.push({ path, message: 'column names must be 1 to 128 characters', target: 'key' });
      continue;
    }
    if (path.length === 0 && issue.code === 'invalid_type') {
      issues.push({ path, message: 'expected a mapping with dataset and columns (and optionally primaryKey, checks)' });
      continue;
    }
    if (!hasPath(input, path)) {
      issues.push({ path, message: issue.code === 'invalid_value' ? `required; one of ${issue.values.map(String).join(', ')}` : 'required' });
      continue;
    }
    if (issue.code === 'invalid_value') {
      issues.push({ path, message: `expected one of ${issue.values.map(String).join(', ')}, received ${JSON.stringify(valueAt(input, path))}` });
      continue;
    }
    if (issue.code === 'invalid_type' && path.length === 2 && path[0] === 'columns') {
      issues.push({ path, message: `expected a column spec such as {type: string}, received ${JSON.stringify(valueAt(input, path)) ?? 'nothing'}` });
      continue;
    }
    const last = path[path.length - 1];
    if (issue.code === 'invalid_union' && (last === 'min' || last === 'max')) {
      issues.push({ path, message: 'expected a number or an ISO date/datetime string' });
      continue;
    }
    issues.push({ path, message: stripPrefix(issue.message) });
  }
  return issues;
}

