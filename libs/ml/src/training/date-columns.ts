import { ValidationError } from '@mlp/contracts';
import { DateParts, datePartColumn } from '../preprocessing/date-parts';
import { type DatePartName, type SlashOrder, datePartNames, parseDateCell, slashOrderOf } from '../preprocessing/dates';
import { type Cell, isMissing } from '../preprocessing/frame';
import type { TrainingSpec } from './training-spec';

/** A feature column that is taken apart into date parts, and by which step. */
export interface DateColumn {
  column: string;
  /** The `dateparts` step (index in `spec.preprocessing`) that takes it apart, or `auto` (the automatic expansion). */
  step: number | 'auto';
  /** Day/month order of its `NN/NN/YYYY` text, read from the values' format (not from labels) over all labelled rows. */
  slashOrder?: SlashOrder;
  /** The parts over all labelled rows; each fit keeps what its own training rows give (for `auto`: the parts that vary there). */
  parts: DatePartName[];
}

/** Any column form a frame may hold: plain cells, numbers (epoch ms), or codes into a dictionary. */
export type AnyColumn = readonly Cell[] | ArrayLike<number> | { readonly kind: 'codes'; readonly codes: ArrayLike<number>; readonly dictionary: readonly Cell[] };

/** The distinct non-missing values of a column (a dictionary is used as it is), and whether any value is present. */
function distinctValues(values: AnyColumn): Cell[] {
  if ('kind' in values && values.kind === 'codes') {
    const used = new Set<number>();
    for (let i = 0; i < values.codes.length; i++) if (values.codes[i] >= 0) used.add(values.codes[i]);
    return [...used].map((code) => values.dictionary[code]);
  }
  const seen = new Set<Cell>();
  const list = values as ArrayLike<Cell>;
  for (let i = 0; i < list.length; i++) if (!isMissing(list[i])) seen.add(list[i]);
  return [...seen];
}

function cellsOf(values: AnyColumn): Cell[] {
  if ('kind' in values && values.kind === 'codes') return Array.from(values.codes, (code) => (code < 0 ? null : values.dictionary[code]));
  return Array.from(values as ArrayLike<Cell>, (v) => (isMissing(v) ? null : v));
}

/** How a column of text is read as dates: every distinct value parses (with the column's slash order); undefined when it is not a date column. */
export function textDateFormat(values: AnyColumn): { slashOrder?: SlashOrder } | undefined {
  const distinct = distinctValues(values);
  if (distinct.length === 0 || distinct.some((v) => typeof v !== 'string')) return undefined;
  // Cheap rejection first: most text columns fail on their first values.
  for (const v of distinct.slice(0, 8)) if (parseDateCell(v, 'dmy') === undefined && parseDateCell(v, 'mdy') === undefined) return undefined;
  const order = slashOrderOf(distinct);
  if (order === 'ambiguous' || order === 'inconsistent') return undefined;
  const slashOrder = order === 'none' ? undefined : order;
  return distinct.every((v) => parseDateCell(v, slashOrder) !== undefined) ? (slashOrder ? { slashOrder } : {}) : undefined;
}

/**
 * Reads a column the data rules treat as dates: a `datetime` column (epoch
 * ms), a text column whose every value is a date, or any column a
 * `dateparts` step names. Returns its DateColumn, or a reason to drop it
 * (every value missing, a constant date). A column a step names that does
 * not hold dates is an error naming that step.
 */
export function readDateColumn(
  column: string,
  values: AnyColumn,
  step: number | 'auto',
  spec: Pick<TrainingSpec, 'preprocessing'>,
): { date: DateColumn } | { dropReason: string } {
  const stepSpec = typeof step === 'number' ? spec.preprocessing[step] : undefined;
  const explicit = stepSpec && 'dateparts' in stepSpec ? stepSpec : undefined;
  const path = explicit ? `preprocessing[${step}]` : 'data';
  const distinct = distinctValues(values);
  if (distinct.length === 0) return { dropReason: 'every value is missing' };
  let slashOrder: SlashOrder | undefined;
  if (explicit?.dayFirst !== undefined) slashOrder = explicit.dayFirst ? 'dmy' : 'mdy';
  else {
    const order = slashOrderOf(distinct);
    if (order === 'ambiguous' || order === 'inconsistent') {
      throw new ValidationError(
        `column '${column}' has NN/NN/YYYY dates whose day and month ${order === 'ambiguous' ? 'cannot be told apart (no field above 12)' : 'come in both orders'}; write them as YYYY-MM-DD, or name the column in a dateparts step with dayFirst`,
        [{ path, message: `ambiguous dates in '${column}'` }],
      );
    }
    if (order !== 'none') slashOrder = order;
  }
  const bad = distinct.find((v) => parseDateCell(v, slashOrder) === undefined);
  if (bad !== undefined) {
    throw new ValidationError(`column '${column}' is named in a dateparts step, but ${JSON.stringify(bad)} is not a date`, [{ path, message: `'${column}' holds values that are not dates` }]);
  }
  const requested = explicit ? explicit.dateparts : 'auto';
  const parts =
    requested === 'auto'
      ? new DateParts({ parts: 'auto', ...(slashOrder ? { slashOrder: { [column]: slashOrder } } : {}) }).fit({ [column]: cellsOf(values) }).partsByColumn()[column]
      : datePartNames.filter((p) => requested.includes(p));
  if (parts.length === 0) return { dropReason: 'constant column' };
  return { date: { column, step, parts, ...(slashOrder ? { slashOrder } : {}) } };
}

/** The record line of a date column: what it was taken apart into, and which parts are constant over the labelled rows. */
export function describeDateColumn(date: DateColumn): string {
  const outputs = date.parts.map((p) => datePartColumn(date.column, p)).join(', ');
  const by = date.step === 'auto' ? 'date column taken apart automatically' : `date column taken apart by preprocessing[${date.step}]`;
  const constant = date.step === 'auto' ? datePartNames.filter((p) => !date.parts.includes(p)) : [];
  return `column '${date.column}': ${by} into ${outputs}${constant.length ? ` (constant over the labelled rows, left out: ${constant.join(', ')})` : ''}`;
}
