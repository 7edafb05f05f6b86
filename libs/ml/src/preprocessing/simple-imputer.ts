import { ValidationError } from '@mlp/contracts';
import { z } from 'zod';
import {
  type Category,
  type Cell,
  type CodedColumn,
  type Column,
  categoryKey,
  categorySchema,
  compareCategories,
  finiteValues,
  isCodedColumn,
  isMissing,
  isNumericColumn,
  mean,
  quantile,
  requireNonEmpty,
  sortedNumbers,
  toCells,
} from './frame';
import { ColumnTransformer, type ColumnTransformerState, columnsOption, parseOrThrow, parseState, stateSchema } from './transformer';

export type ImputeStrategy = 'mean' | 'median' | 'most_frequent' | 'constant';

export interface SimpleImputerOptions {
  strategy?: ImputeStrategy;
  /** For 'constant'; default 0 for numeric columns and 'missing_value' otherwise (as sklearn). */
  fillValue?: Category;
  columns?: string[];
}

const optionsSchema = z.object({
  strategy: z.enum(['mean', 'median', 'most_frequent', 'constant']).optional(),
  fillValue: categorySchema.optional(),
  columns: columnsOption,
});
const paramsSchema = z.object({ fill: categorySchema });

export type SimpleImputerState = ColumnTransformerState<'SimpleImputer', SimpleImputerOptions, { fill: Category }>;
const schema = stateSchema('SimpleImputer', optionsSchema, paramsSchema);

/** Replaces missing values (null/NaN) per column by a statistic learnt at fit time. */
export class SimpleImputer extends ColumnTransformer<'SimpleImputer', SimpleImputerOptions, { fill: Category }> {
  readonly kind = 'SimpleImputer' as const;

  constructor(options: SimpleImputerOptions = {}) {
    super(parseOrThrow(optionsSchema, options, 'SimpleImputer options'));
  }

  static fromJSON(state: unknown): SimpleImputer {
    const s = parseState('SimpleImputer', schema, state);
    return new SimpleImputer(s.options).restore(s);
  }

  /** The learnt fill value of each column. */
  statistics(): Record<string, Category> {
    const { params } = this.requireFitted();
    return Object.fromEntries(Object.entries(params).map(([c, p]) => [c, p.fill]));
  }

  protected fitColumn(column: string, values: readonly Cell[]): { fill: Category } {
    return this.fitValues(column, values as Cell[]);
  }

  protected override fitValues(column: string, values: Column): { fill: Category } {
    const strategy = this.options.strategy ?? 'mean';
    switch (strategy) {
      case 'mean': {
        const xs = finiteValues(column, values);
        requireNonEmpty(column, xs, 'compute a mean from');
        return { fill: mean(xs) };
      }
      case 'median': {
        const xs = finiteValues(column, values);
        requireNonEmpty(column, xs, 'compute a median from');
        return { fill: quantile(sortedNumbers(xs), 0.5) };
      }
      case 'most_frequent':
        return { fill: mostFrequent(column, values) };
      case 'constant': {
        if (this.options.fillValue !== undefined) return { fill: this.options.fillValue };
        const numeric = isNumericColumn(values) || (isCodedColumn(values) ? values.dictionary.every((v) => typeof v === 'number') : values.every((v) => isMissing(v) || typeof v === 'number'));
        return { fill: numeric ? 0 : 'missing_value' };
      }
      default: {
        const never: never = strategy;
        throw new ValidationError(`Unknown strategy ${String(never)}`, [{ path: 'strategy', message: 'unknown' }]);
      }
    }
  }

  protected transformColumn(column: string, values: readonly Cell[], params: { fill: Category }): Record<string, Cell[]> {
    return { [column]: values.map((v) => (isMissing(v) ? params.fill : v)) };
  }

  /** Typed columns stay typed; a column without missing values is returned as it is (typed columns are never written in place). */
  protected override transformValues(column: string, values: Column, params: { fill: Category }, inPlace = false): Record<string, Column> {
    const { fill } = params;
    if (isNumericColumn(values) && typeof fill === 'number') {
      let missing = false;
      for (let i = 0; i < values.length && !missing; i++) missing = !Number.isFinite(values[i]);
      if (!missing) return { [column]: values };
      const out = inPlace ? values : values instanceof Float32Array ? new Float32Array(values.length) : new Float64Array(values.length);
      for (let i = 0; i < values.length; i++) out[i] = Number.isFinite(values[i]) ? values[i] : fill;
      return { [column]: out };
    }
    if (isCodedColumn(values)) {
      if (!values.codes.includes(-1)) return { [column]: values };
      let code = values.dictionary.findIndex((c) => categoryKey(c) === categoryKey(fill));
      const dictionary = code === -1 ? [...values.dictionary, fill] : values.dictionary;
      if (code === -1) code = dictionary.length - 1;
      const codes = values.codes.map((c) => (c < 0 ? code : c));
      const out: CodedColumn = { kind: 'codes', codes, dictionary };
      return { [column]: out };
    }
    return super.transformValues(column, values, params);
  }
}

/** Mode of the non-missing values; ties go to the smallest value (sklearn). */
function mostFrequent(column: string, values: Column): Category {
  const counts = new Map<string, { value: Category; count: number }>();
  const add = (v: Category, times: number) => {
    const k = categoryKey(v);
    const e = counts.get(k);
    if (e) e.count += times;
    else counts.set(k, { value: v, count: times });
  };
  if (isCodedColumn(values)) {
    const perCode = new Float64Array(values.dictionary.length);
    for (const c of values.codes) if (c >= 0) perCode[c]++;
    values.dictionary.forEach((v, i) => perCode[i] > 0 && add(v, perCode[i]));
  } else {
    for (const v of isNumericColumn(values) ? toCells(values) : values) if (!isMissing(v)) add(v, 1);
  }
  requireNonEmpty(column, [...counts.keys()], 'find the most frequent value of');
  let best: { value: Category; count: number } | undefined;
  for (const e of counts.values()) {
    if (!best || e.count > best.count || (e.count === best.count && compareCategories(e.value, best.value) < 0)) best = e;
  }
  return best!.value;
}
