import { ValidationError } from '@mlp/contracts';
import { z } from 'zod';
import { type DatePartName, type SlashOrder, dateParts, datePartNames, parseDateCell, slashOrderOf } from './dates';
import { type Cell, isMissing } from './frame';
import { ColumnTransformer, type ColumnTransformerState, columnsOption, parseOrThrow, parseState, stateSchema } from './transformer';

export interface DatePartsOptions {
  /** Date columns to take apart; default every column of the frame given to `fit`. */
  columns?: string[];
  /**
   * The parts to output, or `auto` (the default): every part whose value is
   * not the same in all training rows, so `hour` and `minute` only when some
   * value has a time of day, `year` only when the rows span years.
   */
  parts?: DatePartName[] | 'auto';
  /** Day/month order of `NN/NN/YYYY` text per column; read from the training values when not given (see `slashOrderOf`). */
  slashOrder?: Record<string, SlashOrder>;
}

export interface DatePartsParams {
  /** Output parts, in {@link datePartNames} order; the output column of part `p` is `<column>_<p>`. */
  parts: DatePartName[];
  /** Stands in for a missing date: the mean training instant (epoch ms, rounded). */
  fillMs: number;
  /** Day/month order of `NN/NN/YYYY` text, when the column had any. */
  slashOrder: SlashOrder | null;
}

const partSchema = z.enum(datePartNames);
const slashOrderSchema = z.enum(['dmy', 'mdy']);
const optionsSchema = z.object({
  columns: columnsOption,
  parts: z.union([z.literal('auto'), z.array(partSchema).min(1)]).optional(),
  slashOrder: z.record(z.string(), slashOrderSchema).optional(),
});
const paramsSchema = z.object({ parts: z.array(partSchema), fillMs: z.number(), slashOrder: slashOrderSchema.nullable() });

export type DatePartsState = ColumnTransformerState<'DateParts', DatePartsOptions, DatePartsParams>;
const schema = stateSchema('DateParts', optionsSchema, paramsSchema);

/** Output column of one part of a date column. */
export function datePartColumn(column: string, part: DatePartName): string {
  return `${column}_${part}`;
}

/**
 * Replaces each date column by numeric part columns `<column>_year`,
 * `<column>_month`, … (AutoGluon's DatetimeFeatureGenerator). Cells are epoch
 * milliseconds or date text (see `parseDateCell`: ISO 8601 with its zone, UTC
 * otherwise, `YYYY/MM/DD`, `DD.MM.YYYY`, `DD/MM/YYYY` or `MM/DD/YYYY` decided
 * per column); parts are taken in UTC. What `fit` learns (the parts kept, the
 * slash order, the fill for missing dates) comes from the training rows only
 * and is saved, so serving takes new rows apart the same way. A missing date
 * is filled with the mean training instant; text that is not a date is an
 * error naming the row.
 */
export class DateParts extends ColumnTransformer<'DateParts', DatePartsOptions, DatePartsParams> {
  readonly kind = 'DateParts' as const;

  constructor(options: DatePartsOptions = {}) {
    super(parseOrThrow(optionsSchema, options, 'DateParts options'));
  }

  static fromJSON(state: unknown): DateParts {
    const s = parseState('DateParts', schema, state);
    return new DateParts(s.options).restore(s);
  }

  /** The parts kept for each column. */
  partsByColumn(): Record<string, DatePartName[]> {
    const { params } = this.requireFitted();
    return Object.fromEntries(Object.entries(params).map(([c, p]) => [c, [...p.parts]]));
  }

  protected fitColumn(column: string, values: readonly Cell[]): DatePartsParams {
    const slashOrder = this.options.slashOrder?.[column] ?? detectSlashOrder(column, values);
    const instants = readDates(column, values, slashOrder ?? undefined, undefined);
    const present = instants.filter((t): t is number => t !== undefined);
    if (present.length === 0) {
      throw new ValidationError(`Column '${column}' has no dates to learn from`, [{ path: column, message: 'all values are missing' }]);
    }
    const requested = this.options.parts ?? 'auto';
    let parts: DatePartName[];
    if (requested === 'auto') {
      const first = dateParts(present[0]);
      const varies = new Set<DatePartName>();
      for (const t of present) {
        const p = dateParts(t);
        for (const name of datePartNames) if (p[name] !== first[name]) varies.add(name);
      }
      parts = datePartNames.filter((name) => varies.has(name));
    } else {
      parts = datePartNames.filter((name) => requested.includes(name));
    }
    let sum = 0;
    for (const t of present) sum += t;
    return { parts, fillMs: Math.round(sum / present.length), slashOrder };
  }

  protected transformColumn(column: string, values: readonly Cell[], params: DatePartsParams): Record<string, Cell[]> {
    const instants = readDates(column, values, params.slashOrder ?? undefined, params.fillMs);
    const out: Record<string, Cell[]> = {};
    const columns = params.parts.map((part) => {
      const values: Cell[] = new Array<Cell>(instants.length);
      out[datePartColumn(column, part)] = values;
      return values;
    });
    instants.forEach((t, i) => {
      const p = dateParts(t!);
      params.parts.forEach((part, j) => (columns[j][i] = p[part]));
    });
    return out;
  }
}

function detectSlashOrder(column: string, values: readonly Cell[]): SlashOrder | null {
  const order = slashOrderOf(values);
  if (order === 'none') return null;
  if (order === 'ambiguous') {
    throw new ValidationError(
      `Column '${column}' has NN/NN/YYYY dates whose day and month cannot be told apart (no field above 12); write them as YYYY-MM-DD or give the order (dayFirst)`,
      [{ path: column, message: 'ambiguous day/month order' }],
    );
  }
  if (order === 'inconsistent') {
    throw new ValidationError(`Column '${column}' mixes DD/MM/YYYY and MM/DD/YYYY dates`, [{ path: column, message: 'inconsistent day/month order' }]);
  }
  return order;
}

/** Instants of a column (each distinct text parsed once); a missing cell is `fill` (undefined at fit time); text that is not a date is an error. */
function readDates(column: string, values: readonly Cell[], slashOrder: SlashOrder | undefined, fill: number | undefined): (number | undefined)[] {
  const cache = new Map<string, number | undefined>();
  return values.map((v, i) => {
    if (isMissing(v)) return fill;
    let t: number | undefined;
    if (typeof v === 'string') {
      if (cache.has(v)) t = cache.get(v);
      else {
        t = parseDateCell(v, slashOrder);
        cache.set(v, t);
      }
    } else t = parseDateCell(v, slashOrder);
    if (t === undefined) {
      throw new ValidationError(`Column '${column}' row ${i}: ${JSON.stringify(v)} is not a date (ISO 8601, YYYY/MM/DD, DD.MM.YYYY, DD/MM/YYYY or MM/DD/YYYY, or epoch milliseconds)`, [
        { path: `${column}[${i}]`, message: 'not a date' },
      ]);
    }
    return t;
  });
}
