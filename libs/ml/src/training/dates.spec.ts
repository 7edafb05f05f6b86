import { ValidationError } from '@mlp/contracts';
import { initBackend } from '../models';
import { DateParts } from '../preprocessing/date-parts';
import type { Cell, Frame } from '../preprocessing/frame';
import { Pipeline, loadTransformer } from '../preprocessing/pipeline';
import { SeededRng } from '../random/seeded-rng';
import { planSplits } from './plan';
import { type InputColumnType, prepareTrainingData } from './prepare';
import { pipelineFromSpec } from './preprocessing-from-spec';
import { fitOnRows, modelSpecFor, predictRows, runTrial } from './trainer';
import { parseTrainingSpec, parseTrainingSpecYaml, type TrainingSpec } from './training-spec';

function spec(overrides: Record<string, unknown> = {}, data: Record<string, unknown> = {}): TrainingSpec {
  return parseTrainingSpec({ experiment: 'sales', task: 'regression', data: { dataset: { name: 'sales' }, label: 'y', ...data }, model: { type: 'linear' }, ...overrides });
}

function errorOf(f: () => unknown): ValidationError {
  try {
    f();
  } catch (err) {
    expect(err).toBeInstanceOf(ValidationError);
    return err as ValidationError;
  }
  throw new Error('expected a ValidationError');
}

const DAY_MS = 86_400_000;
const iso = (ms: number) => new Date(ms).toISOString().slice(0, 10);

/**
 * A regression set whose only time signal is a date string: y = 3·month +
 * 8·is_weekend + N(0, 1), plus a numeric column of pure noise. Dates are
 * spread over 2022-01-01 … 2023-12-31 (day 18_993 … 19_722 since 1970).
 */
function salesSet(n: number, seed: number): { frame: Frame; types: Record<string, InputColumnType> } {
  const rng = new SeededRng(seed);
  const sold: Cell[] = [];
  const noise: Cell[] = [];
  const y: Cell[] = [];
  for (let i = 0; i < n; i++) {
    const ms = (18_993 + rng.int(0, 729)) * DAY_MS;
    const d = new Date(ms);
    const weekend = d.getUTCDay() === 0 || d.getUTCDay() === 6 ? 1 : 0;
    sold.push(iso(ms));
    noise.push(rng.normal());
    y.push(3 * (d.getUTCMonth() + 1) + 8 * weekend + rng.normal());
  }
  return { frame: { sold, noise, y }, types: { sold: 'categorical', noise: 'numeric', y: 'numeric' } };
}

describe('date columns in the data rules', () => {
  it('reads a text column whose every value is a date as dates, in any accepted form, and keeps other text as text', () => {
    const frame: Frame = {
      y: [1, 2, 3, 4],
      sold: ['2024-02-29T23:30:00+02:00', '2024/03/02', '31.12.2023 18:45', null],
      shop: ['a', 'b', 'a', 'b'],
      version: ['2024-01-01', 'v2', '2024-01-03', 'v4'],
    };
    const p = prepareTrainingData(frame, { y: 'numeric', sold: 'categorical', shop: 'categorical', version: 'categorical' }, spec({ preprocessing: [{ encode: 'onehot' }] }));
    expect(p.dates).toEqual([{ column: 'sold', step: 'auto', parts: ['year', 'month', 'day', 'dayofweek', 'dayofyear', 'hour', 'minute', 'is_weekend', 'epoch'] }]);
    expect(Object.keys(p.features)).toEqual(['sold', 'shop', 'version']);
    expect(p.dropped).toEqual([]);
  });

  it('decides DD/MM against MM/DD per column, and refuses a column where it cannot tell', () => {
    const types: Record<string, InputColumnType> = { y: 'numeric', d: 'categorical' };
    const dmy = prepareTrainingData({ y: [1, 2, 3], d: ['01/02/2024', '25/12/2024', '03/04/2024'] }, types, spec());
    expect(dmy.dates).toEqual([expect.objectContaining({ column: 'd', slashOrder: 'dmy' })]);
    const mdy = prepareTrainingData({ y: [1, 2, 3], d: ['01/02/2024', '12/25/2024', '03/04/2024'] }, types, spec());
    expect(mdy.dates).toEqual([expect.objectContaining({ column: 'd', slashOrder: 'mdy' })]);
    // Ambiguous text is not taken for dates automatically (an ordinary, unencoded text column then)…
    const ambiguous = prepareTrainingData({ y: [1, 2, 3], x: [1, 2, 3], d: ['01/02/2024', '05/06/2024', '03/04/2024'] }, { ...types, x: 'numeric' }, spec());
    expect(ambiguous.dates).toEqual([]);
    expect(ambiguous.dropped).toEqual([{ column: 'd', reason: 'categorical column that no encode step handles' }]);
    // …and a dateparts step naming it says why, unless it gives the order.
    const named = spec({ preprocessing: [{ dateparts: 'auto', columns: ['d'] }] });
    expect(errorOf(() => prepareTrainingData({ y: [1, 2, 3], d: ['01/02/2024', '05/06/2024', '03/04/2024'] }, types, named)).message).toMatch(/cannot be told apart.*dayFirst/);
    const dayFirst = spec({ preprocessing: [{ dateparts: ['month'], columns: ['d'], dayFirst: true }] });
    expect(prepareTrainingData({ y: [1, 2, 3], d: ['01/02/2024', '05/06/2024', '03/04/2024'] }, types, dayFirst).dates).toEqual([
      { column: 'd', step: 0, parts: ['month'], slashOrder: 'dmy' },
    ]);
  });

  it('takes apart what a dateparts step names, leaves alone what another step names, and drops constant dates', () => {
    const frame: Frame = { y: [1, 2, 3], a: ['2024-01-01', '2024-06-01', '2025-01-01'], b: ['2024-01-01', '2024-06-01', '2025-01-01'], c: [5, 5, 5], same: ['2024-01-01', '2024-01-01', null] };
    const types: Record<string, InputColumnType> = { y: 'numeric', a: 'categorical', b: 'categorical', c: 'datetime', same: 'categorical' };
    const s = spec({ preprocessing: [{ dateparts: ['year', 'month'], columns: ['a'] }, { encode: 'ordinal', columns: ['b'] }] });
    const p = prepareTrainingData(frame, types, s);
    expect(p.dates).toEqual([{ column: 'a', step: 0, parts: ['year', 'month'] }]);
    expect(p.dropped).toEqual([
      { column: 'c', reason: 'constant column' },
      { column: 'same', reason: 'constant column' },
    ]);
    expect(p.warnings).toContain("column 'a': date column taken apart by preprocessing[0] into a_year, a_month");
    const pipeline = pipelineFromSpec(s, p.dates);
    expect(pipeline.fit(p.features, p.y).featureNames()).toEqual(['a_year', 'a_month', 'b']);
    // A dateparts step on a column that holds no dates names the step.
    const bad = errorOf(() => prepareTrainingData({ y: [1, 2], a: ['2024-01-01', 'soon'] }, { y: 'numeric', a: 'categorical' }, spec({ preprocessing: [{ dateparts: 'auto', columns: ['a'] }] })));
    expect(bad.message).toMatch(/"soon" is not a date/);
    expect(bad.details).toEqual([{ path: 'preprocessing[0]', message: "'a' holds values that are not dates" }]);
  });
});

describe('the dateparts step in a spec', () => {
  it('is validated with line numbers: known parts, first in order, each column once', () => {
    const yaml = [
      'experiment: sales', // 1
      'task: regression', // 2
      'data: {dataset: {name: sales}, label: y}', // 3
      'model: {type: linear}', // 4
      'preprocessing:', // 5
      '  - {scale: standard}', // 6
      '  - {dateparts: [year, decade], columns: [sold]}', // 7
      '  - {dateparts: auto, columns: [sold, bought], dayFirst: yes}', // 8
    ].join('\n');
    const err = errorOf(() => parseTrainingSpecYaml(yaml));
    expect(err.details).toEqual([
      { path: 'preprocessing.1.dateparts.1', message: expect.stringMatching(/^expected one of year, month, day, dayofweek, dayofyear, hour, minute, is_weekend, epoch, received "decade" \(line 7, column 24\)$/) },
      { path: 'preprocessing.2.dayFirst', message: expect.stringMatching(/^expected boolean.*\(line 8, /) },
    ]);
    const rules = errorOf(() => parseTrainingSpecYaml(yaml.replace('decade', 'month').replace('dayFirst: yes', 'dayFirst: true')));
    expect(rules.details).toEqual([
      { path: 'preprocessing.1', message: expect.stringMatching(/^dateparts steps run before every other step: move it above preprocessing\[0\] \(line 7, /) },
      { path: 'preprocessing.2', message: expect.stringMatching(/^dateparts steps run before every other step.*\(line 8, /) },
      { path: 'preprocessing.2.columns.0', message: expect.stringMatching(/^column 'sold' is already taken apart by preprocessing\[1\] \(line 8, /) },
    ]);
    const ok = parseTrainingSpecYaml(yaml.replace('decade', 'month').replace('dayFirst: yes', 'dayFirst: true').replace('columns: [sold, bought]', 'columns: [bought]').replace('  - {scale: standard}\n', '') + '\n  - {scale: standard}');
    expect(ok.preprocessing).toEqual([{ dateparts: ['year', 'month'], columns: ['sold'] }, { dateparts: 'auto', columns: ['bought'], dayFirst: true }, { scale: 'standard', columns: 'numeric' }]);
  });

  it('says what a step looks like when its key is unknown or an option is wrong', () => {
    const err = errorOf(() => parseTrainingSpec({ ...spec(), preprocessing: [{ dateparts: 'all' }, { dateparts: 'auto', colums: ['x'] }, { bucket: 3 }] }));
    expect(err.details).toEqual([
      { path: 'preprocessing.0.dateparts', message: expect.stringMatching(/^expected auto or a list of parts \(year, month, .*\), received "all"$/) },
      { path: 'preprocessing.1.colums', message: 'unknown key "colums"; a dateparts step takes dateparts, columns, dayFirst' },
      { path: 'preprocessing.2', message: 'expected a step with one of impute, scale, encode, clipOutliers, dateparts (and only that step’s options)' },
    ]);
  });
});

describe('training on a date string', () => {
  beforeAll(async () => {
    await initBackend('wasm');
  });

  const base = {
    preprocessing: [{ scale: 'standard' }],
    split: { method: 'random', test: 0.2 },
    cv: { folds: 3 },
    model: { type: 'linear', epochs: 60, batchSize: 32, learningRate: 0.3 },
    seed: 3,
  };

  it('cuts the CV and holdout error sharply against dropping the date', async () => {
    const { frame, types } = salesSet(600, 11);
    const rmse = async (s: TrainingSpec) => {
      const prepared = prepareTrainingData(frame, types, s);
      const plan = planSplits(prepared, s);
      const cv = await runTrial(prepared, s, plan.folds, {}, s.seed);
      const trained = await fitOnRows(prepared, s, plan.holdout.train, undefined, modelSpecFor(s, {}), s.seed);
      try {
        const out = predictRows(trained, prepared, plan.holdout.test, 'regression');
        const errors = plan.holdout.test.map((r, i) => (out.values[i] - prepared.y[r]) ** 2);
        return { cv: cv.metrics.rmse, holdout: Math.sqrt(errors.reduce((a, b) => a + b, 0) / errors.length), prepared };
      } finally {
        trained.model.dispose();
      }
    };
    const withDates = await rmse(spec(base));
    const dropped = await rmse(spec(base, { exclude: ['sold'] }));
    // The automatic expansion is what the record shows (no 'dropped' entry for the date).
    expect(withDates.prepared.dropped).toEqual([]);
    expect(withDates.prepared.warnings).toEqual([
      "column 'sold': date column taken apart automatically into sold_year, sold_month, sold_day, sold_dayofweek, sold_dayofyear, sold_is_weekend, sold_epoch (constant over the labelled rows, left out: hour, minute)",
    ]);
    // Without the date the error is y's own spread, √(9·var(month) + 64·var(weekend) + 1) ≈ √(9·11.9 + 64·0.2 + 1) ≈ 11;
    // with it, y is linear in month and is_weekend, so only the noise (σ = 1) is left.
    expect(dropped.cv).toBeGreaterThan(9);
    expect(withDates.cv).toBeLessThan(1.5);
    expect(withDates.cv).toBeLessThan(0.2 * dropped.cv);
    expect(withDates.holdout).toBeLessThan(0.2 * dropped.holdout);
  }, 120_000);

  it('stores the expansion in the fitted pipeline, so loaded it turns raw rows into the same numbers and predictions', async () => {
    const { frame, types } = salesSet(200, 5);
    const s = spec({ ...base, cv: undefined });
    const prepared = prepareTrainingData(frame, types, s);
    const rows = Array.from({ length: prepared.rows }, (_, i) => i);
    const trained = await fitOnRows(prepared, s, rows, undefined, modelSpecFor(s, {}), 1);
    try {
      const state = JSON.parse(JSON.stringify(trained.pipeline.toJSON()));
      expect(state.steps[0]).toMatchObject({ name: 'dateparts_auto', columns: ['sold'], transformer: { kind: 'DateParts' } });
      const loaded = loadTransformer(state) as Pipeline;
      // New raw rows as a client would send them: date text in other forms and zones, epoch ms.
      const raw: Frame = { sold: ['2024-07-06T23:30:00-02:00', '2023/12/24', '01.05.2022', 19_000 * DAY_MS], noise: [0, 1, -1, 0.5] };
      const ours = trained.pipeline.transform(raw);
      expect(loaded.transform(raw)).toEqual(ours);
      const parts = new DateParts({ columns: ['sold'], parts: ['month', 'dayofweek'] }).fit(raw).transform(raw);
      expect(parts).toEqual({ sold_month: [7, 12, 5, 1], sold_dayofweek: [6, 6, 6, 5], noise: [0, 1, -1, 0.5] }); // 2024-07-07 01:30Z, 2023-12-24 and 2022-05-01 are Sundays; 2022-01-08 a Saturday
      const x = (p: Pipeline) => {
        const f = p.transform(raw);
        const names = p.featureNames();
        return Float32Array.from(Array.from({ length: 4 }, (_, i) => names.map((c) => f[c] as Cell[]).map((col) => col[i] as number)).flat());
      };
      expect(Array.from(trained.model.predict(x(loaded), 4))).toEqual(Array.from(trained.model.predict(x(trained.pipeline), 4)));
    } finally {
      trained.model.dispose();
    }
  }, 60_000);
});
