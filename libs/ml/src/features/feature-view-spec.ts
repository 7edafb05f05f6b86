import { FieldIssue, ValidationError } from '@mlp/contracts';
import { SchemaIssue, dottedPath, hasPath, isRecord, parseValidatedYaml, stripPrefix, valueAt } from '@mlp/data';
import { z } from 'zod';
import { durationSeconds, parseDuration } from './duration';
import { identifierPattern } from './sql';

/*
 * Feature view definitions (`featureviews.yaml`):
 *
 *   entities:
 *     - {name: customer, joinKeys: [customer_id]}
 *   featureViews:
 *     - name: customer_stats
 *       entity: customer
 *       source: {dataset: transactions}      # latest accepted version; or {dataset: x, version: 3}
 *       timestamp: ts
 *       ttl: 30d                             # optional: older feature values are not served
 *       online: true                         # optional, default false
 *       features:
 *         - {name: amount_mean_7d, agg: mean, column: amount, window: 7d}
 *         - {name: amount_log, expr: log1p, column: amount}
 *         - {name: country, column: country}
 *         - {expr: dateparts, column: ts, parts: [month, dayofweek]}   # → ts_month, ts_dayofweek
 *
 * A feature's kind follows from its keys: `agg` → window aggregation,
 * `expr` → row transform, neither → passthrough of `column`. `dateparts` is
 * shorthand for one date-part feature per part, named `<name>_<part>` (name
 * defaults to the column); the parsed view holds those features.
 */

// ---------------------------------------------------------------- types

export interface EntitySpec {
  name: string;
  /** Columns that identify one entity, in the source and in entity tables. */
  joinKeys: string[];
}

export interface SourceRef {
  dataset: string;
  /** Pinned dataset version; absent = the latest accepted version. */
  version?: number;
  /**
   * snapshot (default): each dataset version is the whole table; append: versions add rows, and the
   * view reads their union (materialized incrementally when new rows come after the last watermark).
   */
  mode?: 'snapshot' | 'append';
}

export const datePartTransforms = ['year', 'month', 'day', 'weekday', 'dayofyear', 'hour', 'minute', 'is_weekend', 'epoch'] as const;
export type DatePart = (typeof datePartTransforms)[number];

export const rowTransforms = ['log1p', 'clip', 'bucketize', ...datePartTransforms, 'dateparts', 'poly', 'interaction', 'ratio'] as const;
export type RowTransform = (typeof rowTransforms)[number];

/** Parts a `dateparts` feature names (the training spec's names: `dayofweek` is the `weekday` transform). */
export const datePartsParts = ['year', 'month', 'day', 'dayofweek', 'dayofyear', 'hour', 'minute', 'is_weekend', 'epoch'] as const;
export type DatePartsPart = (typeof datePartsParts)[number];

export const aggregations = ['count', 'sum', 'mean', 'min', 'max', 'std', 'distinct_count'] as const;
export type Aggregation = (typeof aggregations)[number];

/** The column as it is. */
export interface PassthroughFeature {
  kind: 'passthrough';
  name: string;
  column: string;
}

/** ln(1 + x); NULL when x ≤ -1. */
export interface Log1pFeature {
  kind: 'transform';
  name: string;
  expr: 'log1p';
  column: string;
}

/** x limited to [min, max] (either bound may be absent, not both). NULL stays NULL. */
export interface ClipFeature {
  kind: 'transform';
  name: string;
  expr: 'clip';
  column: string;
  min?: number;
  max?: number;
}

/**
 * Bucket index 0..n for n strictly ascending boundaries b0 < … < b(n-1):
 * x < b0 → 0, b(i-1) ≤ x < b(i) → i, x ≥ b(n-1) → n. A value equal to a
 * boundary goes to the bucket above it (numpy `digitize`, Spark `Bucketizer`).
 */
export interface BucketizeFeature {
  kind: 'transform';
  name: string;
  expr: 'bucketize';
  column: string;
  boundaries: number[];
}

/**
 * Date parts of a date or datetime column, in the timestamp's own clock (a
 * TIMESTAMPTZ is read as DuckDB casts it; see featureViewSql): `year`,
 * `month` 1..12, `day` 1..31, `weekday` Monday = 0 … Sunday = 6 (ISO day of
 * week minus one), `dayofyear` 1..366, `hour` 0..23, `minute` 0..59,
 * `is_weekend` 1 on Saturday and Sunday else 0, `epoch` seconds since
 * 1970-01-01 00:00 (fractional).
 */
export interface DatePartFeature {
  kind: 'transform';
  name: string;
  expr: DatePart;
  column: string;
}

/** x^degree, degree 2..4. */
export interface PolyFeature {
  kind: 'transform';
  name: string;
  expr: 'poly';
  column: string;
  degree: number;
}

/** `interaction`: a * b; `ratio`: a / b, NULL when b = 0. */
export interface PairFeature {
  kind: 'transform';
  name: string;
  expr: 'interaction' | 'ratio';
  columns: [string, string];
}

export type TransformFeature = Log1pFeature | ClipFeature | BucketizeFeature | DatePartFeature | PolyFeature | PairFeature;

/**
 * An aggregate over the rows of the same entity with timestamp in
 * `(ts - window, ts]`. `count` without a column counts rows, with a column
 * its non-null values; `std` is the sample standard deviation.
 */
export interface AggregationFeature {
  kind: 'aggregation';
  name: string;
  agg: Aggregation;
  column?: string;
  /** As written (`7d`); `windowSeconds` is what counts. */
  window: string;
  windowSeconds: number;
}

export type FeatureSpec = PassthroughFeature | TransformFeature | AggregationFeature;

export interface FeatureViewSpec {
  name: string;
  entity: string;
  source: SourceRef;
  /** Event-time column of the source (date or datetime). */
  timestamp: string;
  /** As written (`30d`); absent = feature values never expire. */
  ttl?: string;
  ttlSeconds?: number;
  online: boolean;
  features: FeatureSpec[];
}

export interface FeatureRepo {
  entities: EntitySpec[];
  featureViews: FeatureViewSpec[];
}

// ---------------------------------------------------------------- shape (zod)

const identifier = z
  .string()
  .max(128, 'at most 128 characters')
  .regex(identifierPattern, 'must be an identifier: a letter or _, then letters, digits or _');

const durationText = z.string().superRefine((text, ctx) => {
  const parsed = parseDuration(text);
  if (!parsed.ok) ctx.addIssue({ code: 'custom', message: parsed.message });
});

const datasetName = z.string().max(100, 'at most 100 characters').regex(/^[A-Za-z0-9][A-Za-z0-9_-]*$/, 'use letters, digits, _ and -');

export const entitySpecSchema = z.strictObject({
  name: identifier,
  joinKeys: z.array(identifier).min(1, 'list at least one join key'),
});

const numberList = z.array(z.number());

function datePartShape<P extends DatePart>(part: P) {
  return z.strictObject({ name: identifier, expr: z.literal(part), column: identifier });
}

/** The strict input shape of each feature variant (before `kind` is added). */
const featureShapes = {
  passthrough: z.strictObject({ name: identifier, column: identifier }),
  log1p: z.strictObject({ name: identifier, expr: z.literal('log1p'), column: identifier }),
  clip: z.strictObject({ name: identifier, expr: z.literal('clip'), column: identifier, min: z.number().optional(), max: z.number().optional() }),
  bucketize: z.strictObject({
    name: identifier,
    expr: z.literal('bucketize'),
    column: identifier,
    boundaries: numberList.min(1, 'list at least one boundary'),
  }),
  year: datePartShape('year'),
  month: datePartShape('month'),
  day: datePartShape('day'),
  weekday: datePartShape('weekday'),
  dayofyear: datePartShape('dayofyear'),
  hour: datePartShape('hour'),
  minute: datePartShape('minute'),
  is_weekend: datePartShape('is_weekend'),
  epoch: datePartShape('epoch'),
  dateparts: z.strictObject({
    name: identifier.optional(),
    expr: z.literal('dateparts'),
    column: identifier,
    parts: z.array(z.enum(datePartsParts)).min(1, 'list at least one part'),
  }),
  poly: z.strictObject({
    name: identifier,
    expr: z.literal('poly'),
    column: identifier,
    degree: z.number().int('degree must be 2, 3 or 4').min(2, 'degree must be 2, 3 or 4').max(4, 'degree must be 2, 3 or 4'),
  }),
  interaction: z.strictObject({ name: identifier, expr: z.literal('interaction'), columns: z.array(identifier).length(2, 'expected two columns: [a, b]') }),
  ratio: z.strictObject({ name: identifier, expr: z.literal('ratio'), columns: z.array(identifier).length(2, 'expected two columns: [a, b]') }),
  aggregation: z.strictObject({ name: identifier, agg: z.enum(aggregations), column: identifier.optional(), window: durationText }),
} as const;

type FeatureVariant = keyof typeof featureShapes;
type SingleFeatureVariant = Exclude<FeatureVariant, 'dateparts'>;

const clipFeature = featureShapes.clip.superRefine((f, ctx) => {
  if (f.min === undefined && f.max === undefined) ctx.addIssue({ code: 'custom', path: ['expr'], message: 'clip needs min, max or both' });
  else if (f.min !== undefined && f.max !== undefined && f.min > f.max) {
    ctx.addIssue({ code: 'custom', path: ['max'], message: `max (${f.max}) is less than min (${f.min})` });
  }
});

const bucketizeFeature = featureShapes.bucketize.superRefine((f, ctx) => {
  for (let i = 1; i < f.boundaries.length; i++) {
    if (!(f.boundaries[i] > f.boundaries[i - 1])) {
      ctx.addIssue({
        code: 'custom',
        path: ['boundaries', i],
        message: `boundaries must be strictly ascending: ${f.boundaries[i]} follows ${f.boundaries[i - 1]}`,
      });
    }
  }
});

const aggregationFeature = featureShapes.aggregation.superRefine((f, ctx) => {
  if (f.agg !== 'count' && f.column === undefined) ctx.addIssue({ code: 'custom', path: ['column'], message: `required: agg ${f.agg} needs a column` });
});

function datePartFeature(shape: z.ZodType<{ name: string; expr: DatePart; column: string }>): z.ZodType<FeatureSpec> {
  return shape.transform((f): DatePartFeature => ({ kind: 'transform', ...f }));
}

/** Each variant's full schema, producing the typed feature. */
const featureSchemas: Record<SingleFeatureVariant, z.ZodType<FeatureSpec>> = {
  passthrough: featureShapes.passthrough.transform((f): PassthroughFeature => ({ kind: 'passthrough', ...f })),
  log1p: featureShapes.log1p.transform((f): Log1pFeature => ({ kind: 'transform', ...f })),
  clip: clipFeature.transform((f): ClipFeature => ({ kind: 'transform', ...f })),
  bucketize: bucketizeFeature.transform((f): BucketizeFeature => ({ kind: 'transform', ...f })),
  year: datePartFeature(featureShapes.year),
  month: datePartFeature(featureShapes.month),
  day: datePartFeature(featureShapes.day),
  weekday: datePartFeature(featureShapes.weekday),
  dayofyear: datePartFeature(featureShapes.dayofyear),
  hour: datePartFeature(featureShapes.hour),
  minute: datePartFeature(featureShapes.minute),
  is_weekend: datePartFeature(featureShapes.is_weekend),
  epoch: datePartFeature(featureShapes.epoch),
  poly: featureShapes.poly.transform((f): PolyFeature => ({ kind: 'transform', ...f })),
  interaction: featureShapes.interaction.transform((f): PairFeature => ({ kind: 'transform', ...f, columns: [f.columns[0], f.columns[1]] })),
  ratio: featureShapes.ratio.transform((f): PairFeature => ({ kind: 'transform', ...f, columns: [f.columns[0], f.columns[1]] })),
  aggregation: aggregationFeature.transform(
    (f): AggregationFeature => ({ kind: 'aggregation', ...f, windowSeconds: durationSeconds(f.window) }),
  ),
};

/** Which variant a raw feature is: `agg` → aggregation, `expr` → that transform, neither → passthrough. */
function featureVariant(raw: unknown): FeatureVariant | 'unknown_expr' {
  if (!isRecord(raw)) return 'passthrough';
  if ('agg' in raw) return 'aggregation';
  if ('expr' in raw) return (rowTransforms as readonly unknown[]).includes(raw.expr) ? (raw.expr as RowTransform) : 'unknown_expr';
  return 'passthrough';
}

/** The transform of a `dateparts` part (`dayofweek` is `weekday`). */
export function datePartTransform(part: DatePartsPart): DatePart {
  return part === 'dayofweek' ? 'weekday' : part;
}

/** The features a `dateparts` entry stands for: one per part, named `<name or column>_<part>`. */
export function datePartsOutputs(entry: { name?: string; column: string; parts: readonly DatePartsPart[] }): DatePartFeature[] {
  return entry.parts.map((part) => ({ kind: 'transform', name: `${entry.name ?? entry.column}_${part}`, expr: datePartTransform(part), column: entry.column }));
}

/** One entry of a view's feature list: a feature of any kind, or a `dateparts` entry (several features). The variant is chosen from the keys so errors speak about that variant only. */
const featureEntrySchema: z.ZodType<FeatureSpec | FeatureSpec[]> = z.unknown().transform((raw, ctx) => {
  const variant = featureVariant(raw);
  if (variant === 'unknown_expr') {
    const expr = (raw as Record<string, unknown>).expr;
    ctx.addIssue({ code: 'invalid_value', values: [...rowTransforms], path: ['expr'], input: expr, message: `expected one of ${rowTransforms.join(', ')}` });
    return z.NEVER;
  }
  const result = variant === 'dateparts' ? featureShapes.dateparts.transform(datePartsOutputs).safeParse(raw) : featureSchemas[variant].safeParse(raw);
  if (result.success) return result.data;
  for (const issue of result.error.issues) ctx.issues.push({ ...issue, input: raw } as (typeof ctx.issues)[number]);
  return z.NEVER;
});

/** One feature, any kind (a `dateparts` entry is not one feature: it is accepted only in a view's list). */
export const featureSpecSchema: z.ZodType<FeatureSpec> = featureEntrySchema.transform((f, ctx) => {
  if (!Array.isArray(f)) return f;
  ctx.addIssue({ code: 'custom', path: ['expr'], message: 'dateparts stands for several features; use it in a view’s feature list' });
  return z.NEVER;
});

const sourceShape = z.strictObject({
  dataset: datasetName,
  version: z.number().int('version must be a whole number').positive('version must be positive').optional(),
  mode: z.enum(['snapshot', 'append']).optional(),
});

const viewShape = z.strictObject({
  name: identifier,
  entity: identifier,
  source: sourceShape,
  timestamp: identifier,
  ttl: durationText.optional(),
  online: z.boolean().default(false),
  features: z
    .array(featureEntrySchema)
    .min(1, 'list at least one feature')
    .transform((entries) => entries.flat()),
});

export const featureViewSpecSchema = viewShape.transform((v): FeatureViewSpec => {
  const view: FeatureViewSpec = { name: v.name, entity: v.entity, source: { dataset: v.source.dataset }, timestamp: v.timestamp, online: v.online, features: v.features };
  if (v.source.version !== undefined) view.source.version = v.source.version;
  if (v.source.mode !== undefined) view.source.mode = v.source.mode;
  if (v.ttl !== undefined) {
    view.ttl = v.ttl;
    view.ttlSeconds = durationSeconds(v.ttl);
  }
  return view;
});

const repoShape = z.strictObject({
  entities: z.array(entitySpecSchema).default([]),
  featureViews: z.array(featureViewSpecSchema).default([]),
});

/** The whole document, shape and cross-references (unique names, known entities). */
export const featureRepoSchema: z.ZodType<FeatureRepo> = repoShape.superRefine((repo, ctx) => {
  for (const issue of repoRuleViolations(repo)) ctx.addIssue({ code: 'custom', path: issue.path, message: issue.message });
});

// ---------------------------------------------------------------- rules across definitions

/** Names reserved in a view's output: its join keys and this column. */
export const eventTimestampColumn = 'event_timestamp';

/**
 * Cross-reference rules: unique entity, view and feature names, join keys
 * listed once, known entities, feature names not clashing with the output's
 * join keys or `event_timestamp`. Works on raw input too (only the parts that
 * are well formed are checked), so one round of fixes is enough.
 */
export function repoRuleViolations(input: unknown): SchemaIssue[] {
  if (!isRecord(input)) return [];
  const issues: SchemaIssue[] = [];
  const entities = Array.isArray(input.entities) ? input.entities : [];
  const views = Array.isArray(input.featureViews) ? input.featureViews : [];
  if (entities.length === 0 && views.length === 0) {
    issues.push({ path: [], message: 'define at least one entity and one feature view' });
  }
  issues.push(...duplicateNames(entities, ['entities'], 'entity'));
  const joinKeysOf = new Map<string, string[]>();
  entities.forEach((entity, i) => {
    if (!isRecord(entity) || typeof entity.name !== 'string') return;
    const keys = Array.isArray(entity.joinKeys) ? entity.joinKeys.filter((k): k is string => typeof k === 'string') : [];
    if (!joinKeysOf.has(entity.name)) joinKeysOf.set(entity.name, keys);
    const seen = new Set<string>();
    (Array.isArray(entity.joinKeys) ? entity.joinKeys : []).forEach((key, j) => {
      if (typeof key !== 'string') return;
      if (seen.has(key)) issues.push({ path: ['entities', i, 'joinKeys', j], message: `join key "${key}" is listed twice` });
      seen.add(key);
    });
  });

  issues.push(...duplicateNames(views, ['featureViews'], 'feature view'));
  views.forEach((view, i) => {
    if (!isRecord(view)) return;
    const entity = typeof view.entity === 'string' ? view.entity : undefined;
    if (entity !== undefined && !joinKeysOf.has(entity)) {
      const declared = [...joinKeysOf.keys()];
      issues.push({
        path: ['featureViews', i, 'entity'],
        message: `unknown entity "${entity}"; ${declared.length > 0 ? `declared: ${declared.join(', ')}` : 'declare it under entities'}`,
      });
    }
    const features = Array.isArray(view.features) ? view.features : [];
    issues.push(...duplicateNames(features, ['featureViews', i, 'features'], 'feature', typeof view.name === 'string' ? view.name : undefined));
    const joinKeys = new Set(entity !== undefined ? (joinKeysOf.get(entity) ?? []) : []);
    issues.push(...datePartsClashes(features, ['featureViews', i, 'features'], joinKeys));
    features.forEach((feature, j) => {
      if (!isRecord(feature) || typeof feature.name !== 'string') return;
      if (feature.name === eventTimestampColumn) {
        issues.push({ path: ['featureViews', i, 'features', j, 'name'], message: `"${eventTimestampColumn}" is reserved for the output's event time; rename the feature` });
      } else if (joinKeys.has(feature.name)) {
        issues.push({ path: ['featureViews', i, 'features', j, 'name'], message: `"${feature.name}" is a join key of entity ${entity}; join keys are always in the output` });
      }
    });
  });
  return issues;
}

/**
 * Output names of `dateparts` entries (raw input) that clash with another
 * feature's name, another part's output, a join key or `event_timestamp`.
 */
function datePartsClashes(features: unknown[], at: (string | number)[], joinKeys: ReadonlySet<string>): SchemaIssue[] {
  const issues: SchemaIssue[] = [];
  const producer = new Map<string, string>();
  features.forEach((f, j) => {
    if (isRecord(f) && f.expr !== 'dateparts' && typeof f.name === 'string' && !producer.has(f.name)) producer.set(f.name, `features[${j}]`);
  });
  features.forEach((f, j) => {
    if (!isRecord(f) || f.expr !== 'dateparts' || typeof f.column !== 'string' || !Array.isArray(f.parts)) return;
    const prefix = typeof f.name === 'string' ? f.name : f.column;
    f.parts.forEach((part, k) => {
      if (typeof part !== 'string') return;
      const output = `${prefix}_${part}`;
      const path = [...at, j, 'parts', k];
      const earlier = producer.get(output);
      if (output === eventTimestampColumn) issues.push({ path, message: `"${output}" is reserved for the output's event time; rename the feature` });
      else if (joinKeys.has(output)) issues.push({ path, message: `"${output}" is a join key; join keys are always in the output` });
      else if (earlier !== undefined) issues.push({ path, message: `output "${output}" is produced twice (also by ${earlier})` });
      else producer.set(output, `features[${j}].parts[${k}]`);
    });
  });
  return issues;
}

function duplicateNames(items: unknown[], at: (string | number)[], what: string, within?: string): SchemaIssue[] {
  const issues: SchemaIssue[] = [];
  const first = new Map<string, number>();
  items.forEach((item, i) => {
    if (!isRecord(item) || typeof item.name !== 'string') return;
    const earlier = first.get(item.name);
    if (earlier === undefined) first.set(item.name, i);
    else {
      issues.push({
        path: [...at, i, 'name'],
        message: `${what} "${item.name}" is defined twice${within ? ` in view ${within}` : ''} (first at ${dottedPath([...at, earlier])})`,
      });
    }
  });
  return issues;
}

// ---------------------------------------------------------------- validation entry points

export type FeatureRepoValidation = { ok: true; repo: FeatureRepo } | { ok: false; issues: SchemaIssue[] };

/** Validates a plain value (parsed YAML or a JSON body): shape, then cross-references. Never throws. */
export function validateFeatureRepo(input: unknown): FeatureRepoValidation {
  const parsed = repoShape.safeParse(input);
  const rules = repoRuleViolations(parsed.success ? parsed.data : input);
  if (parsed.success && rules.length === 0) return { ok: true, repo: parsed.data };
  const shape = parsed.success ? [] : issuesFromZod(parsed.error, input);
  return { ok: false, issues: [...shape, ...rules] };
}

/** Like `validateFeatureRepo`, but throws a ValidationError naming every bad field (for inputs without line numbers). */
export function parseFeatureRepo(input: unknown): FeatureRepo {
  const result = validateFeatureRepo(input);
  if (result.ok) return result.repo;
  const details: FieldIssue[] = result.issues.map((i) => ({ path: namedPath(i.path, input), message: i.message }));
  const summary = details.map((d) => (d.path ? `${d.path}: ${d.message}` : d.message)).join('; ');
  throw new ValidationError(`invalid feature views: ${summary}`, details);
}

/**
 * Parses `featureviews.yaml`. Every error names the place and the field, with
 * views and features named rather than numbered:
 * `featureviews.yaml:12:62 featureViews.customer_stats.features.amount_mean_7d.window: must be positive, received "0d"`.
 * The ValidationError details carry one FieldIssue per problem.
 */
export function parseFeatureViewsYaml(text: string, source = 'featureviews.yaml'): FeatureRepo {
  return parseValidatedYaml(
    text,
    source,
    (value) => {
      const result = validateFeatureRepo(value);
      return result.ok ? { ok: true, value: result.repo } : { ok: false, issues: result.issues };
    },
    (issue, value) => namedPath(issue.path, value),
  );
}

/**
 * A dotted path with list items named by their `name` where they have a
 * valid one: `featureViews.customer_stats.features.amount_mean_7d.window`
 * rather than `featureViews.0.features.0.window`.
 */
export function namedPath(path: readonly (string | number)[], input: unknown): string {
  let node: unknown = input;
  const out: (string | number)[] = [];
  for (const segment of path) {
    const child = isRecord(node) || Array.isArray(node) ? (node as Record<string | number, unknown>)[segment] : undefined;
    const name = typeof segment === 'number' && isRecord(child) ? child.name : undefined;
    out.push(typeof name === 'string' && identifierPattern.test(name) ? name : segment);
    node = child;
  }
  return dottedPath(out);
}

// ---------------------------------------------------------------- zod issues → messages

/*
 * @mlp/data exports an `issuesFromZod`, but it is written for dataset schemas
 * (its allowed-key lists and top-level message name dataset/columns), so the
 * feature-view document has its own, with the same message style.
 */
function issuesFromZod(error: z.ZodError, input: unknown): SchemaIssue[] {
  const issues: SchemaIssue[] = [];
  for (const issue of error.issues) {
    const path = issue.path.map((p) => (typeof p === 'symbol' ? String(p) : p));
    if (issue.code === 'unrecognized_keys') {
      const allowed = allowedKeys(path, input);
      for (const key of issue.keys) {
        issues.push({ path: [...path, key], message: `unknown key "${key}"${allowed ? `; expected one of ${allowed}` : ''}`, target: 'key' });
      }
      continue;
    }
    const present = hasPath(input, path);
    if (issue.code === 'invalid_type') {
      if (path.length === 0) issues.push({ path, message: 'expected a mapping with entities and featureViews' });
      else if (!present) issues.push({ path, message: 'required' });
      else if (!issue.message.startsWith('Invalid input')) issues.push({ path, message: issue.message }); // a message of ours, e.g. on .int()
      else issues.push({ path, message: typeMessage(path, valueAt(input, path), issue.expected) });
      continue;
    }
    if (issue.code === 'invalid_value') {
      const values = issue.values.map(String).join(', ');
      issues.push({ path, message: present ? `expected one of ${values}, received ${describe(valueAt(input, path))}` : `required; one of ${values}` });
      continue;
    }
    if (issue.code === 'invalid_format') {
      issues.push({ path, message: `${issue.message}, received ${describe(valueAt(input, path))}` });
      continue;
    }
    issues.push({ path, message: stripPrefix(issue.message) });
  }
  return issues;
}

const entityKeys = Object.keys(entitySpecSchema.shape).join(', ');
const viewKeys = Object.keys(viewShape.shape).join(', ');
const sourceKeys = Object.keys(sourceShape.shape).join(', ');

function allowedKeys(path: readonly (string | number)[], input: unknown): string | undefined {
  if (path.length === 0) return Object.keys(repoShape.shape).join(', ');
  if (path.length === 2 && path[0] === 'entities') return entityKeys;
  if (path.length === 2 && path[0] === 'featureViews') return viewKeys;
  if (path.length === 3 && path[0] === 'featureViews' && path[2] === 'source') return sourceKeys;
  if (path.length === 4 && path[0] === 'featureViews' && path[2] === 'features') {
    const variant = featureVariant(valueAt(input, path));
    if (variant === 'unknown_expr') return undefined;
    const keys = Object.keys(featureShapes[variant].shape).join(', ');
    return variant === 'passthrough' ? `${keys} (add agg: or expr: for a computed feature)` : keys;
  }
  return undefined;
}

function typeMessage(path: readonly (string | number)[], value: unknown, expected: string): string {
  const received = describe(value);
  const last = path[path.length - 1];
  const parent = path[path.length - 2];
  if (typeof last === 'number' && parent === 'features') return `expected a feature such as {name: amount, column: amount}, received ${received}`;
  if (typeof last === 'number' && parent === 'featureViews') return `expected a feature view mapping (name, entity, source, timestamp, features), received ${received}`;
  if (typeof last === 'number' && parent === 'entities') return `expected an entity such as {name: customer, joinKeys: [customer_id]}, received ${received}`;
  if (last === 'source') return `expected {dataset: name} or {dataset: name, version: N}, received ${received}`;
  if (last === 'ttl' || last === 'window') return `expected a duration such as 30m, 12h, 7d or 2w, received ${received}`;
  return `expected ${expected}, received ${received}`;
}

function describe(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'a mapping';
  return JSON.stringify(value);
}

