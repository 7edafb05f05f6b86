import { ValidationError } from '@mlp/contracts';
import type { Frame } from '../preprocessing/frame';
import { HIGH_CARDINALITY, type InputColumnType, prepareTrainingData, toMatrix } from './prepare';
import { parseTrainingSpec, type TrainingSpec } from './training-spec';

function spec(overrides: Record<string, unknown> = {}, data: Record<string, unknown> = {}): TrainingSpec {
  return parseTrainingSpec({
    experiment: 'churn',
    task: 'binary',
    data: { dataset: { name: 'customers' }, label: 'churned', ...data },
    model: { type: 'logistic' },
    ...overrides,
  });
}

/** The ValidationError thrown by `f` (fails the test if none is thrown). */
function errorOf(f: () => unknown): ValidationError {
  try {
    f();
  } catch (err) {
    expect(err).toBeInstanceOf(ValidationError);
    return err as ValidationError;
  }
  throw new Error('expected a ValidationError');
}

const range = (n: number) => Array.from({ length: n }, (_, i) => i);

describe('prepareTrainingData', () => {
  it('leaves out rows without a label, counts them and keeps the other columns aligned', () => {
    const frame: Frame = { churned: ['yes', null, 'no', Number.NaN, 'yes', 'no'], usage: [10, 20, 30, 40, 50, 60] };
    const p = prepareTrainingData(frame, { churned: 'categorical', usage: 'numeric' }, spec());
    expect(p.rows).toBe(4);
    expect(p.droppedMissingLabel).toBe(2);
    // rows 1 and 3 are gone; classes sort as strings: ['no', 'yes']
    expect(p.features).toEqual({ usage: [10, 30, 50, 60] });
    expect(p.classes).toEqual(['no', 'yes']);
    expect(p.y).toEqual([1, 0, 1, 0]);
    expect(p.warnings).toContain('2 rows without a label were left out');
  });

  it('lists every named column that is missing at once, each under its spec path', () => {
    const s = spec(
      { split: { method: 'time', column: 'signup_ts' }, preprocessing: [{ encode: 'onehot', columns: ['plan', 'region'] }] },
      { sensitive: ['gender'], exclude: ['email'] },
    );
    const err = errorOf(() => prepareTrainingData({ churned: [0, 1], region: ['n', 's'] }, { churned: 'numeric', region: 'categorical' }, s));
    expect(err.message).toMatch(/^columns not in the data: gender, email, signup_ts, plan \(available: churned, region\)$/);
    expect(err.details).toEqual([
      { path: 'data.sensitive[0]', message: "no column 'gender'" },
      { path: 'data.exclude[0]', message: "no column 'email'" },
      { path: 'split.column', message: "no column 'signup_ts'" },
      { path: 'preprocessing[0].columns[0]', message: "no column 'plan'" },
    ]);
    // The label itself is named too.
    expect(errorOf(() => prepareTrainingData({ target: [0, 1], x: [1, 2] }, {}, spec())).details).toEqual([{ path: 'data.label', message: "no column 'churned'" }]);
  });

  describe('ID-like and free-text columns', () => {
    const n = 200;
    const frame: Frame = {
      churned: range(n).map((i) => i % 2),
      usage: range(n).map((i) => (i * 7) % 13),
      customer: range(n).map((i) => `c${String(i).padStart(4, '0')}`), // 200 distinct in 200 rows
      comment: range(n).map((i) => `customer number ${i} says the app is slow`), // a sentence per row
      account_id: range(n).map((i) => 1000 + i), // numeric, named like an id
      plan: range(n).map((i) => ['basic', 'pro', 'team'][i % 3]), // 3 distinct: a real category
    };
    const types: Record<string, InputColumnType> = { churned: 'numeric', usage: 'numeric', customer: 'categorical', comment: 'categorical', account_id: 'numeric', plan: 'categorical' };

    // Encodes every categorical column that survives the data rules.
    const encodeAll = { encode: 'onehot' };

    it('drops them with a warning when no step names them', () => {
      expect(n).toBeGreaterThan(HIGH_CARDINALITY);
      const p = prepareTrainingData(frame, types, spec({ preprocessing: [encodeAll] }));
      expect(Object.keys(p.features)).toEqual(['usage', 'plan']);
      expect(p.dropped).toEqual([
        { column: 'customer', reason: 'ID-like column with 200 distinct values in 200 rows; name it in an encode step to use it' },
        { column: 'comment', reason: 'free-text column with 200 distinct values in 200 rows; name it in an encode step to use it' },
        { column: 'account_id', reason: 'ID-like column (200 distinct values in 200 rows)' },
      ]);
      expect(p.warnings).toEqual(p.dropped.map((d) => `column '${d.column}' dropped: ${d.reason}`));
    });

    it('keeps them when an encode step names them explicitly', () => {
      const p = prepareTrainingData(frame, types, spec({ preprocessing: [{ encode: 'target', columns: ['customer', 'comment'] }, encodeAll] }));
      expect(Object.keys(p.features)).toEqual(['usage', 'customer', 'comment', 'plan']);
      expect(p.features.customer).toEqual(frame.customer);
      expect(p.dropped.map((d) => d.column)).toEqual(['account_id']);
    });

    it('keeps a categorical column of HIGH_CARDINALITY distinct values or fewer', () => {
      const few = { ...frame, customer: range(n).map((i) => `c${i % HIGH_CARDINALITY}`) };
      expect(Object.keys(prepareTrainingData(few, types, spec({ preprocessing: [encodeAll] })).features)).toContain('customer');
    });

    it('drops a categorical column with a warning when no encode step handles it', () => {
      const p = prepareTrainingData({ churned: frame.churned, usage: frame.usage, plan: frame.plan }, types, spec({ preprocessing: [{ scale: 'standard' }] }));
      expect(Object.keys(p.features)).toEqual(['usage']);
      expect(p.warnings).toEqual(["column 'plan' dropped: categorical column that no encode step handles"]);
    });
  });

  it('never uses the sensitive, excluded or time columns as features, and takes datetimes apart with a record of the parts', () => {
    const day = 86_400_000;
    const frame: Frame = {
      churned: [0, 1, 0, 1],
      usage: [1, 2, 3, 4],
      gender: ['f', 'm', 'f', 'm'],
      email: ['a@x', 'b@x', 'c@x', 'd@x'],
      event_ts: [100, 200, 300, 400],
      // Epoch ms, as the loader reads DATE columns: 2024-01-01 (Monday), 2024-01-06, 2024-02-03 (Saturdays), 2024-03-01 (Friday), all at midnight UTC.
      signup: [19_723 * day, 19_728 * day, 19_756 * day, 19_783 * day],
    };
    const types: Record<string, InputColumnType> = { churned: 'numeric', usage: 'numeric', gender: 'categorical', email: 'categorical', event_ts: 'numeric', signup: 'datetime' };
    const p = prepareTrainingData(frame, types, spec({ split: { method: 'time', column: 'event_ts' } }, { sensitive: ['gender'], exclude: ['email'] }));
    expect(Object.keys(p.features)).toEqual(['usage', 'signup']);
    expect(p.dropped).toEqual([
      { column: 'gender', reason: 'sensitive attribute (used for fairness slices only)' },
      { column: 'email', reason: 'excluded by data.exclude' },
      { column: 'event_ts', reason: 'used by split as the time column' },
    ]);
    // The date column is taken apart, not dropped; one year, no time of day: year, hour and minute are constant.
    expect(p.dates).toEqual([{ column: 'signup', step: 'auto', parts: ['month', 'day', 'dayofweek', 'dayofyear', 'is_weekend', 'epoch'] }]);
    expect(p.warnings).toEqual([
      "column 'signup': date column taken apart automatically into signup_month, signup_day, signup_dayofweek, signup_dayofyear, signup_is_weekend, signup_epoch (constant over the labelled rows, left out: year, hour, minute)",
    ]);
    // Sensitive values and the time order travel beside the features, row-aligned.
    expect(p.sensitive).toEqual({ gender: ['f', 'm', 'f', 'm'] });
    expect(p.order).toEqual([100, 200, 300, 400]);
    expect(p.groups).toBeUndefined();
  });

  it('fails naming what was dropped when no feature is left', () => {
    const err = errorOf(() => prepareTrainingData({ churned: [0, 1, 0], flag: [1, 1, 1] }, { churned: 'numeric', flag: 'numeric' }, spec()));
    expect(err.details).toEqual([{ path: 'data', message: 'dropped: flag (constant column)' }]);
  });

  it('needs exactly two classes for a binary task', () => {
    const three = errorOf(() => prepareTrainingData({ churned: ['a', 'b', 'c', 'a'], x: [1, 2, 3, 4] }, {}, spec()));
    expect(three.message).toBe("a binary task needs exactly 2 label values; 'churned' has 3: a, b, c");
    expect(three.details).toEqual([{ path: 'data.label', message: 'found 3 classes' }]);
    // One class left once the rows without a label are gone.
    const one = errorOf(() => prepareTrainingData({ churned: [1, null, 1], x: [1, 2, 3] }, {}, spec()));
    expect(one.details).toEqual([{ path: 'data.label', message: 'found 1 classes' }]);
  });

  it('encodes multiclass labels as indices in sorted order and needs numbers for regression', () => {
    const m = prepareTrainingData({ species: ['gentoo', 'adelie', 'chinstrap', 'adelie'], x: [1, 2, 3, 4] }, {}, spec({ task: 'multiclass' }, { label: 'species' }));
    expect(m.classes).toEqual(['adelie', 'chinstrap', 'gentoo']);
    expect(m.y).toEqual([2, 0, 1, 0]);
    const r = errorOf(() => prepareTrainingData({ churned: [1.5, 'high'], x: [1, 2] }, {}, spec({ task: 'regression', model: { type: 'linear' } })));
    expect(r.message).toBe(`label 'churned' must be numeric for regression; row 1 is "high"`);
  });
});

describe('toMatrix', () => {
  it('lays the columns out row-major in the given order', () => {
    const { x, n, d } = toMatrix({ a: [1, 2, 3], b: [true, false, 0.5] }, ['b', 'a']);
    expect([n, d]).toEqual([3, 2]);
    expect(Array.from(x)).toEqual([1, 1, 0, 2, 0.5, 3]);
  });

  it('names the column and row of a missing or non-numeric cell', () => {
    const missing = errorOf(() => toMatrix({ a: [1, 2], income: [3, null] }, ['a', 'income']));
    expect(missing.message).toBe("feature 'income' is missing at row 1 after preprocessing; add an impute or encode step for it");
    expect(missing.details).toEqual([{ path: 'preprocessing', message: "column 'income' needs an impute step" }]);
    const text = errorOf(() => toMatrix({ plan: ['pro'] }, ['plan']));
    expect(text.details).toEqual([{ path: 'preprocessing', message: "column 'plan' needs an encode step" }]);
  });
});
