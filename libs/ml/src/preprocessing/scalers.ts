import { ValidationError } from '@mlp/contracts';
import { z } from 'zod';
import { type Cell, type Column, type NumericColumn, finiteValues, isMissing, isNumericColumn, mean, populationStd, quantile, requireNonEmpty, sortedNumbers } from './frame';
import { ColumnTransformer, type ColumnOptions, type ColumnTransformerState, columnsOption, parseOrThrow, parseState, stateSchema } from './transformer';

/** Learnt affine map per column: `(x − center) / scale`. */
export interface AffineParams {
  center: number;
  scale: number;
}
export type ScalerKind = 'StandardScaler' | 'MinMaxScaler' | 'RobustScaler';
export type ScalerState<K extends ScalerKind> = ColumnTransformerState<K, ColumnOptions, AffineParams>;

const optionsSchema = z.object({ columns: columnsOption });
const paramsSchema = z.object({ center: z.number(), scale: z.number().refine((s) => s !== 0, 'scale must be non-zero') });

/** Applies a fitted numeric map; missing values stay null, non-numbers are rejected. */
/** @internal */
export function mapNumeric(column: string, values: readonly Cell[], f: (x: number) => number): Cell[] {
  return values.map((v, i) => {
    if (isMissing(v)) return null;
    if (typeof v !== 'number' || !Number.isFinite(v)) {
      throw new ValidationError(`Column '${column}' must be numeric; row ${i} is ${JSON.stringify(v)}`, [
        { path: `${column}[${i}]`, message: 'expected a finite number or null' },
      ]);
    }
    return f(v);
  });
}

/** @internal A fitted numeric map over a typed column, into a new column of the same type; missing (NaN) stays NaN. */
export function mapTyped(values: NumericColumn, f: (x: number) => number, inPlace = false): NumericColumn {
  const out = inPlace ? values : values instanceof Float32Array ? new Float32Array(values.length) : new Float64Array(values.length);
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    out[i] = Number.isFinite(v) ? f(v) : Number.NaN;
  }
  return out;
}

abstract class AffineScaler<K extends ScalerKind> extends ColumnTransformer<K, ColumnOptions, AffineParams> {
  constructor(options: ColumnOptions = {}) {
    super(parseOrThrow(optionsSchema, options, 'scaler options'));
  }

  /** The learnt `{center, scale}` of each column. */
  params(): Record<string, AffineParams> {
    return { ...this.requireFitted().params };
  }

  protected override fitValues(column: string, values: Column): AffineParams {
    const xs = finiteValues(column, values);
    requireNonEmpty(column, xs, 'fit a scaler on');
    return this.affine(xs);
  }

  protected fitColumn(column: string, values: readonly Cell[]): AffineParams {
    return this.fitValues(column, values as Cell[]);
  }

  protected override transformValues(column: string, values: Column, p: AffineParams, inPlace = false): Record<string, Column> {
    if (isNumericColumn(values)) return { [column]: mapTyped(values, (x) => (x - p.center) / p.scale, inPlace) };
    return super.transformValues(column, values, p);
  }

  protected transformColumn(column: string, values: readonly Cell[], p: AffineParams): Record<string, Cell[]> {
    return { [column]: mapNumeric(column, values, (x) => (x - p.center) / p.scale) };
  }

  protected abstract affine(xs: ArrayLike<number>): AffineParams;
}

/** `(x − mean) / std` with the population std (ddof 0, as sklearn); std 0 → scale 1. */
export class StandardScaler extends AffineScaler<'StandardScaler'> {
  readonly kind = 'StandardScaler' as const;
  private static readonly schema = stateSchema('StandardScaler', optionsSchema, paramsSchema);
  static fromJSON(state: unknown): StandardScaler {
    const s = parseState('StandardScaler', StandardScaler.schema, state);
    return new StandardScaler(s.options).restore(s);
  }
  protected affine(xs: ArrayLike<number>): AffineParams {
    const m = mean(xs);
    const sd = populationStd(xs, m);
    return { center: m, scale: sd === 0 ? 1 : sd };
  }
}

/** `(x − min) / (max − min)` into [0, 1]; a constant column maps to 0. */
export class MinMaxScaler extends AffineScaler<'MinMaxScaler'> {
  readonly kind = 'MinMaxScaler' as const;
  private static readonly schema = stateSchema('MinMaxScaler', optionsSchema, paramsSchema);
  static fromJSON(state: unknown): MinMaxScaler {
    const s = parseState('MinMaxScaler', MinMaxScaler.schema, state);
    return new MinMaxScaler(s.options).restore(s);
  }
  protected affine(xs: ArrayLike<number>): AffineParams {
    let lo = Infinity;
    let hi = -Infinity;
    for (let i = 0; i < xs.length; i++) {
      if (xs[i] < lo) lo = xs[i];
      if (xs[i] > hi) hi = xs[i];
    }
    return { center: lo, scale: hi === lo ? 1 : hi - lo };
  }
}

/** `(x − median) / IQR`, quantiles interpolated linearly like numpy's default; IQR 0 → scale 1. */
export class RobustScaler extends AffineScaler<'RobustScaler'> {
  readonly kind = 'RobustScaler' as const;
  private static readonly schema = stateSchema('RobustScaler', optionsSchema, paramsSchema);
  static fromJSON(state: unknown): RobustScaler {
    const s = parseState('RobustScaler', RobustScaler.schema, state);
    return new RobustScaler(s.options).restore(s);
  }
  protected affine(xs: ArrayLike<number>): AffineParams {
    const s = sortedNumbers(xs);
    const iqr = quantile(s, 0.75) - quantile(s, 0.25);
    return { center: quantile(s, 0.5), scale: iqr === 0 ? 1 : iqr };
  }
}
