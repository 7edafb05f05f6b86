import { ValidationError } from '@mlp/contracts';
import { type Category, type Cell, type Frame, distinctSorted, isMissing, rowCount } from '../preprocessing/frame';
import { type AnyColumn, type DateColumn, describeDateColumn, readDateColumn, textDateFormat } from './date-columns';
import type { TrainingSpec } from './training-spec';

/** Logical type of an input column, as read from the data (DuckDB types). */
export type InputColumnType = 'numeric' | 'categorical' | 'datetime';

export interface DroppedColumn {
  column: string;
  reason: string;
}

/** Training data after the label and column rules of the spec, before any fitting. */
export interface PreparedData {
  /** Candidate feature columns, rows aligned with `y`. */
  features: Frame;
  /** Classification: class index into `classes`; regression: the value. */
  y: number[];
  /** Class labels in index order (binary: [negative, positive]); empty for regression. */
  classes: Category[];
  /** Sensitive attributes by column, rows aligned with `y`. */
  sensitive: Record<string, Cell[]>;
  /** Values of the split/CV time or group column, when one is used. */
  order?: Cell[];
  groups?: Cell[];
  rows: number;
  droppedMissingLabel: number;
  /** Feature columns taken apart into date parts by the pipeline (see `pipelineFromSpec`). */
  dates: DateColumn[];
  dropped: DroppedColumn[];
  warnings: string[];
}

/** A string column with more distinct values than this (and mostly unique) is ID-like or free text. */
export const HIGH_CARDINALITY = 50;
const ID_NAME = /(^id$|_id$|^uuid$|_uuid$|^key$)/i;

/**
 * Applies the data rules of a spec to a loaded frame:
 * - every column the spec names must exist (all missing names listed at once);
 * - rows without a label are left out and counted;
 * - the label, excluded, sensitive, time and group columns are not features;
 * - date columns (`datetime` columns, text columns whose every value is a
 *   date, and the columns of `dateparts` steps) stay features and are taken
 *   apart into date parts by the pipeline, each fit on its own training rows;
 *   the parts are recorded in a warning. A column another step names
 *   explicitly is left as it is;
 * - ID-like or free-text columns that no step names explicitly are dropped
 *   with a recorded warning instead of being encoded into thousands of columns.
 */
export function prepareTrainingData(frame: Frame, types: Record<string, InputColumnType>, spec: TrainingSpec): PreparedData {
  const n = rowCount(frame);
  const { data } = spec;
  const splitColumn = spec.split.column;
  const cvColumn = spec.cv?.column;
  const named = new Map<string, string>();
  named.set(data.label, 'data.label');
  data.sensitive.forEach((c, i) => named.set(c, `data.sensitive[${i}]`));
  data.exclude.forEach((c, i) => named.set(c, `data.exclude[${i}]`));
  if (splitColumn) named.set(splitColumn, 'split.column');
  if (cvColumn) named.set(cvColumn, 'cv.column');
  const explicit = new Set<string>();
  spec.preprocessing.forEach((step, i) => {
    if (Array.isArray(step.columns)) {
      step.columns.forEach((c, j) => {
        named.set(c, `preprocessing[${i}].columns[${j}]`);
        explicit.add(c);
      });
    }
  });
  const missing = [...named].filter(([c]) => !Object.prototype.hasOwnProperty.call(frame, c));
  if (missing.length) {
    const available = Object.keys(frame).join(', ');
    throw new ValidationError(`columns not in the data: ${missing.map(([c]) => c).join(', ')} (available: ${available})`, missing.map(([c, path]) => ({ path, message: `no column '${c}'` })));
  }

  const labels = frame[data.label];
  const keep: number[] = [];
  labels.forEach((v, i) => {
    if (!isMissing(v)) keep.push(i);
  });
  const take = (values: Cell[]) => keep.map((i) => values[i]);
  const { y, classes } = encodeLabel(take(labels), spec.task, data.label);

  const dropped: DroppedColumn[] = [];
  const warnings: string[] = [];
  const drop = (column: string, reason: string, warn: boolean) => {
    dropped.push({ column, reason });
    if (warn) warnings.push(`column '${column}' dropped: ${reason}`);
  };
  // Categorical columns reach the model only through an encode step.
  const encodesCategorical = spec.preprocessing.some((step) => 'encode' in step && step.columns === 'categorical');
  const features: Frame = {};
  const timeOrGroup = new Set([splitColumn, cvColumn].filter((c): c is string => !!c));
  const dates: DateColumn[] = [];
  const datepartsStep = (i: number) => {
    const step = spec.preprocessing[i];
    return 'dateparts' in step ? step : undefined;
  };
  const datepartsSteps = spec.preprocessing.flatMap((_, i) => (datepartsStep(i) ? [i] : []));
  const namedByOtherSteps = new Set(spec.preprocessing.flatMap((s) => ('dateparts' in s || !Array.isArray(s.columns) ? [] : s.columns)));
  const dateSteps = new Map<string, number | 'auto' | undefined>();
  /** The dateparts step that takes column c apart (one naming it, else one naming no columns, else auto); undefined when c is no date column. */
  const dateStepOf = (c: string, values: AnyColumn): number | 'auto' | undefined => {
    if (dateSteps.has(c)) return dateSteps.get(c);
    let step: number | 'auto' | undefined = datepartsSteps.find((i) => datepartsStep(i)!.columns?.includes(c));
    if (step === undefined && !namedByOtherSteps.has(c) && (types[c] === 'datetime' || (types[c] === 'categorical' && textDateFormat(values)))) {
      step = datepartsSteps.find((i) => datepartsStep(i)!.columns === undefined) ?? 'auto';
    }
    dateSteps.set(c, step);
    return step;
  };
  for (const [c, values] of Object.entries(frame)) {
    if (c === data.label) continue;
    if (data.exclude.includes(c)) drop(c, 'excluded by data.exclude', false);
    else if (data.sensitive.includes(c) && !explicit.has(c)) drop(c, 'sensitive attribute (used for fairness slices only)', false);
    else if (timeOrGroup.has(c)) drop(c, `used by ${c === splitColumn ? 'split' : 'cv'} as the ${spec.split.method === 'time' || spec.cv?.method === 'timeseries' ? 'time' : 'group'} column`, false);
    else if (dateStepOf(c, values) !== undefined) {
      const kept = take(values);
      const read = readDateColumn(c, kept, dateStepOf(c, values)!, spec);
      if ('dropReason' in read) drop(c, read.dropReason, true);
      else {
        dates.push(read.date);
        warnings.push(describeDateColumn(read.date));
        features[c] = kept;
      }
    }
    else {
      const kept = take(values);
      const type = types[c] ?? 'numeric';
      const reason = explicit.has(c)
        ? undefined
        : (idLikeReason(c, kept, type) ?? (type === 'categorical' && !encodesCategorical ? 'categorical column that no encode step handles' : undefined));
      if (reason) drop(c, reason, true);
      else features[c] = kept;
    }
  }
  if (Object.keys(features).length === 0) {
    throw new ValidationError('no feature columns are left after the data rules', [{ path: 'data', message: `dropped: ${dropped.map((d) => `${d.column} (${d.reason})`).join('; ')}` }]);
  }
  const sensitive: Record<string, Cell[]> = {};
  for (const c of data.sensitive) sensitive[c] = take(frame[c]);
  const orderColumn = spec.split.method === 'time' ? splitColumn : spec.cv?.method === 'timeseries' ? cvColumn : undefined;
  const groupColumn = spec.split.method === 'group' ? splitColumn : spec.cv?.method === 'group' ? (cvColumn ?? splitColumn) : undefined;
  if (keep.length < n) warnings.push(`${n - keep.length} rows without a label were left out`);
  return {
    features,
    y,
    classes,
    sensitive,
    order: orderColumn ? take(frame[orderColumn]) : undefined,
    groups: groupColumn ? take(frame[groupColumn]) : undefined,
    rows: keep.length,
    droppedMissingLabel: n - keep.length,
    dates,
    dropped,
    warnings,
  };
}

function idLikeReason(column: string, values: Cell[], type: InputColumnType): string | undefined {
  const present = values.filter((v) => !isMissing(v));
  if (present.length === 0) return 'every value is missing';
  const distinct = new Set(present.map((v) => `${typeof v}:${String(v)}`)).size;
  if (distinct === 1) return 'constant column';
  if (type === 'categorical' && distinct > HIGH_CARDINALITY && distinct > 0.5 * present.length) {
    const long = present.filter((v) => String(v).length > 40 || /\s\S+\s/.test(String(v))).length > present.length / 2;
    return `${long ? 'free-text' : 'ID-like'} column with ${distinct} distinct values in ${present.length} rows; name it in an encode step to use it`;
  }
  if (ID_NAME.test(column) && distinct > 0.2 * present.length) return `ID-like column (${distinct} distinct values in ${present.length} rows)`;
  return undefined;
}

/** Labels → numbers: class indices in sorted order for classification (binary needs exactly two classes). */
export function encodeLabel(values: Cell[], task: TrainingSpec['task'], column: string): { y: number[]; classes: Category[] } {
  if (task === 'regression') {
    const y = values.map((v, i) => {
      const x = typeof v === 'boolean' ? Number(v) : v;
      if (typeof x !== 'number' || !Number.isFinite(x)) {
        throw new ValidationError(`label '${column}' must be numeric for regression; row ${i} is ${JSON.stringify(v)}`, [{ path: 'data.label', message: 'not numeric' }]);
      }
      return x;
    });
    return { y, classes: [] };
  }
  const classes = distinctSorted(values);
  if (task === 'binary' && classes.length !== 2) {
    throw new ValidationError(`a binary task needs exactly 2 label values; '${column}' has ${classes.length}: ${classes.slice(0, 10).join(', ')}`, [
      { path: 'data.label', message: `found ${classes.length} classes` },
    ]);
  }
  if (task === 'multiclass' && classes.length < 2) {
    throw new ValidationError(`a multiclass task needs at least 2 label values; '${column}' has ${classes.length}`, [{ path: 'data.label', message: 'one class only' }]);
  }
  const index = new Map(classes.map((c, i) => [`${typeof c}:${String(c)}`, i]));
  return { y: values.map((v) => index.get(`${typeof v}:${String(v)}`)!), classes };
}

/** Rows of a frame, in the given order. */
export function takeRows(frame: Frame, rows: readonly number[]): Frame {
  const out: Frame = {};
  for (const [c, values] of Object.entries(frame)) out[c] = rows.map((r) => values[r]);
  return out;
}

/** A fully numeric frame → row-major Float32Array (n × d) in `columns` order; a missing or non-numeric cell is an error naming it. */
export function toMatrix(frame: Frame, columns: readonly string[]): { x: Float32Array; n: number; d: number } {
  const n = rowCount(frame);
  const d = columns.length;
  const x = new Float32Array(n * d);
  columns.forEach((c, j) => {
    const values = frame[c];
    for (let i = 0; i < n; i++) {
      const v = values[i];
      const num = typeof v === 'boolean' ? Number(v) : v;
      if (typeof num !== 'number' || !Number.isFinite(num)) {
        throw new ValidationError(
          `feature '${c}' is ${isMissing(v) ? 'missing' : `non-numeric (${JSON.stringify(v)})`} at row ${i} after preprocessing; add an impute or encode step for it`,
          [{ path: `preprocessing`, message: `column '${c}' needs ${isMissing(v) ? 'an impute' : 'an encode'} step` }],
        );
      }
      x[i * d + j] = num;
    }
  });
  return { x, n, d };
}
