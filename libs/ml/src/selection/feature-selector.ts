import { z } from 'zod';
import { type Cell, type Column, type Frame, isMissing, numericValues, validateTarget } from '../preprocessing/frame';
import {
  ColumnTransformer,
  type ColumnTransformerState,
  type Target,
  columnsOption,
  parseOrThrow,
  parseState,
  stateSchema,
} from '../preprocessing/transformer';
import { equalFrequencyBins, mutualInformation, pearsonCorrelation, populationVariance } from './scores';

export type FeatureSelectorOptions = (
  | {
      /** Keep columns whose population variance (ddof 0) is strictly above `threshold` (default 0), like sklearn VarianceThreshold. */
      method: 'variance';
      threshold?: number;
    }
  | {
      /** Keep the k columns with the largest |Pearson r| with y. */
      method: 'correlation';
      k: number;
    }
  | {
      /** Keep the k columns with the largest (histogram-estimated) mutual information with y. */
      method: 'mutual_info';
      k: number;
      task: 'classification' | 'regression';
      /** Equal-frequency bins per feature (and for y in regression); default 10. */
      bins?: number;
    }
) & {
  /** Columns to score; default every column of the frame given to `fit`. */
  columns?: string[];
};

/** Learnt per-column result: the ranking score and whether the column is kept. */
export interface FeatureScore {
  score: number;
  selected: boolean;
}

const k = z.number().int().positive();
const optionsSchema = z.discriminatedUnion('method', [
  z.object({ method: z.literal('variance'), threshold: z.number().nonnegative().optional(), columns: columnsOption }),
  z.object({ method: z.literal('correlation'), k, columns: columnsOption }),
  z.object({
    method: z.literal('mutual_info'),
    k,
    task: z.enum(['classification', 'regression']),
    bins: z.number().int().min(2).optional(),
    columns: columnsOption,
  }),
]) as z.ZodType<FeatureSelectorOptions>;

export type FeatureSelectorState = ColumnTransformerState<'FeatureSelector', FeatureSelectorOptions, FeatureScore>;
const schema = stateSchema('FeatureSelector', optionsSchema, z.object({ score: z.number(), selected: z.boolean() }));

/**
 * Univariate feature selection on numeric columns (numbers or null; anything
 * else is a ValidationError). Scores, all computed on the rows where the
 * feature is present:
 * - `variance`: population variance; an all-missing column scores 0.
 * - `correlation`: |Pearson r| with y; a constant column (or constant y) scores 0.
 * - `mutual_info`: mutual information in nats from the joint histogram of
 *   the binned feature and y — a histogram (plug-in) estimator, not sklearn's
 *   kNN estimator of `mutual_info_classif/regression`, so values differ from
 *   sklearn's. Each feature is cut into `bins` equal-frequency bins (quantile
 *   edges of the training column; one bin per value when it has at most
 *   `bins` distinct values) and missing values form their own bin; y is used
 *   as classes (classification) or binned the same way (regression).
 * Top-k ties are broken by column order; when k exceeds the number of
 * columns every column is kept (as sklearn's SelectKBest does, with a warning).
 * `transform` drops the unselected scored columns and passes every other
 * column through, keeping the input order.
 */
export class FeatureSelector extends ColumnTransformer<'FeatureSelector', FeatureSelectorOptions, FeatureScore> {
  readonly kind = 'FeatureSelector' as const;

  constructor(options: FeatureSelectorOptions) {
    super(parseOrThrow(optionsSchema, options, 'FeatureSelector options'));
  }

  static fromJSON(state: unknown): FeatureSelector {
    const s = parseState('FeatureSelector', schema, state);
    return new FeatureSelector(s.options).restore(s);
  }

  override fit(frame: Frame, y?: Target): this {
    super.fit(frame, y);
    const { columns, params } = this.requireFitted();
    const o = this.options;
    if (o.method === 'variance') {
      for (const c of columns) params[c].selected = params[c].score > (o.threshold ?? 0);
    } else {
      const ranked = columns.map((c, i) => ({ c, i })).sort((a, b) => params[b.c].score - params[a.c].score || a.i - b.i);
      ranked.forEach(({ c }, rank) => (params[c].selected = rank < o.k));
    }
    return this;
  }

  /** The kept columns among the scored ones, in fit order. */
  selected(): string[] {
    const { columns, params } = this.requireFitted();
    return columns.filter((c) => params[c].selected);
  }

  /** The score of every scored column (variance, |r| or mutual information in nats). */
  scores(): Record<string, number> {
    const { columns, params } = this.requireFitted();
    return Object.fromEntries(columns.map((c) => [c, params[c].score]));
  }

  /** y validated (correlation) or coded as classes / bins (mutual_info); unused by variance. */
  protected override prepareTarget(y: Target | undefined, n: number): number[] | undefined {
    const o = this.options;
    if (o.method === 'variance') return undefined;
    const target = validateTarget(y, n, this.kind);
    if (o.method === 'correlation') return target;
    return o.task === 'regression' ? equalFrequencyBins(target, o.bins ?? 10) : target;
  }

  protected fitColumn(column: string, values: readonly Cell[], y: number[] | undefined): FeatureScore {
    const present = numericValues(column, values);
    const o = this.options;
    if (o.method === 'variance') return { score: populationVariance(present), selected: false };
    const target = y!;
    if (o.method === 'correlation') {
      const ys = target.filter((_, i) => !isMissing(values[i]));
      return { score: Math.abs(pearsonCorrelation(present, ys)), selected: false };
    }
    const codes = equalFrequencyBins(
      values.map((v) => (isMissing(v) ? null : (v as number))),
      o.bins ?? 10,
    );
    return { score: mutualInformation(codes, target), selected: false };
  }

  protected transformColumn(column: string, values: readonly Cell[], p: FeatureScore): Record<string, Cell[]> {
    return p.selected ? { [column]: values.slice() } : {};
  }

  /** Typed columns pass through as they are (typed columns are never written in place by their owner's readers). */
  protected override transformValues(column: string, values: Column, p: FeatureScore, inPlace = false): Record<string, Column> {
    if (Array.isArray(values)) return super.transformValues(column, values, p, inPlace);
    return p.selected ? { [column]: values } : {};
  }
}
