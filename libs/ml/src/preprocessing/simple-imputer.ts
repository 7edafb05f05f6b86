import { ValidationError } from '@mlp/contracts';
import { z } from 'zod';
import {
  type Category,
  type Cell,
  categoryKey,
  categorySchema,
  compareCategories,
  isMissing,
  mean,
  numericValues,
  quantile,
  requireNonEmpty,
  sortedNumbers,
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
    const strategy = this.options.strategy ?? 'mean';
    switch (strategy) {
      case 'mean': {
        const xs = numericValues(column, values);
        requireNonEmpty(column, xs, 'compute a mean from');
        return { fill: mean(xs) };
      }
      case 'median': {
        const xs = numericValues(column, values);
        requireNonEmpty(column, xs, 'compute a median from');
        return { fill: quantile(sortedNumbers(xs), 0.5) };
      }
      case 'most_frequent':
        return { fill: mostFrequent(column, values) };
      case 'constant': {
        if (this.options.fillValue !== undefined) return { fill: this.options.fillValue };
        const numeric = values.every((v) => isMissing(v) || typeof v === 'number');
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
}

/** Mode of the non-missing values; ties go to the smallest value (sklearn). */
function mostFrequent(column: string, values: readonly Cell[]): Category {
  const counts = new Map<string, { value: Category; count: number }>();
  for (const v of values) {
    if (isMissing(v)) continue;
    const k = categoryKey(v);
    const e = counts.get(k);
    if (e) e.count++;
    else counts.set(k, { value: v, count: 1 });
  }
  requireNonEmpty(column, [...counts.keys()], 'find the most frequent value of');
  let best: { value: Category; count: number } | undefined;
  for (const e of counts.values()) {
    if (!best || e.count > best.count || (e.count === best.count && compareCategories(e.value, best.value) < 0)) best = e;
  }
  return best!.value;
}
