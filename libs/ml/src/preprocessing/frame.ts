import { ValidationError } from '@mlp/contracts';
import { z } from 'zod';

/** One cell of a column-oriented frame; `null` (or a NaN number) means missing. */
export type Cell = number | string | boolean | null;
/** Column-oriented table: every column has the same length. */
export type Frame = Record<string, Cell[]>;
/** A non-missing categorical value, kept with its original JSON type. */
export type Category = string | number | boolean;

export const categorySchema = z.union([z.string(), z.number(), z.boolean()]);
export const cellSchema = z.union([z.string(), z.number(), z.boolean(), z.null()]);

export function isMissing(v: Cell | undefined): v is null | undefined {
  return v === null || v === undefined || (typeof v === 'number' && Number.isNaN(v));
}

/** Number of rows; throws when the columns disagree on length. */
export function rowCount(frame: Frame): number {
  let n: number | undefined;
  for (const [name, col] of Object.entries(frame)) {
    if (!Array.isArray(col)) throw new ValidationError(`Column '${name}' is not an array`, [{ path: name, message: 'not an array' }]);
    if (n === undefined) n = col.length;
    else if (col.length !== n) {
      throw new ValidationError(`Column '${name}' has ${col.length} rows, expected ${n}`, [
        { path: name, message: `length ${col.length} differs from ${n}` },
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

export function requireColumn(frame: Frame, column: string): Cell[] {
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

export function requireNonEmpty(column: string, values: readonly unknown[], what: string): void {
  if (values.length === 0) {
    throw new ValidationError(`Column '${column}' has no non-missing values to ${what}`, [
      { path: column, message: 'all values are missing' },
    ]);
  }
}

export function mean(xs: readonly number[]): number {
  let s = 0;
  for (const x of xs) s += x;
  return s / xs.length;
}

/** Population standard deviation (ddof = 0), as sklearn's StandardScaler. */
export function populationStd(xs: readonly number[], m = mean(xs)): number {
  let s = 0;
  for (const x of xs) s += (x - m) ** 2;
  return Math.sqrt(s / xs.length);
}

/** Quantile with numpy's default 'linear' interpolation: position q·(n−1) in the sorted values. */
export function quantile(sorted: readonly number[], q: number): number {
  const pos = q * (sorted.length - 1);
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo);
}

export function sortedNumbers(xs: readonly number[]): number[] {
  return [...xs].sort((a, b) => a - b);
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
