import { ValidationError } from '@mlp/contracts';
import { z } from 'zod';
import { type Cell, type Column, type Frame, requireColumn, rowCount, toCells } from './frame';

/** Target values: numbers (regression) or 0/1 / booleans (binary). */
export type Target = readonly (number | boolean)[];

/** Every saved state is plain JSON tagged with its `kind` and a format `version`. */
export interface TransformerState {
  kind: string;
  version: number;
}

/** The contract shared by every preprocessing step and by {@link Pipeline}. */
export interface Transformer {
  readonly kind: string;
  readonly isFitted: boolean;
  fit(frame: Frame, y?: Target): this;
  transform(frame: Frame): Frame;
  toJSON(): TransformerState;
}

/** Saved state of a per-column transformer. */
export interface ColumnTransformerState<K extends string, O, P> extends TransformerState {
  kind: K;
  version: 1;
  options: O;
  columns: string[];
  params: Record<string, P>;
}

export interface ColumnOptions {
  /** Columns to fit; default every column of the frame given to `fit`. */
  columns?: string[];
}

export const columnsOption = z.array(z.string()).optional();

export function issuesOf(error: z.ZodError): { path: string; message: string }[] {
  return error.issues.map((i) => ({ path: i.path.map(String).join('.'), message: i.message }));
}

export function parseOrThrow<T>(schema: z.ZodType<T>, input: unknown, what: string): T {
  const r = schema.safeParse(input);
  if (!r.success) throw new ValidationError(`Invalid ${what}`, issuesOf(r.error));
  return r.data;
}

export function stateSchema<K extends string, O, P>(kind: K, options: z.ZodType<O>, params: z.ZodType<P>) {
  return z.object({
    kind: z.literal(kind),
    version: z.literal(1),
    options,
    columns: z.array(z.string()),
    params: z.record(z.string(), params),
  }) as unknown as z.ZodType<ColumnTransformerState<K, O, P>>;
}

/** Parses a saved state, with a clear message when the kind is wrong. */
export function parseState<K extends string, O, P>(
  kind: K,
  schema: z.ZodType<ColumnTransformerState<K, O, P>>,
  state: unknown,
): ColumnTransformerState<K, O, P> {
  const got = (state as { kind?: unknown } | null)?.kind;
  if (got !== kind) {
    throw new ValidationError(`Expected a ${kind} state, got kind ${JSON.stringify(got)}`, [
      { path: 'kind', message: `expected '${kind}'` },
    ]);
  }
  const parsed = parseOrThrow(schema, state, `${kind} state`);
  for (const c of parsed.columns) {
    if (!Object.prototype.hasOwnProperty.call(parsed.params, c)) {
      throw new ValidationError(`Invalid ${kind} state: no params for column '${c}'`, [{ path: `params.${c}`, message: 'missing' }]);
    }
  }
  return parsed;
}

/**
 * Base of the per-column transformers: learns one parameter record per
 * column; `transform` replaces each fitted column by its output column(s)
 * in place and passes every other column through unchanged.
 */
export abstract class ColumnTransformer<K extends string, O extends ColumnOptions, P> implements Transformer {
  abstract readonly kind: K;
  protected fitted: { columns: string[]; params: Record<string, P> } | null = null;

  protected constructor(readonly options: O) {}

  get isFitted(): boolean {
    return this.fitted !== null;
  }

  /** The columns learnt at fit time. */
  get columns(): string[] {
    return [...this.requireFitted().columns];
  }

  fit(frame: Frame, y?: Target): this {
    const n = rowCount(frame);
    const columns = this.options.columns ?? Object.keys(frame);
    const target = this.prepareTarget(y, n);
    const params: Record<string, P> = {};
    for (const c of columns) params[c] = this.fitValues(c, requireColumn(frame, c), target);
    this.fitted = { columns: [...columns], params };
    return this;
  }

  transform(frame: Frame): Frame {
    const { columns, params } = this.requireFitted();
    rowCount(frame);
    for (const c of columns) requireColumn(frame, c);
    const out: Frame = {};
    const put = (name: string, values: Column) => {
      if (Object.prototype.hasOwnProperty.call(out, name)) {
        throw new ValidationError(`${this.kind}: output column '${name}' collides with another column`, [
          { path: name, message: 'duplicate output column' },
        ]);
      }
      out[name] = values;
    };
    for (const [name, values] of Object.entries(frame)) {
      if (Object.prototype.hasOwnProperty.call(params, name)) {
        for (const [o, v] of Object.entries(this.transformValues(name, values, params[name]))) put(o, v);
      } else {
        // Typed columns are never written in place, so they pass through without a copy.
        put(name, Array.isArray(values) ? values.slice() : values);
      }
    }
    return out;
  }

  fitTransform(frame: Frame, y?: Target): Frame {
    return this.fit(frame, y).transform(frame);
  }

  toJSON(): ColumnTransformerState<K, O, P> {
    const { columns, params } = this.requireFitted();
    return JSON.parse(JSON.stringify({ kind: this.kind, version: 1, options: this.options, columns, params }));
  }

  protected restore(state: ColumnTransformerState<K, O, P>): this {
    this.fitted = { columns: [...state.columns], params: state.params };
    return this;
  }

  protected requireFitted(): { columns: string[]; params: Record<string, P> } {
    if (!this.fitted) {
      throw new ValidationError(`${this.kind} is not fitted: call fit() before transform() or toJSON()`, [
        { path: '', message: 'not fitted' },
      ]);
    }
    return this.fitted;
  }

  /** Hook for supervised transformers; unsupervised ones ignore y. */
  protected prepareTarget(_y: Target | undefined, _n: number): number[] | undefined {
    return undefined;
  }

  /**
   * Fits one column of any form. The default hands {@link fitColumn} plain
   * cells; transformers with a typed fast path (numeric arrays, coded
   * categories) override this and {@link transformValues}.
   */
  protected fitValues(column: string, values: Column, y: number[] | undefined): P {
    return this.fitColumn(column, Array.isArray(values) ? values : toCells(values), y);
  }

  /**
   * Transforms one column of any form; the default goes through plain cells
   * (see {@link fitValues}). With `inPlace` the caller owns `values` (a typed
   * scratch column) and a one-to-one numeric map may write its result into it.
   */
  // eslint-disable-next-line @typescript-eslint/no-unused-vars
  protected transformValues(column: string, values: Column, params: P, inPlace = false): Record<string, Column> {
    return this.transformColumn(column, Array.isArray(values) ? values : toCells(values), params);
  }

  /**
   * The output columns of one input column, or undefined when this step does
   * not transform it: what a pipeline streams column by column. `inPlace`:
   * see {@link transformValues}.
   */
  transformOne(column: string, values: Column, inPlace = false): Record<string, Column> | undefined {
    const { params } = this.requireFitted();
    return Object.prototype.hasOwnProperty.call(params, column) ? this.transformValues(column, values, params[column], inPlace) : undefined;
  }

  /** Whether this (fitted) step transforms `column`. */
  transforms(column: string): boolean {
    return Object.prototype.hasOwnProperty.call(this.requireFitted().params, column);
  }

  protected abstract fitColumn(column: string, values: readonly Cell[], y: number[] | undefined): P;
  protected abstract transformColumn(column: string, values: readonly Cell[], params: P): Record<string, Cell[]>;
}
