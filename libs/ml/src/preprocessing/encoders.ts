import { ValidationError } from '@mlp/contracts';
import { z } from 'zod';
import {
  type Category,
  type Cell,
  type Column,
  type Frame,
  type NumericColumn,
  categoryKey,
  categoryPositions,
  categorySchema,
  cellAt,
  distinctCategories,
  distinctSorted,
  isMissing,
  requireColumn,
  rowCount,
  validateTarget,
} from './frame';
import {
  ColumnTransformer,
  type ColumnTransformerState,
  type Target,
  columnsOption,
  parseOrThrow,
  parseState,
  stateSchema,
} from './transformer';

export type HandleUnknown = 'ignore' | 'error';
const handleUnknownSchema = z.enum(['ignore', 'error']).optional();

function unknownCategory(kind: string, column: string, row: number, value: Category): ValidationError {
  return new ValidationError(`${kind}: unknown category ${JSON.stringify(value)} in column '${column}' (row ${row})`, [
    { path: `${column}[${row}]`, message: 'category not seen at fit time' },
  ]);
}

function indexOf(categories: readonly Category[]): Map<string, number> {
  return new Map(categories.map((c, i) => [categoryKey(c), i]));
}

// ---------------------------------------------------------------- one-hot

export interface OneHotEncoderOptions {
  /** 'ignore' (default): an unseen category encodes as all zeros; 'error': throw. */
  handleUnknown?: HandleUnknown;
  /** Refuse to expand a column with more categories than this; default 50. */
  maxCategories?: number;
  columns?: string[];
}
const oneHotOptions = z.object({
  handleUnknown: handleUnknownSchema,
  maxCategories: z.number().int().positive().optional(),
  columns: columnsOption,
});
const categoriesParams = z.object({ categories: z.array(categorySchema) });
export type OneHotEncoderState = ColumnTransformerState<'OneHotEncoder', OneHotEncoderOptions, { categories: Category[] }>;
const oneHotSchema = stateSchema('OneHotEncoder', oneHotOptions, categoriesParams);

/**
 * One 0/1 column `<col>=<value>` per category (sorted), replacing the source
 * column in place. Missing values encode as all zeros.
 */
export class OneHotEncoder extends ColumnTransformer<'OneHotEncoder', OneHotEncoderOptions, { categories: Category[] }> {
  readonly kind = 'OneHotEncoder' as const;

  constructor(options: OneHotEncoderOptions = {}) {
    super(parseOrThrow(oneHotOptions, options, 'OneHotEncoder options'));
  }

  static fromJSON(state: unknown): OneHotEncoder {
    const s = parseState('OneHotEncoder', oneHotSchema, state);
    return new OneHotEncoder(s.options).restore(s);
  }

  categories(): Record<string, Category[]> {
    const { params } = this.requireFitted();
    return Object.fromEntries(Object.entries(params).map(([c, p]) => [c, [...p.categories]]));
  }

  protected fitColumn(column: string, values: readonly Cell[]): { categories: Category[] } {
    return this.fitValues(column, values as Cell[]);
  }

  protected override fitValues(column: string, values: Column): { categories: Category[] } {
    const categories = distinctCategories(values);
    const max = this.options.maxCategories ?? 50;
    if (categories.length > max) {
      throw new ValidationError(
        `OneHotEncoder: column '${column}' has ${categories.length} categories, more than maxCategories ${max}; ` +
          `use an OrdinalEncoder or TargetEncoder for it, or raise maxCategories`,
        [{ path: column, message: `${categories.length} categories > maxCategories ${max}` }],
      );
    }
    const names = new Set(categories.map((c) => `${column}=${String(c)}`));
    if (names.size !== categories.length) {
      throw new ValidationError(`OneHotEncoder: column '${column}' has categories that print the same (e.g. 1 and '1')`, [
        { path: column, message: 'ambiguous output column names' },
      ]);
    }
    return { categories };
  }

  protected transformColumn(column: string, values: readonly Cell[], p: { categories: Category[] }): Record<string, Cell[]> {
    const index = indexOf(p.categories);
    const out: Cell[][] = p.categories.map(() => new Array<Cell>(values.length).fill(0));
    values.forEach((v, row) => {
      if (isMissing(v)) return;
      const i = index.get(categoryKey(v));
      if (i !== undefined) out[i][row] = 1;
      else if (this.options.handleUnknown === 'error') throw unknownCategory(this.kind, column, row, v);
    });
    return Object.fromEntries(p.categories.map((c, i) => [`${column}=${String(c)}`, out[i]]));
  }

  /** Typed columns (coded categories, numbers) → one Float32Array of 0/1 per category. */
  protected override transformValues(column: string, values: Column, p: { categories: Category[] }): Record<string, Column> {
    if (Array.isArray(values)) return super.transformValues(column, values, p);
    const pos = categoryPositions(values, p.categories);
    const out = p.categories.map(() => new Float32Array(pos.length));
    for (let row = 0; row < pos.length; row++) {
      const i = pos[row];
      if (i >= 0) out[i][row] = 1;
      else if (i === -2 && this.options.handleUnknown === 'error') throw unknownCategory(this.kind, column, row, cellAt(values, row) as Category);
    }
    return Object.fromEntries(p.categories.map((c, i) => [`${column}=${String(c)}`, out[i]]));
  }
}

// ---------------------------------------------------------------- ordinal

export interface OrdinalEncoderOptions {
  /** 'ignore' (default): an unseen category encodes as -1; 'error': throw. */
  handleUnknown?: HandleUnknown;
  columns?: string[];
}
const ordinalOptions = z.object({ handleUnknown: handleUnknownSchema, columns: columnsOption });
export type OrdinalEncoderState = ColumnTransformerState<'OrdinalEncoder', OrdinalEncoderOptions, { categories: Category[] }>;
const ordinalSchema = stateSchema('OrdinalEncoder', ordinalOptions, categoriesParams);

/** Sorted categories → 0..n−1; unknown → −1 (or an error); missing stays null. */
export class OrdinalEncoder extends ColumnTransformer<'OrdinalEncoder', OrdinalEncoderOptions, { categories: Category[] }> {
  readonly kind = 'OrdinalEncoder' as const;

  constructor(options: OrdinalEncoderOptions = {}) {
    super(parseOrThrow(ordinalOptions, options, 'OrdinalEncoder options'));
  }

  static fromJSON(state: unknown): OrdinalEncoder {
    const s = parseState('OrdinalEncoder', ordinalSchema, state);
    return new OrdinalEncoder(s.options).restore(s);
  }

  protected fitColumn(_column: string, values: readonly Cell[]): { categories: Category[] } {
    return { categories: distinctSorted(values) };
  }

  protected override fitValues(column: string, values: Column): { categories: Category[] } {
    return { categories: distinctCategories(values) };
  }

  /** Typed columns → a Float32Array of indices (NaN for missing, −1 for unknown). */
  protected override transformValues(column: string, values: Column, p: { categories: Category[] }): Record<string, Column> {
    if (Array.isArray(values)) return super.transformValues(column, values, p);
    const pos = categoryPositions(values, p.categories);
    const out = new Float32Array(pos.length);
    for (let row = 0; row < pos.length; row++) {
      const i = pos[row];
      if (i === -2 && this.options.handleUnknown === 'error') throw unknownCategory(this.kind, column, row, cellAt(values, row) as Category);
      out[row] = i === -1 ? Number.NaN : i === -2 ? -1 : i;
    }
    return { [column]: out };
  }

  protected transformColumn(column: string, values: readonly Cell[], p: { categories: Category[] }): Record<string, Cell[]> {
    const index = indexOf(p.categories);
    return {
      [column]: values.map((v, row) => {
        if (isMissing(v)) return null;
        const i = index.get(categoryKey(v));
        if (i !== undefined) return i;
        if (this.options.handleUnknown === 'error') throw unknownCategory(this.kind, column, row, v);
        return -1;
      }),
    };
  }
}

// ---------------------------------------------------------------- target

export interface TargetEncoderOptions {
  /** Smoothing strength m in `(count·mean + m·prior) / (count + m)`; default 10. */
  smoothing?: number;
  columns?: string[];
}
export interface TargetEncoding {
  prior: number;
  categories: Category[];
  encodings: number[];
}
const targetOptions = z.object({ smoothing: z.number().nonnegative().optional(), columns: columnsOption });
const targetParams = z.object({ prior: z.number(), categories: z.array(categorySchema), encodings: z.array(z.number()) });
export type TargetEncoderState = ColumnTransformerState<'TargetEncoder', TargetEncoderOptions, TargetEncoding>;
const targetSchema = stateSchema('TargetEncoder', targetOptions, targetParams);

/**
 * Replaces a category by the smoothed mean of the target over its rows:
 * `(count·mean + m·prior) / (count + m)`, prior = mean of y. Unknown or
 * missing categories encode as the prior. For training rows use
 * {@link fitTransformOutOfFold}, which never lets a row see its own label.
 */
export class TargetEncoder extends ColumnTransformer<'TargetEncoder', TargetEncoderOptions, TargetEncoding> {
  readonly kind = 'TargetEncoder' as const;

  constructor(options: TargetEncoderOptions = {}) {
    super(parseOrThrow(targetOptions, options, 'TargetEncoder options'));
  }

  static fromJSON(state: unknown): TargetEncoder {
    const s = parseState('TargetEncoder', targetSchema, state);
    return new TargetEncoder(s.options).restore(s);
  }

  encodings(): Record<string, TargetEncoding> {
    return JSON.parse(JSON.stringify(this.requireFitted().params));
  }

  /**
   * Cross-fitting: fits on all rows (for later `transform` of new data) and
   * returns the frame where each row in `folds[k]` is encoded from the rows of
   * the other folds only. Every row must be in exactly one fold.
   */
  fitTransformOutOfFold(frame: Frame, y: Target, folds: number[][]): Frame {
    const n = rowCount(frame);
    const target = validateTarget(y, n, this.kind);
    const foldOf = validateFolds(folds, n);
    this.fit(frame, y);
    const out = this.transform(frame);
    for (const column of this.requireFitted().columns) {
      const values = requireColumn(frame, column);
      const all = distinctCategories(values);
      const pos = categoryPositions(values, all);
      const encoded = out[column] as Cell[] | NumericColumn;
      folds.forEach((fold, k) => {
        const p = this.encode(pos, all, target, (row) => foldOf[row] !== k);
        const index = indexOf(p.categories);
        for (const row of fold) {
          const i = pos[row] < 0 ? undefined : index.get(categoryKey(all[pos[row]]));
          encoded[row] = i === undefined ? p.prior : p.encodings[i];
        }
      });
    }
    return out;
  }

  protected override prepareTarget(y: Target | undefined, n: number): number[] {
    return validateTarget(y, n, this.kind);
  }

  protected fitColumn(column: string, values: readonly Cell[], y: number[] | undefined): TargetEncoding {
    return this.fitValues(column, values as Cell[], y);
  }

  protected override fitValues(_column: string, values: Column, y: number[] | undefined): TargetEncoding {
    const all = distinctCategories(values);
    return this.encode(categoryPositions(values, all), all, y!, () => true);
  }

  protected transformColumn(_column: string, values: readonly Cell[], p: TargetEncoding): Record<string, Cell[]> {
    const index = indexOf(p.categories);
    return {
      [_column]: values.map((v) => {
        const i = isMissing(v) ? undefined : index.get(categoryKey(v));
        return i === undefined ? p.prior : p.encodings[i];
      }),
    };
  }

  /** Typed columns → a Float64Array of encodings. */
  protected override transformValues(column: string, values: Column, p: TargetEncoding): Record<string, Column> {
    if (Array.isArray(values)) return super.transformValues(column, values, p);
    const pos = categoryPositions(values, p.categories);
    const out = new Float64Array(pos.length);
    for (let row = 0; row < pos.length; row++) out[row] = pos[row] < 0 ? p.prior : p.encodings[pos[row]];
    return { [column]: out };
  }

  /**
   * Smoothed means over the rows for which `use(row)` holds; `pos[row]` is
   * the row's index into `all` (sorted distinct values), −1 when missing.
   */
  private encode(pos: Int32Array, all: readonly Category[], y: readonly number[], use: (row: number) => boolean): TargetEncoding {
    const m = this.options.smoothing ?? 10;
    let total = 0;
    let count = 0;
    const sums = new Float64Array(all.length);
    const counts = new Float64Array(all.length);
    for (let row = 0; row < pos.length; row++) {
      if (!use(row)) continue;
      total += y[row];
      count++;
      const i = pos[row];
      if (i < 0) continue;
      sums[i] += y[row];
      counts[i]++;
    }
    const prior = total / count;
    const categories: Category[] = [];
    const encodings: number[] = [];
    all.forEach((c, i) => {
      if (counts[i] === 0) return;
      categories.push(c);
      // count·mean = sum
      encodings.push((sums[i] + m * prior) / (counts[i] + m));
    });
    return { prior, categories, encodings };
  }
}

/** Row → fold number; each row in exactly one fold, and no fold holds every row. */
function validateFolds(folds: number[][], n: number): number[] {
  const foldOf = new Array<number>(n).fill(-1);
  folds.forEach((fold, k) => {
    for (const row of fold) {
      if (!Number.isInteger(row) || row < 0 || row >= n) {
        throw new ValidationError(`Fold ${k} has row ${row}, outside 0..${n - 1}`, [{ path: `folds[${k}]`, message: 'row out of range' }]);
      }
      if (foldOf[row] !== -1) {
        throw new ValidationError(`Row ${row} is in folds ${foldOf[row]} and ${k}`, [{ path: `folds[${k}]`, message: 'row in two folds' }]);
      }
      foldOf[row] = k;
    }
    if (fold.length === n && n > 0) {
      throw new ValidationError(`Fold ${k} holds every row: no other folds to encode it from`, [
        { path: `folds[${k}]`, message: 'needs at least two non-empty folds' },
      ]);
    }
  });
  const uncovered = foldOf.indexOf(-1);
  if (uncovered !== -1) {
    throw new ValidationError(`Row ${uncovered} is in no fold`, [{ path: 'folds', message: 'every row must be in exactly one fold' }]);
  }
  return foldOf;
}
