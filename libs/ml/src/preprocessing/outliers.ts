import { z } from 'zod';
import { type Cell, type Column, finiteValues, isNumericColumn, mean, populationStd, quantile, requireNonEmpty, sortedNumbers } from './frame';
import { mapNumeric, mapTyped } from './scalers';
import { ColumnTransformer, type ColumnTransformerState, columnsOption, parseOrThrow, parseState, stateSchema } from './transformer';

/** Learnt clipping bounds of one column. */
export interface ClipBounds {
  lower: number;
  upper: number;
}

const boundsSchema = z.object({ lower: z.number(), upper: z.number() });

abstract class Clipper<K extends string, O extends { columns?: string[] }> extends ColumnTransformer<K, O, ClipBounds> {
  /** The learnt bounds of each column. */
  bounds(): Record<string, ClipBounds> {
    return { ...this.requireFitted().params };
  }

  protected override fitValues(column: string, values: Column): ClipBounds {
    const xs = finiteValues(column, values);
    requireNonEmpty(column, xs, 'fit clipping bounds on');
    return this.boundsOf(xs);
  }

  protected fitColumn(column: string, values: readonly Cell[]): ClipBounds {
    return this.fitValues(column, values as Cell[]);
  }

  protected override transformValues(column: string, values: Column, b: ClipBounds, inPlace = false): Record<string, Column> {
    if (isNumericColumn(values)) return { [column]: mapTyped(values, (x) => Math.min(b.upper, Math.max(b.lower, x)), inPlace) };
    return super.transformValues(column, values, b);
  }

  protected transformColumn(column: string, values: readonly Cell[], b: ClipBounds): Record<string, Cell[]> {
    return { [column]: mapNumeric(column, values, (x) => Math.min(b.upper, Math.max(b.lower, x))) };
  }

  protected abstract boundsOf(xs: ArrayLike<number>): ClipBounds;
}

export interface IqrClipperOptions {
  /** Whisker length in IQRs; default 1.5. */
  factor?: number;
  columns?: string[];
}
const iqrOptions = z.object({ factor: z.number().nonnegative().optional(), columns: columnsOption });
export type IqrClipperState = ColumnTransformerState<'IqrClipper', IqrClipperOptions, ClipBounds>;
const iqrSchema = stateSchema('IqrClipper', iqrOptions, boundsSchema);

/** Clips to [Q1 − f·IQR, Q3 + f·IQR] (numpy-linear quantiles); missing values stay null. */
export class IqrClipper extends Clipper<'IqrClipper', IqrClipperOptions> {
  readonly kind = 'IqrClipper' as const;
  constructor(options: IqrClipperOptions = {}) {
    super(parseOrThrow(iqrOptions, options, 'IqrClipper options'));
  }
  static fromJSON(state: unknown): IqrClipper {
    const s = parseState('IqrClipper', iqrSchema, state);
    return new IqrClipper(s.options).restore(s);
  }
  protected boundsOf(xs: ArrayLike<number>): ClipBounds {
    const f = this.options.factor ?? 1.5;
    const s = sortedNumbers(xs);
    const q1 = quantile(s, 0.25);
    const q3 = quantile(s, 0.75);
    return { lower: q1 - f * (q3 - q1), upper: q3 + f * (q3 - q1) };
  }
}

export interface ZScoreClipperOptions {
  /** Bound in population standard deviations; default 3. */
  threshold?: number;
  columns?: string[];
}
const zOptions = z.object({ threshold: z.number().nonnegative().optional(), columns: columnsOption });
export type ZScoreClipperState = ColumnTransformerState<'ZScoreClipper', ZScoreClipperOptions, ClipBounds>;
const zSchema = stateSchema('ZScoreClipper', zOptions, boundsSchema);

/** Clips to mean ± t·std (population std); missing values stay null. */
export class ZScoreClipper extends Clipper<'ZScoreClipper', ZScoreClipperOptions> {
  readonly kind = 'ZScoreClipper' as const;
  constructor(options: ZScoreClipperOptions = {}) {
    super(parseOrThrow(zOptions, options, 'ZScoreClipper options'));
  }
  static fromJSON(state: unknown): ZScoreClipper {
    const s = parseState('ZScoreClipper', zSchema, state);
    return new ZScoreClipper(s.options).restore(s);
  }
  protected boundsOf(xs: ArrayLike<number>): ClipBounds {
    const t = this.options.threshold ?? 3;
    const m = mean(xs);
    const sd = populationStd(xs, m);
    return { lower: m - t * sd, upper: m + t * sd };
  }
}
