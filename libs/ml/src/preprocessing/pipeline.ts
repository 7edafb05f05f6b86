import { ValidationError } from '@mlp/contracts';
import { z } from 'zod';
import { FeatureSelector } from '../selection/feature-selector';
import { DateParts } from './date-parts';
import { OneHotEncoder, OrdinalEncoder, TargetEncoder } from './encoders';
import { type Frame, isMissing, pick, requireColumn, rowCount } from './frame';
import { IqrClipper, ZScoreClipper } from './outliers';
import { MinMaxScaler, RobustScaler, StandardScaler } from './scalers';
import { SimpleImputer } from './simple-imputer';
import { type Target, type Transformer, type TransformerState, parseOrThrow } from './transformer';

/** Which columns a step applies to, resolved at fit time from the frame entering that step. */
export type ColumnSelector = 'numeric' | 'categorical' | string[];

export interface PipelineStep {
  name: string;
  columns: ColumnSelector;
  transformer: Transformer;
}

export interface PipelineState extends TransformerState {
  kind: 'Pipeline';
  version: 1;
  steps: { name: string; selector: ColumnSelector; columns: string[]; transformer: TransformerState }[];
  featureNames: string[];
}

/** Loaders of every saved transformer kind. */
export const transformerLoaders: Readonly<Record<string, (state: unknown) => Transformer>> = {
  SimpleImputer: SimpleImputer.fromJSON,
  StandardScaler: StandardScaler.fromJSON,
  MinMaxScaler: MinMaxScaler.fromJSON,
  RobustScaler: RobustScaler.fromJSON,
  OneHotEncoder: OneHotEncoder.fromJSON,
  OrdinalEncoder: OrdinalEncoder.fromJSON,
  TargetEncoder: TargetEncoder.fromJSON,
  IqrClipper: IqrClipper.fromJSON,
  ZScoreClipper: ZScoreClipper.fromJSON,
  FeatureSelector: FeatureSelector.fromJSON,
  DateParts: DateParts.fromJSON,
  Pipeline: (s) => Pipeline.fromJSON(s),
};

/** Restores any saved transformer by its `kind`; an unknown kind lists the known ones. */
export function loadTransformer(state: unknown): Transformer {
  const kind = (state as { kind?: unknown } | null)?.kind;
  const load = typeof kind === 'string' && Object.prototype.hasOwnProperty.call(transformerLoaders, kind) ? transformerLoaders[kind] : undefined;
  if (!load) {
    const known = Object.keys(transformerLoaders).join(', ');
    throw new ValidationError(`Unknown transformer kind ${JSON.stringify(kind)}; known kinds: ${known}`, [
      { path: 'kind', message: `expected one of ${known}` },
    ]);
  }
  return load(state);
}

/** numbers → numeric; any string or boolean → categorical; an all-missing column counts as numeric. */
export function columnType(values: Frame[string]): 'numeric' | 'categorical' {
  return values.some((v) => !isMissing(v) && typeof v !== 'number') ? 'categorical' : 'numeric';
}

export function resolveColumns(selector: ColumnSelector, frame: Frame): string[] {
  if (Array.isArray(selector)) {
    for (const c of selector) requireColumn(frame, c);
    return [...selector];
  }
  return Object.keys(frame).filter((c) => columnType(frame[c]) === selector);
}

const selectorSchema = z.union([z.enum(['numeric', 'categorical']), z.array(z.string())]);
const pipelineSchema = z.object({
  kind: z.literal('Pipeline'),
  version: z.literal(1),
  steps: z.array(
    z.object({
      name: z.string(),
      selector: selectorSchema,
      columns: z.array(z.string()),
      transformer: z.looseObject({ kind: z.string(), version: z.number() }),
    }),
  ),
  featureNames: z.array(z.string()),
});

/**
 * Named steps fitted one after another on the training frame (each step sees
 * the output of the previous ones). `transform` applies every step and
 * returns exactly {@link featureNames}, in order.
 */
export class Pipeline implements Transformer {
  readonly kind = 'Pipeline' as const;
  private readonly steps: PipelineStep[];
  private fitted: { columns: string[][]; featureNames: string[] } | null = null;

  constructor(steps: PipelineStep[]) {
    const seen = new Set<string>();
    steps.forEach((s, i) => {
      if (seen.has(s.name)) throw new ValidationError(`Duplicate pipeline step name '${s.name}'`, [{ path: `steps[${i}].name`, message: 'duplicate' }]);
      seen.add(s.name);
      parseOrThrow(selectorSchema, s.columns, `columns of step '${s.name}'`);
    });
    this.steps = [...steps];
  }

  get isFitted(): boolean {
    return this.fitted !== null;
  }

  step(name: string): Transformer {
    const s = this.steps.find((x) => x.name === name);
    if (!s) throw new ValidationError(`No pipeline step '${name}'`, [{ path: 'name', message: 'unknown step' }]);
    return s.transformer;
  }

  fit(frame: Frame, y?: Target): this {
    rowCount(frame);
    let current = frame;
    const columns: string[][] = [];
    for (const s of this.steps) {
      const cols = resolveColumns(s.columns, current);
      s.transformer.fit(pick(current, cols), cols.length || !y ? y : []); // no columns: an empty frame has 0 rows
      current = s.transformer.transform(current);
      columns.push(cols);
    }
    this.fitted = { columns, featureNames: Object.keys(current) };
    return this;
  }

  /**
   * Fits like {@link fit} and returns the transformed training frame, where
   * each step that supports cross-fitting (the target encoder) encodes every
   * training row from the other folds only, so no row sees its own label.
   */
  fitTransformOutOfFold(frame: Frame, y: Target, folds: number[][]): Frame {
    rowCount(frame);
    let current = frame;
    const columns: string[][] = [];
    for (const s of this.steps) {
      const cols = resolveColumns(s.columns, current);
      const t = s.transformer as Transformer & { fitTransformOutOfFold?: (f: Frame, y: Target, folds: number[][]) => Frame };
      if (t.fitTransformOutOfFold && cols.length > 0) {
        const encoded = t.fitTransformOutOfFold(pick(current, cols), y, folds);
        current = { ...current, ...encoded };
      } else {
        t.fit(pick(current, cols), cols.length ? y : []);
        current = t.transform(current);
      }
      columns.push(cols);
    }
    this.fitted = { columns, featureNames: Object.keys(current) };
    return pick(current, this.fitted.featureNames);
  }

  transform(frame: Frame): Frame {
    const { featureNames } = this.requireFitted();
    let current = frame;
    for (const s of this.steps) current = s.transformer.transform(current);
    return pick(current, featureNames);
  }

  fitTransform(frame: Frame, y?: Target): Frame {
    return this.fit(frame, y).transform(frame);
  }

  /** Output column names, in order, as learnt at fit time. */
  featureNames(): string[] {
    return [...this.requireFitted().featureNames];
  }

  toJSON(): PipelineState {
    const { columns, featureNames } = this.requireFitted();
    return {
      kind: 'Pipeline',
      version: 1,
      steps: this.steps.map((s, i) => ({
        name: s.name,
        selector: Array.isArray(s.columns) ? [...s.columns] : s.columns,
        columns: [...columns[i]],
        transformer: s.transformer.toJSON(),
      })),
      featureNames: [...featureNames],
    };
  }

  static fromJSON(state: unknown): Pipeline {
    const s = parseOrThrow(pipelineSchema, state, 'Pipeline state');
    const p = new Pipeline(s.steps.map((x) => ({ name: x.name, columns: x.selector, transformer: loadTransformer(x.transformer) })));
    p.fitted = { columns: s.steps.map((x) => [...x.columns]), featureNames: [...s.featureNames] };
    return p;
  }

  private requireFitted(): { columns: string[][]; featureNames: string[] } {
    if (!this.fitted) {
      throw new ValidationError('Pipeline is not fitted: call fit() before transform(), featureNames() or toJSON()', [
        { path: '', message: 'not fitted' },
      ]);
    }
    return this.fitted;
  }
}
