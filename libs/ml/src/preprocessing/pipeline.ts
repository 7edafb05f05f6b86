import { ValidationError } from '@mlp/contracts';
import { z } from 'zod';
import { FeatureSelector } from '../selection/feature-selector';
import { DateParts } from './date-parts';
import { OneHotEncoder, OrdinalEncoder, TargetEncoder } from './encoders';
import { type Column, type Frame, cellAt, isCodedColumn, isMissing, isNumericColumn, pick, requireColumn, rowCount, takeColumn } from './frame';
import { IqrClipper, ZScoreClipper } from './outliers';
import { MinMaxScaler, RobustScaler, StandardScaler } from './scalers';
import { SimpleImputer } from './simple-imputer';
import { ColumnTransformer, type Target, type Transformer, type TransformerState, parseOrThrow } from './transformer';

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

/** numbers → numeric; any string or boolean → categorical; an all-missing column counts as numeric. Typed columns: numbers are numeric, codes categorical. */
export function columnType(values: Column): 'numeric' | 'categorical' {
  if (isNumericColumn(values)) return 'numeric';
  if (isCodedColumn(values)) return 'categorical';
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
    this.steps.forEach((s, i) => {
      const cols = resolveColumns(s.columns, current);
      s.transformer.fit(pick(current, cols), cols.length || !y ? y : []); // no columns: an empty frame has 0 rows
      // The last step's output feeds no fit: only its column names are needed, so transform no rows.
      current = s.transformer.transform(i === this.steps.length - 1 ? noRows(current) : current);
      columns.push(cols);
    });
    this.fitted = { columns, featureNames: Object.keys(current) };
    return this;
  }

  /** True when some step encodes training rows out of fold (see {@link fitTransformOutOfFold}); otherwise `fit` then `transform` gives the same rows. */
  hasOutOfFoldStep(): boolean {
    return this.steps.some((s) => 'fitTransformOutOfFold' in s.transformer || (s.transformer instanceof Pipeline && s.transformer.hasOutOfFoldStep()));
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

  /**
   * {@link transform} straight into the model's input: a row-major n×d
   * Float32Array in {@link featureNames} order, of the given `rows` (default
   * all). Per-column steps run one input column at a time, so only the
   * matrix and a column or two are alive at once, never a transformed copy
   * of the frame. A missing or non-numeric output is an error naming the feature.
   */
  transformToMatrix(frame: Frame, rows?: readonly number[], rowLabels?: readonly number[]): { x: Float32Array; n: number; d: number } {
    const { featureNames } = this.requireFitted();
    const nFrame = rowCount(frame);
    const n = rows ? rows.length : nFrame;
    const d = featureNames.length;
    const x = new Float32Array(n * d);
    const position = new Map(featureNames.map((c, j) => [c, j]));
    const written = new Set<string>();
    const write = (name: string, values: Column) => {
      const j = position.get(name);
      if (j === undefined) return;
      writeMatrixColumn(x, n, d, j, name, values, rows, rowLabels);
      written.add(name);
    };
    const streamable = this.steps.every((s) => s.transformer instanceof ColumnTransformer && s.transformer.transform === ColumnTransformer.prototype.transform);
    if (!streamable) {
      const out = this.transform(frame);
      for (const c of featureNames) write(c, out[c]);
    } else {
      // Each step's columns are raw columns or outputs of an earlier step (DateParts → `d_year`, then a scaler on it):
      // follow the names through the steps on empty columns, so only a raw column that is truly absent is an error.
      let names = Object.keys(frame);
      for (const s of this.steps) {
        const t = s.transformer as ColumnTransformer<string, object, unknown>;
        const present = new Set(names);
        for (const c of t.columns) if (!present.has(c)) requireColumn(frame, c);
        names = names.flatMap((c) => Object.keys(t.transformOne(c, []) ?? { [c]: [] }));
      }
      // One scratch column per numeric type: a numeric column is copied into it once and every
      // one-to-one numeric step then works in place, so no column-sized garbage is left per feature.
      const steps = this.steps.map((s) => s.transformer as ColumnTransformer<string, object, unknown>);
      const scratch: { f32?: Float32Array; f64?: Float64Array } = {};
      for (const [name, values] of Object.entries(frame)) {
        let owned: Column | undefined;
        let start: Column = values;
        if (isNumericColumn(values) && steps.some((t) => t.transforms(name))) {
          const buffer = values instanceof Float32Array ? (scratch.f32 ??= new Float32Array(nFrame)) : (scratch.f64 ??= new Float64Array(nFrame));
          buffer.set(values);
          owned = start = buffer;
        }
        let outputs: [string, Column][] = [[name, start]];
        for (const t of steps) {
          outputs = outputs.flatMap(([c, v]) => {
            const o = t.transformOne(c, v, v === owned);
            return o === undefined ? [[c, v] as [string, Column]] : Object.entries(o);
          });
        }
        for (const [c, v] of outputs) write(c, v);
      }
    }
    const absent = featureNames.filter((c) => !written.has(c));
    if (absent.length) {
      throw new ValidationError(`the pipeline did not produce feature(s) ${absent.join(', ')}`, absent.map((c) => ({ path: c, message: 'column is missing' })));
    }
    return { x, n, d };
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

/** The frame's columns with no rows (same forms), for learning output names without transforming data. */
function noRows(frame: Frame): Frame {
  const out: Frame = {};
  for (const [c, values] of Object.entries(frame)) out[c] = takeColumn(values, []);
  return out;
}

/** @internal Column j of a row-major matrix from a transformed column: finite numbers (booleans as 0/1) only. */
export function writeMatrixColumn(x: Float32Array, n: number, d: number, j: number, name: string, values: Column, rows?: readonly number[], rowLabels?: readonly number[]): void {
  const fail = (row: number, v: unknown) => {
    const i = rowLabels?.[row] ?? row;
    const missing = isMissing(v as null);
    return new ValidationError(
      `feature '${name}' is ${missing ? 'missing' : `non-numeric (${JSON.stringify(v)})`} at row ${i} after preprocessing; add an impute or encode step for it`,
      [{ path: 'preprocessing', message: `column '${name}' needs ${missing ? 'an impute' : 'an encode'} step` }],
    );
  };
  if (isNumericColumn(values)) {
    for (let i = 0; i < n; i++) {
      const v = values[rows ? rows[i] : i];
      if (!Number.isFinite(v)) throw fail(rows ? rows[i] : i, v);
      x[i * d + j] = v;
    }
    return;
  }
  for (let i = 0; i < n; i++) {
    const r = rows ? rows[i] : i;
    const v = isCodedColumn(values) ? cellAt(values, r) : values[r];
    const num = typeof v === 'boolean' ? Number(v) : v;
    if (typeof num !== 'number' || !Number.isFinite(num) || isCodedColumn(values)) throw fail(r, v);
    x[i * d + j] = num;
  }
}
