import { SchemaIssue, dottedPath, hasPath, isRecord, parseValidatedYaml, stripPrefix, valueAt } from '@mlp/data';
import { ValidationError } from '@mlp/contracts';
import { z } from 'zod';
import { datePartNames } from '../preprocessing/dates';

/**
 * The training spec (`mlp train spec.yaml`): data, preprocessing, split, CV,
 * model, search, seed and evaluation gate. Everything a run does is decided
 * by this document plus its recorded inputs, so the resolved spec (defaults
 * filled in) is what `TrainingRunRequested` stores.
 */

const name = z.string().regex(/^[a-z][a-z0-9_-]{0,63}$/, 'use lowercase letters, digits, _ and -, starting with a letter');
const column = z.string().min(1).max(128);
const columns = z.array(column);
const selector = z.union([z.enum(['numeric', 'categorical']), columns.min(1)]);
const fraction = z.number().gt(0).lt(1);

export const tasks = ['binary', 'multiclass', 'regression'] as const;
export type TrainingTask = (typeof tasks)[number];

const trainingSetSource = z
  .object({
    entities: z.union([z.object({ dataset: name, version: z.number().int().positive().optional() }).strict(), z.object({ artifactKey: z.string().min(1) }).strict()]),
    /** The entity rows' "as of" column; default `ts`. */
    timestampColumn: column.default('ts'),
    features: z.array(z.string().regex(/^[a-z][a-z0-9_]*(:[a-z][a-z0-9_]*)?$/, 'expected view or view:feature')).min(1),
  })
  .strict();

const dataSchema = z
  .object({
    trainingSet: trainingSetSource.optional(),
    dataset: z.object({ name, version: z.number().int().positive().optional() }).strict().optional(),
    label: column,
    sensitive: columns.default([]),
    exclude: columns.default([]),
  })
  .strict();

const imputeStep = z
  .object({ impute: z.enum(['mean', 'median', 'most_frequent', 'constant']), columns: selector.optional(), value: z.union([z.number(), z.string()]).optional() })
  .strict();
const scaleStep = z.object({ scale: z.enum(['standard', 'minmax', 'robust']), columns: selector.default('numeric') }).strict();
const encodeStep = z.object({ encode: z.enum(['onehot', 'ordinal', 'target']), columns: selector.default('categorical'), smoothing: z.number().nonnegative().optional() }).strict();
const clipStep = z
  .object({ clipOutliers: z.enum(['iqr', 'zscore']), factor: z.number().positive().optional(), threshold: z.number().positive().optional(), columns: selector.default('numeric') })
  .strict();
/**
 * `dateparts: auto` or a list of parts (year, month, day, dayofweek, dayofyear, hour, minute, is_weekend, epoch):
 * takes date columns apart (all date columns when `columns` is left out). `dayFirst` gives the order of
 * `NN/NN/YYYY` text when the values cannot tell it. These steps run first, before every other step.
 */
const datePartsList = z.array(z.enum(datePartNames)).min(1);
const datepartsStep = z.object({ dateparts: z.union([z.literal('auto'), datePartsList]), columns: columns.min(1).optional(), dayFirst: z.boolean().optional() }).strict();
const stepShapes = { impute: imputeStep, scale: scaleStep, encode: encodeStep, clipOutliers: clipStep, dateparts: datepartsStep } as const;
export const preprocessingStepSchema = z.union([imputeStep, scaleStep, encodeStep, clipStep, datepartsStep]);
export type PreprocessingStepSpec = z.infer<typeof preprocessingStepSchema>;

const modelSchema = z
  .object({
    type: z.enum(['linear', 'logistic', 'mlp']),
    layers: z.array(z.number().int().positive().max(4096)).min(1).max(8).optional(),
    activation: z.enum(['relu', 'tanh', 'elu']).optional(),
    dropout: z.number().min(0).lt(1).optional(),
    l2: z.number().nonnegative().optional(),
    optimizer: z.enum(['adam', 'sgd']).optional(),
    learningRate: z.number().positive().max(10).optional(),
    epochs: z.number().int().positive().max(10_000).default(50),
    batchSize: z.number().int().positive().max(1_000_000).default(256),
    earlyStopping: z.object({ patience: z.number().int().positive(), minDelta: z.number().nonnegative().optional() }).strict().optional(),
  })
  .strict();
export type ModelSpecInput = z.infer<typeof modelSchema>;

/** Model keys a search may tune; `lr` is short for `learningRate`. */
export const tunableParams = ['learningRate', 'lr', 'layers', 'dropout', 'l2', 'optimizer', 'batchSize', 'epochs', 'activation'] as const;

export const classificationMetrics = ['accuracy', 'precision', 'recall', 'f1', 'f1_macro', 'f1_weighted', 'roc_auc', 'pr_auc', 'log_loss', 'brier'] as const;
export const regressionMetrics = ['rmse', 'mae', 'r2', 'mape'] as const;
export const metricNames = [...classificationMetrics, ...regressionMetrics] as const;
export type MetricName = (typeof metricNames)[number];
/** Metrics where smaller is better. */
export const lowerIsBetter: ReadonlySet<string> = new Set(['log_loss', 'brier', 'rmse', 'mae', 'mape']);

const searchSchema = z
  .object({
    method: z.enum(['grid', 'random', 'tpe']),
    trials: z.number().int().positive().max(10_000).default(20),
    parallelism: z.number().int().positive().max(64).default(1),
    metric: z.enum(metricNames).optional(),
    space: z.record(z.string(), z.unknown()).default({}),
    /** Median pruning after each CV fold (Optuna's MedianPruner); on by default once 5 trials completed. */
    pruning: z.union([z.literal(false), z.object({ startupTrials: z.number().int().nonnegative().default(5) }).strict()]).default({ startupTrials: 5 }),
    /** Grid points per continuous dimension. */
    gridSize: z.number().int().min(2).max(20).optional(),
  })
  .strict();

const gateRule = z
  .object({ minDelta: z.number().optional(), min: z.number().optional(), max: z.number().optional() })
  .strict()
  .refine((r) => r.minDelta !== undefined || r.min !== undefined || r.max !== undefined, 'give minDelta, min or max');

const evaluationSchema = z
  .object({
    baseline: z.enum(['production', 'naive', 'none']).default('production'),
    gate: z.partialRecord(z.enum(metricNames), gateRule).default({}),
    /** Binary tasks: the class that fairness rates (selection rate, TPR, FPR) count as positive; default the second class in sorted order. */
    positiveLabel: z.union([z.string().min(1), z.number(), z.boolean()]).optional(),
  })
  .strict();

/** Default deadlines, in minutes: one trial attempt, and the whole run from its request. */
export const defaultTimeoutMinutes = { trial: 60, run: 24 * 60 } as const;

const timeoutMinutesSchema = z
  .object({
    /** Longest one attempt of a trial may run (or a queued trial may wait while no other trial of the run runs). */
    trial: z.number().positive().max(7 * 24 * 60).default(defaultTimeoutMinutes.trial),
    /** Longest the run may take from its request to its result, search and final fit included. */
    run: z.number().positive().max(30 * 24 * 60).default(defaultTimeoutMinutes.run),
  })
  .strict();

export const trainingSpecSchema = z
  .object({
    experiment: name,
    task: z.enum(tasks),
    data: dataSchema,
    preprocessing: z.array(preprocessingStepSchema).default([]),
    featureSelection: z
      .object({ method: z.enum(['variance', 'correlation', 'mutual_info']), k: z.number().int().positive().optional(), threshold: z.number().nonnegative().optional() })
      .strict()
      .optional(),
    imbalance: z.object({ method: z.enum(['class_weight', 'oversample', 'undersample']) }).strict().optional(),
    split: z
      .object({ method: z.enum(['random', 'stratified', 'time', 'group']), column: column.optional(), test: fraction.default(0.2) })
      .strict()
      .default({ method: 'random', test: 0.2 }),
    cv: z
      .object({ folds: z.number().int().min(2).max(50).default(5), method: z.enum(['kfold', 'stratified', 'timeseries', 'group']).default('kfold'), column: column.optional() })
      .strict()
      .optional(),
    model: modelSchema,
    search: searchSchema.optional(),
    seed: z.number().int().min(0).max(2 ** 31 - 1).default(42),
    backend: z.enum(['wasm', 'cpu', 'tensorflow']).default('wasm'),
    evaluation: evaluationSchema.default({ baseline: 'production', gate: {} }),
    timeoutMinutes: timeoutMinutesSchema.default(defaultTimeoutMinutes),
  })
  .strict();

export type TrainingSpec = z.infer<typeof trainingSpecSchema>;

/** The metric a run optimizes and reports first: the search metric, else a task default. */
export function primaryMetric(spec: Pick<TrainingSpec, 'task' | 'search'>): MetricName {
  return spec.search?.metric ?? (spec.task === 'regression' ? 'rmse' : spec.task === 'binary' ? 'roc_auc' : 'accuracy');
}

export type TrainingSpecValidation = { ok: true; spec: TrainingSpec } | { ok: false; issues: SchemaIssue[] };

/** Shape (zod) then cross-field rules; never throws. */
export function validateTrainingSpec(input: unknown): TrainingSpecValidation {
  const parsed = trainingSpecSchema.safeParse(input);
  if (!parsed.success) return { ok: false, issues: issuesFromZod(parsed.error, input) };
  const issues = crossFieldIssues(parsed.data);
  return issues.length ? { ok: false, issues } : { ok: true, spec: parsed.data };
}

/** A spec given as a plain value (e.g. a JSON body); throws a ValidationError naming every wrong field. */
export function parseTrainingSpec(input: unknown): TrainingSpec {
  const r = validateTrainingSpec(input);
  if (r.ok) return r.spec;
  const details = r.issues.map((i) => ({ path: dottedPath(i.path), message: i.message }));
  throw new ValidationError(`invalid training spec: ${details.map((d) => (d.path ? `${d.path}: ${d.message}` : d.message)).join('; ')}`, details);
}

/** `train.yaml` text → spec; errors carry `file:line:col path: message`. */
export function parseTrainingSpecYaml(text: string, source = 'train.yaml'): TrainingSpec {
  return parseValidatedYaml(text, source, (value) => {
    const r = validateTrainingSpec(value);
    return r.ok ? { ok: true, value: r.spec } : { ok: false, issues: r.issues };
  });
}

function crossFieldIssues(spec: TrainingSpec): SchemaIssue[] {
  const issues: SchemaIssue[] = [];
  const add = (path: (string | number)[], message: string) => issues.push({ path, message });
  const { data, task, model } = spec;
  if (!data.trainingSet === !data.dataset) add(['data'], 'give exactly one of trainingSet or dataset');
  if (data.exclude.includes(data.label)) add(['data', 'exclude'], `the label '${data.label}' cannot be excluded`);
  if (data.sensitive.includes(data.label)) add(['data', 'sensitive'], `the label '${data.label}' cannot be a sensitive attribute`);
  if (task === 'regression' && model.type === 'logistic') add(['model', 'type'], 'logistic is a classifier; use linear or mlp for regression');
  if (task !== 'regression' && model.type === 'linear') add(['model', 'type'], 'linear is a regressor; use logistic or mlp for classification');
  if (task === 'regression' && spec.imbalance) add(['imbalance'], 'imbalance handling applies to classification only');
  const datepartsColumns = new Map<string, number>();
  let datepartsWithoutColumns: number | undefined;
  spec.preprocessing.forEach((step, i) => {
    if (!('dateparts' in step)) return;
    const firstOther = spec.preprocessing.findIndex((s) => !('dateparts' in s));
    if (firstOther !== -1 && firstOther < i) add(['preprocessing', i], `dateparts steps run before every other step: move it above preprocessing[${firstOther}]`);
    if (Array.isArray(step.dateparts)) {
      step.dateparts.forEach((part, j) => {
        if (step.dateparts.indexOf(part) < j) add(['preprocessing', i, 'dateparts', j], `part ${part} is listed twice`);
      });
    }
    if (step.columns === undefined) {
      if (datepartsWithoutColumns !== undefined) add(['preprocessing', i, 'columns'], `preprocessing[${datepartsWithoutColumns}] already takes every date column apart; name the columns of this step`);
      datepartsWithoutColumns = i;
    }
    step.columns?.forEach((c, j) => {
      const earlier = datepartsColumns.get(c);
      if (earlier !== undefined) add(['preprocessing', i, 'columns', j], `column '${c}' is already taken apart by preprocessing[${earlier}]`);
      else datepartsColumns.set(c, i);
    });
  });
  spec.preprocessing.forEach((step, i) => {
    if ('impute' in step && step.impute === 'constant' && step.value === undefined) add(['preprocessing', i, 'value'], 'required for impute: constant');
    if ('impute' in step && step.impute !== 'constant' && step.value !== undefined) add(['preprocessing', i, 'value'], 'only impute: constant takes a value');
    if ('clipOutliers' in step && step.clipOutliers === 'iqr' && step.threshold !== undefined) add(['preprocessing', i, 'threshold'], 'iqr takes factor, not threshold');
    if ('clipOutliers' in step && step.clipOutliers === 'zscore' && step.factor !== undefined) add(['preprocessing', i, 'factor'], 'zscore takes threshold, not factor');
    if ('encode' in step && step.encode === 'target' && task === 'multiclass') add(['preprocessing', i, 'encode'], 'target encoding needs a binary or numeric target');
    if ('encode' in step && step.encode !== 'target' && step.smoothing !== undefined) add(['preprocessing', i, 'smoothing'], 'only encode: target takes smoothing');
    const cols = 'columns' in step ? step.columns : undefined;
    if (Array.isArray(cols) && cols.includes(data.label)) add(['preprocessing', i, 'columns'], `the label '${data.label}' is not a feature`);
  });
  const fs = spec.featureSelection;
  if (fs && fs.method !== 'variance' && fs.k === undefined) add(['featureSelection', 'k'], `required for ${fs.method}`);
  if (fs && fs.method === 'variance' && fs.k !== undefined) add(['featureSelection', 'k'], 'variance selection takes threshold, not k');
  const split = spec.split;
  if ((split.method === 'time' || split.method === 'group') && !split.column) add(['split', 'column'], `required for a ${split.method} split`);
  if ((split.method === 'random' || split.method === 'stratified') && split.column) add(['split', 'column'], `a ${split.method} split takes no column (only time and group splits do)`);
  if (split.method === 'stratified' && task === 'regression') add(['split', 'method'], 'stratified splits need a classification task');
  if (spec.cv) {
    if (spec.cv.method === 'group' && !spec.cv.column && split.method !== 'group') add(['cv', 'column'], 'required for group CV (or use a group split)');
    if (spec.cv.method === 'timeseries' && !spec.cv.column && split.method !== 'time') add(['cv', 'column'], 'required for timeseries CV (or use a time split)');
    if (spec.cv.method === 'stratified' && task === 'regression') add(['cv', 'method'], 'stratified CV needs a classification task');
  }
  const allowed: readonly string[] = task === 'regression' ? regressionMetrics : classificationMetrics;
  if (spec.search?.metric && !allowed.includes(spec.search.metric)) add(['search', 'metric'], `not a ${task} metric; use one of ${allowed.join(', ')}`);
  for (const m of Object.keys(spec.evaluation.gate)) if (!allowed.includes(m)) add(['evaluation', 'gate', m], `not a ${task} metric; use one of ${allowed.join(', ')}`);
  if (spec.evaluation.positiveLabel !== undefined && task !== 'binary') add(['evaluation', 'positiveLabel'], 'only binary tasks take a positive label');
  if (spec.search) {
    for (const p of Object.keys(spec.search.space)) {
      if (!(tunableParams as readonly string[]).includes(p)) add(['search', 'space', p], `not a tunable parameter; use one of ${tunableParams.join(', ')}`);
    }
    if (spec.search.method === 'grid' && Object.keys(spec.search.space).length === 0) add(['search', 'space'], 'a grid search needs at least one parameter');
  }
  if (model.type !== 'mlp') {
    for (const k of ['layers', 'dropout', 'activation'] as const) if (model[k] !== undefined) add(['model', k], `only mlp models take ${k}`);
  }
  return issues;
}

// ---------------------------------------------------------------- zod issues → messages

const topKeys = Object.keys(trainingSpecSchema.shape).join(', ');

function issuesFromZod(error: z.ZodError, input: unknown): SchemaIssue[] {
  const issues: SchemaIssue[] = [];
  for (const issue of error.issues) {
    const path = issue.path.map((p) => (typeof p === 'symbol' ? String(p) : p));
    const present = hasPath(input, path);
    if (issue.code === 'unrecognized_keys') {
      for (const key of issue.keys) {
        issues.push({ path: [...path, key], message: `unknown key "${key}"${path.length === 0 ? `; expected one of ${topKeys}` : ''}`, target: 'key' });
      }
    } else if (issue.code === 'invalid_type' && path.length === 0) {
      issues.push({ path, message: 'expected a mapping with experiment, task, data and model' });
    } else if (!present) {
      issues.push({ path, message: issue.code === 'invalid_value' ? `required; one of ${issue.values.map(String).join(', ')}` : 'required' });
    } else if (issue.code === 'invalid_value') {
      issues.push({ path, message: `expected one of ${issue.values.map(String).join(', ')}, received ${JSON.stringify(valueAt(input, path))}` });
    } else if (issue.code === 'invalid_union' && path[0] === 'preprocessing') {
      issues.push(...stepIssues(path, input));
    } else {
      issues.push({ path, message: `${stripPrefix(issue.message)}, received ${JSON.stringify(valueAt(input, path))}` });
    }
  }
  return issues;
}

/**
 * A preprocessing step that fits no variant: the problems of the variant its
 * key names (`dateparts: [year, decade]` → the unknown part), else what a step looks like.
 */
function stepIssues(path: (string | number)[], input: unknown): SchemaIssue[] {
  const value = valueAt(input, path);
  if (path.length === 3 && path[2] === 'dateparts') {
    if (Array.isArray(value)) {
      const r = datePartsList.safeParse(value);
      if (!r.success) return issuesFromZod(new z.ZodError(r.error.issues.map((i) => ({ ...i, path: [...path, ...i.path] }))), input);
    }
    return [{ path, message: `expected auto or a list of parts (${datePartNames.join(', ')}), received ${JSON.stringify(value)}` }];
  }
  const kind = path.length === 2 && isRecord(value) ? (Object.keys(stepShapes) as (keyof typeof stepShapes)[]).filter((k) => k in value) : [];
  if (kind.length === 1) {
    const shape = stepShapes[kind[0]];
    const r = shape.safeParse(value);
    if (!r.success) {
      const keys = Object.keys(shape.shape).join(', ');
      return issuesFromZod(new z.ZodError(r.error.issues.map((i) => ({ ...i, path: [...path, ...i.path] }))), input).map((i) =>
        i.target === 'key' ? { ...i, message: `${i.message}; a ${kind[0]} step takes ${keys}` } : i,
      );
    }
  }
  return [{ path, message: `expected a step with one of ${Object.keys(stepShapes).join(', ')} (and only that step’s options)` }];
}
