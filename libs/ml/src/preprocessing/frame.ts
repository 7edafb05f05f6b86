import { ValidationError } from '@mlp/contracts';
import { z } from 'zod';

/** One cell of a column-oriented frame; `null` (or a non-finite number: NaN, ±Infinity) means missing. */
export type Cell = number | string | boolean | null;
/** A non-missing categorical value, kept with its original JSON type. */
export type Category = string | number | boolean;
/** Numbers by row, NaN meaning missing. Training loads numeric columns this way (4 or 8 bytes a row, no JS objects). */
export type NumericColumn = Float32Array | Float64Array;
/** Categories by row as codes into `dictionary`; -1 means missing. The dictionary may hold values no row uses. */
export interface CodedColumn {
  readonly kind: 'codes';
  readonly codes: Int32Array;
  readonly dictionary: readonly Category[];
}
/** One column: plain cells, or the typed forms that large frames use. */
export type Column = Cell[] | NumericColumn | CodedColumn;
/** Column-oriented table: every column has the same length. */
export type Frame = Record<string, Column>;

export const categorySchema = z.union([z.string(), z.number(), z.boolean()]);
export const cellSchema = z.union([z.string(), z.number(), z.boolean(), z.null()]);

/** null, undefined and non-finite numbers (NaN, ±Infinity) are missing: they reach an imputer, never a model. */
export function isMissing(v: Cell | undefined): v is null | undefined {
  return v === null || v === undefined || (typeof v === 'number' && !Number.isFinite(v));
}

export function isNumericColumn(col: Column | undefined): col is NumericColumn {
  return col instanceof Float32Array || col instanceof Float64Array;
}

export function isCodedColumn(col: Column | undefined): col is CodedColumn {
  return col !== undefined && !Array.isArray(col) && !ArrayBuffer.isView(col) && (col as CodedColumn).kind === 'codes';
}

export function isColumn(col: unknown): col is Column {
  return Array.isArray(col) || col instanceof Float32Array || col instanceof Float64Array || (isCodedColumn(col as Column) && (col as CodedColumn).codes instanceof Int32Array);
}

export function columnLength(col: Column): number {
  return isCodedColumn(col) ? col.codes.length : col.length;
}

/** The cell at row `i`; missing values (NaN in typed columns, code -1) come back as null. */
export function cellAt(col: Column, i: number): Cell {
  if (isCodedColumn(col)) {
    const code = col.codes[i];
    return code < 0 ? null : col.dictionary[code];
  }
  const v = col[i];
  return typeof v === 'number' && !Number.isFinite(v) ? null : v;
}

/** Plain cells of any column (a copy; missing values as null). */
export function toCells(col: Column): Cell[] {
  if (Array.isArray(col)) return col.slice();
  const n = columnLength(col);
  const out = new Array<Cell>(n);
  for (let i = 0; i < n; i++) out[i] = cellAt(col, i);
  return out;
}

/** The given rows of a column, in order, in the column's own form. */
export function takeColumn(col: Column, rows: readonly number[]): Column {
  if (isCodedColumn(col)) {
    const codes = new Int32Array(rows.length);
    for (let i = 0; i < rows.length; i++) codes[i] = col.codes[rows[i]];
    return { kind: 'codes', codes, dictionary: col.dictionary };
  }
  if (isNumericColumn(col)) {
    const out = col instanceof Float32Array ? new Float32Array(rows.length) : new Float64Array(rows.length);
    for (let i = 0; i < rows.length; i++) out[i] = col[rows[i]];
    return out;
  }
  return rows.map((r) => col[r]);
}

/** True when `rows` is exactly 0..n-1 (taking them is the identity, so no copy is needed). */
export function isAllRows(rows: readonly number[], n: number): boolean {
  if (rows.length !== n) return false;
  for (let i = 0; i < n; i++) if (rows[i] !== i) return false;
  return true;
}

/** Cells → codes into the sorted distinct values (what the training loader builds for text and boolean columns). */
export function codedColumn(values: readonly Cell[]): CodedColumn {
  const dictionary = distinctSorted(values);
  const index = new Map(dictionary.map((c, i) => [categoryKey(c), i]));
  const codes = new Int32Array(values.length);
  values.forEach((v, i) => (codes[i] = isMissing(v) ? -1 : index.get(categoryKey(v))!));
  return { kind: 'codes', codes, dictionary };
}

/** Sorted distinct non-missing values of any column. */
export function distinctCategories(col: Column): Category[] {
  if (isCodedColumn(col)) {
    const used = new Uint8Array(col.dictionary.length);
    for (const code of col.codes) if (code >= 0) used[code] = 1;
    return distinctSorted(col.dictionary.filter((_, i) => used[i] === 1));
  }
  if (isNumericColumn(col)) {
    const seen = new Set<number>();
    for (const v of col) if (Number.isFinite(v)) seen.add(v === 0 ? 0 : v);
    return [...seen].sort((a, b) => a - b);
  }
  return distinctSorted(col);
}

/**
 * Row → position of its value in `categories` (matched as {@link categoryKey}):
 * -1 for a missing value, -2 for a value not in `categories`. Coded columns
 * look each dictionary entry up once, not each row.
 */
export function categoryPositions(col: Column, categories: readonly Category[]): Int32Array {
  const index = new Map(categories.map((c, i) => [categoryKey(c), i]));
  const n = columnLength(col);
  const out = new Int32Array(n);
  if (isCodedColumn(col)) {
    const byCode = col.dictionary.map((c) => index.get(categoryKey(c)) ?? -2);
    for (let i = 0; i < n; i++) out[i] = col.codes[i] < 0 ? -1 : byCode[col.codes[i]];
    return out;
  }
  if (isNumericColumn(col)) {
    // Numbers match number categories only; a Map on the number itself builds no string per row.
    const byNumber = new Map<number, number>();
    categories.forEach((c, i) => typeof c === 'number' && !byNumber.has(c) && byNumber.set(c, i));
    for (let i = 0; i < n; i++) out[i] = Number.isFinite(col[i]) ? (byNumber.get(col[i]) ?? -2) : -1;
    return out;
  }
  for (let i = 0; i < n; i++) {
    const v = cellAt(col, i);
    out[i] = isMissing(v) ? -1 : (index.get(categoryKey(v)) ?? -2);
  }
  return out;
}

/** Non-missing values of a numeric column as doubles; a coded or non-numeric column is an error naming it. */
export function finiteValues(column: string, col: Column): Float64Array {
  if (isNumericColumn(col)) {
    let k = 0;
    for (const v of col) if (Number.isFinite(v)) k++;
    const out = new Float64Array(k);
    k = 0;
    for (const v of col) if (Number.isFinite(v)) out[k++] = v;
    return out;
  }
  return Float64Array.from(numericValues(column, isCodedColumn(col) ? toCells(col) : col));
}

/** Number of rows; throws when the columns disagree on length. */
export function rowCount(frame: Frame): number {
  let n: number | undefined;
  for (const [name, col] of Object.entries(frame)) {
    if (!isColumn(col)) throw new ValidationError(`Column '${name}' is not an array`, [{ path: name, message: 'not an array' }]);
    const length = columnLength(col);
    if (n === undefined) n = length;
    else if (length !== n) {
      throw new ValidationError(`Column '${name}' has ${length} rows, expected ${n}`, [
        { path: name, message: `length ${length} differs from ${n}` },
      ]);
    }
  }
  return n ?? 0;
}

export function pick(frame: Frame, columns: readonly string[]): Frame {
  const out: Frame = {};
  for (const c of columns) out[c] = requireColumn(frame, c);
  return out;
}

export function requireColumn(frame: Frame, column: string): Column {
  const col = frame[column];
  if (!Object.prototype.hasOwnProperty.call(frame, column) || col === undefined) {
    throw new ValidationError(`Missing column '${column}'`, [{ path: column, message: 'column is missing' }]);
  }
  return col;
}

/** The non-missing values of a column, which must all be numbers. */
export function numericValues(column: string, values: readonly Cell[]): number[] {
  const out: number[] = [];
  values.forEach((v, i) => {
    if (isMissing(v)) return;
    if (typeof v !== 'number' || !Number.isFinite(v)) {
      throw new ValidationError(`Column '${column}' must be numeric; row ${i} is ${JSON.stringify(v)}`, [
        { path: `${column}[${i}]`, message: 'expected a finite number or null' },
      ]);
    }
    out.push(v);
  });
  return out;
}

export function requireNonEmpty(column: string, values: ArrayLike<unknown>, what: string): void {
  if (values.length === 0) {
    throw new ValidationError(`Column '${column}' has no non-missing values to ${what}`, [
      { path: column, message: 'all values are missing' },
    ]);
  }
}

export function mean(xs: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < xs.length; i++) s += xs[i];
  return s / xs.length;
}

/** Population standard deviation (ddof = 0), as sklearn's StandardScaler. */
export function populationStd(xs: ArrayLike<number>, m = mean(xs)): number {
  let s = 0;
  for (let i = 0; i < xs.length; i++) s += (xs[i] - m) ** 2;
  return Math.sqrt(s / xs.length);
}

/** Quantile with numpy's default 'linear' interpolation: position q·(n−1) in the sorted values. */
export function quantile(sorted: ArrayLike<number>, q: number): number {
  const pos = q * (sorted.length - 1);
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo);
}

export function sortedNumbers(xs: ArrayLike<number>): number[] {
  return Array.from(xs).sort((a, b) => a - b);
}

const typeRank = (v: Category): number => (typeof v === 'boolean' ? 0 : typeof v === 'number' ? 1 : 2);

/** Total order on categories: booleans < numbers < strings; within a type, natural order (strings by code unit). */
export function compareCategories(a: Category, b: Category): number {
  const ra = typeRank(a);
  const rb = typeRank(b);
  if (ra !== rb) return ra - rb;
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  const sa = String(a);
  const sb = String(b);
  return sa < sb ? -1 : sa > sb ? 1 : 0;
}

/** Map key that keeps `1`, `'1'` and `true` apart. */
export function categoryKey(v: Category): string {
  return `${typeof v}:${String(v)}`;
}

export function distinctSorted(values: readonly Cell[]): Category[] {
  const seen = new Map<string, Category>();
  for (const v of values) if (!isMissing(v)) seen.set(categoryKey(v), v);
  return [...seen.values()].sort(compareCategories);
}

/** Target vector: finite numbers (booleans count as 0/1), one per row. */
export function validateTarget(y: readonly (number | boolean)[] | undefined, n: number, who: string): number[] {
  if (!y) throw new ValidationError(`${who} needs a target y to fit`, [{ path: 'y', message: 'required' }]);
  if (y.length !== n) {
    throw new ValidationError(`${who}: y has ${y.length} values but the frame has ${n} rows`, [
      { path: 'y', message: `length ${y.length} differs from ${n}` },
    ]);
  }
  return y.map((v, i) => {
    const x = typeof v === 'boolean' ? (v ? 1 : 0) : v;
    if (typeof x !== 'number' || !Number.isFinite(x)) {
      throw new ValidationError(`${who}: y[${i}] is not a finite number`, [{ path: `y[${i}]`, message: 'expected a finite number' }]);
    }
    return x;
  });
}
