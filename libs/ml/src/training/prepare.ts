import { ValidationError } from '@mlp/contracts';
import {
  type Category,
  type Cell,
  type Column,
  type Frame,
  categoryPositions,
  cellAt,
  columnLength,
  distinctCategories,
  isCodedColumn,
  isMissing,
  isNumericColumn,
  rowCount,
  takeColumn,
  toCells,
} from '../preprocessing/frame';
import { writeMatrixColumn } from '../preprocessing/pipeline';
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
  /** Non-finite numbers (NaN, ±Infinity) per column, read as missing (an impute step fills them); columns without any are left out. */
  nonFinite: Record<string, number>;
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
export function prepareTrainingData(
  frame: Frame,
  types: Record<string, InputColumnType>,
  spec: TrainingSpec,
  options: { nonFinite?: Record<string, number> } = {},
): PreparedData {
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
  let labelled = 0;
  for (let i = 0; i < n; i++) if (!isMissing(cellAt(labels, i))) labelled++;
  // Every row labelled (the usual case): the columns are used as they are, not copied (and no row list is built).
  const everyRow = labelled === n;
  const keep: number[] = [];
  if (!everyRow) for (let i = 0; i < n; i++) if (!isMissing(cellAt(labels, i))) keep.push(i);
  const take = (values: Column): Column => (everyRow ? values : takeColumn(values, keep));
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
  for (const c of data.sensitive) sensitive[c] = toCells(take(frame[c]));
  const orderColumn = spec.split.method === 'time' ? splitColumn : spec.cv?.method === 'timeseries' ? cvColumn : undefined;
  const groupColumn = spec.split.method === 'group' ? splitColumn : spec.cv?.method === 'group' ? (cvColumn ?? splitColumn) : undefined;
  if (labelled < n) warnings.push(`${n - labelled} rows without a label were left out`);
  const nonFinite = countNonFinite(frame, options.nonFinite);
  for (const [c, count] of Object.entries(nonFinite)) warnings.push(`column '${c}': ${count} non-finite value${count === 1 ? '' : 's'} (NaN, ±Infinity) read as missing`);
  return {
    features,
    y,
    classes,
    sensitive,
    order: orderColumn ? toCells(take(frame[orderColumn])) : undefined,
    groups: groupColumn ? toCells(take(frame[groupColumn])) : undefined,
    rows: labelled,
    droppedMissingLabel: n - labelled,
    nonFinite,
    dates,
    dropped,
    warnings,
  };
}

/** Non-finite numbers per column: counted in plain cells here, plus what the loader counted before it stored them as missing. */
function countNonFinite(frame: Frame, loaded: Record<string, number> = {}): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [c, values] of Object.entries(frame)) {
    let count = loaded[c] ?? 0;
    if (Array.isArray(values)) for (const v of values) if (typeof v === 'number' && !Number.isFinite(v)) count++;
    if (count > 0) out[c] = count;
  }
  return out;
}

function idLikeReason(column: string, values: Column, type: InputColumnType): string | undefined {
  const { present, constant, distinct, long } = profile(values, type === 'categorical');
  if (present === 0) return 'every value is missing';
  if (constant()) return 'constant column';
  if (type === 'categorical' && distinct() > HIGH_CARDINALITY && distinct() > 0.5 * present) {
    return `${long() > present / 2 ? 'free-text' : 'ID-like'} column with ${distinct()} distinct values in ${present} rows; name it in an encode step to use it`;
  }
  if (ID_NAME.test(column) && distinct() > 0.2 * present) return `ID-like column (${distinct()} distinct values in ${present} rows)`;
  return undefined;
}

const isLong = (v: Cell) => String(v).length > 40 || /\s\S+\s/.test(String(v));

/** Present values, distinct count and long-text count of a column, computed once and only when asked (typed columns never build a string per row). */
function profile(values: Column, textual: boolean): { present: number; constant: () => boolean; distinct: () => number; long: () => number } {
  const once = <T>(f: () => T) => {
    let v: T | undefined;
    return () => (v ??= f());
  };
  if (isCodedColumn(values)) {
    const counts = new Float64Array(values.dictionary.length);
    let present = 0;
    for (const c of values.codes) {
      if (c < 0) continue;
      counts[c]++;
      present++;
    }
    const distinct = once(() => counts.filter((k) => k > 0).length);
    return {
      present,
      constant: () => distinct() === 1,
      distinct,
      long: once(() => values.dictionary.reduce<number>((sum, v, i) => sum + (isLong(v) ? counts[i] : 0), 0)),
    };
  }
  if (isNumericColumn(values)) {
    let present = 0;
    let lo = Infinity;
    let hi = -Infinity;
    for (const v of values) {
      if (!Number.isFinite(v)) continue;
      present++;
      if (v < lo) lo = v;
      if (v > hi) hi = v;
    }
    // A Set of a million numbers is hundreds of MB of heap: only an ID-like name needs the distinct count.
    const distinct = once(() => (lo === hi ? 1 : new Set(Array.from(values).filter(Number.isFinite)).size));
    return { present, constant: () => lo === hi, distinct, long: () => 0 };
  }
  const present = values.filter((v) => !isMissing(v));
  const distinct = once(() => new Set(present.map((v) => `${typeof v}:${String(v)}`)).size);
  return {
    present: present.length,
    constant: () => distinct() === 1,
    distinct,
    long: once(() => (textual ? present.filter(isLong).length : 0)),
  };
}

/** Labels → numbers: class indices in sorted order for classification (binary needs exactly two classes). */
export function encodeLabel(values: Column, task: TrainingSpec['task'], column: string): { y: number[]; classes: Category[] } {
  if (task === 'regression') {
    const y = Array.from({ length: columnLength(values) }, (_, i) => {
      const v = cellAt(values, i);
      const x = typeof v === 'boolean' ? Number(v) : v;
      if (typeof x !== 'number' || !Number.isFinite(x)) {
        throw new ValidationError(`label '${column}' must be numeric for regression; row ${i} is ${JSON.stringify(v)}`, [{ path: 'data.label', message: 'not numeric' }]);
      }
      return x;
    });
    return { y, classes: [] };
  }
  const classes = distinctCategories(values);
  if (task === 'binary' && classes.length !== 2) {
    throw new ValidationError(`a binary task needs exactly 2 label values; '${column}' has ${classes.length}: ${classes.slice(0, 10).join(', ')}`, [
      { path: 'data.label', message: `found ${classes.length} classes` },
    ]);
  }
  if (task === 'multiclass' && classes.length < 2) {
    throw new ValidationError(`a multiclass task needs at least 2 label values; '${column}' has ${classes.length}`, [{ path: 'data.label', message: 'one class only' }]);
  }
  return { y: Array.from(categoryPositions(values, classes)), classes };
}

/** Rows of a frame, in the given order. */
export function takeRows(frame: Frame, rows: readonly number[]): Frame {
  const out: Frame = {};
  for (const [c, values] of Object.entries(frame)) out[c] = takeColumn(values, rows);
  return out;
}

/** A fully numeric frame → row-major Float32Array (n × d) in `columns` order; a missing or non-numeric cell is an error naming it. */
export function toMatrix(frame: Frame, columns: readonly string[]): { x: Float32Array; n: number; d: number } {
  const n = rowCount(frame);
  const d = columns.length;
  const x = new Float32Array(n * d);
  columns.forEach((c, j) => writeMatrixColumn(x, n, d, j, c, frame[c]));
  return { x, n, d };
}
