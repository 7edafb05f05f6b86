import type { FieldIssue } from '@mlp/contracts';
import { OneHotEncoder, OrdinalEncoder, Pipeline, SimpleImputer, StandardScaler, type Cell, type Frame } from '@mlp/ml';
import { checkColumn, type InputColumnValues } from './input-columns';
import { InputSchema } from './input-schema';

function rng(seed: number): () => number {
  let s = seed;
  return () => (s = (s * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31;
}

const schema = new InputSchema({
  inputs: [
    { name: 'tenure', type: 'float', nullable: true },
    { name: 'monthly', type: 'float', nullable: false, min: 0, max: 200 },
    { name: 'seats', type: 'int', nullable: false },
    { name: 'plan', type: 'category', nullable: false, values: ['basic', 'pro', 'team'] },
    { name: 'region', type: 'category', nullable: true },
    { name: 'active', type: 'bool', nullable: false },
    { name: 'note', type: 'string', nullable: false },
  ],
});

/** A pipeline fitted on clean rows of the schema: imputer, scaler, one-hot and ordinal encoders. */
function fittedPipeline(): Pipeline {
  const next = rng(3);
  const n = 200;
  const frame: Frame = {
    tenure: Array.from({ length: n }, () => (next() < 0.1 ? null : Math.round(next() * 600) / 10)),
    monthly: Array.from({ length: n }, () => Math.round(next() * 20000) / 100),
    seats: Array.from({ length: n }, () => Math.floor(next() * 10)),
    plan: Array.from({ length: n }, () => ['basic', 'pro', 'team'][Math.floor(next() * 3)]),
    region: Array.from({ length: n }, () => (next() < 0.1 ? null : ['n', 's', 'e', 'w'][Math.floor(next() * 4)])),
    active: Array.from({ length: n }, () => next() < 0.5),
    note: Array.from({ length: n }, () => (next() < 0.5 ? 'a' : 'b')),
  };
  return new Pipeline([
    { name: 'impute', columns: ['tenure'], transformer: new SimpleImputer({ strategy: 'mean' }) },
    { name: 'impute-region', columns: ['region'], transformer: new SimpleImputer({ strategy: 'most_frequent' }) },
    { name: 'scale', columns: ['tenure', 'monthly', 'seats'], transformer: new StandardScaler() },
    { name: 'onehot', columns: ['plan', 'region', 'active'], transformer: new OneHotEncoder() },
    { name: 'ordinal', columns: ['note'], transformer: new OrdinalEncoder({ handleUnknown: 'ignore' }) },
  ]).fit(frame);
}

/** Random cells of every kind, including nulls, NaN, ±Infinity, fractions, out-of-bound numbers, unknown categories and wrong types. */
function randomCell(next: () => number, name: string): unknown {
  const x = next();
  if (x < 0.04) return null;
  if (x < 0.06) return NaN;
  if (x < 0.07) return next() < 0.5 ? Infinity : -Infinity;
  if (x < 0.09) return ['abc', '', true, 7][Math.floor(next() * 4)];
  switch (name) {
    case 'tenure':
    case 'monthly':
      return Math.round((next() * 260 - 30) * 10) / 10;
    case 'seats':
      return next() < 0.1 ? 2.5 : Math.floor(next() * 12);
    case 'plan':
      return ['basic', 'pro', 'team', 'gold', 3][Math.floor(next() * 5)];
    case 'region':
      return ['n', 's', 'e', 'w', 'x'][Math.floor(next() * 5)];
    case 'active':
      return next() < 0.5;
    default:
      return ['a', 'b'][Math.floor(next() * 2)];
  }
}

/** The cells as a columnar reader holds them: numbers (NaN kept apart from null) when every cell is a number or null, else codes. */
function asColumn(cells: unknown[]): InputColumnValues {
  if (cells.every((c) => c === null || typeof c === 'number')) {
    return { kind: 'numbers', values: Float64Array.from(cells, (c) => (c === null ? 0 : (c as number))), nulls: Uint8Array.from(cells, (c) => (c === null ? 1 : 0)) };
  }
  const dictionary: unknown[] = [];
  const codes = Int32Array.from(cells, (c) => {
    if (c === null) return -1;
    let k = dictionary.findIndex((d) => Object.is(d, c));
    if (k < 0) k = dictionary.push(c) - 1;
    return k;
  });
  return { kind: 'codes', codes, dictionary };
}

describe('checkColumn: the columnar form of InputSchema.check', () => {
  const pipeline = fittedPipeline();

  it.each([1, 2, 3, 4, 5, 6, 7, 8])('gives the same rejects, messages and model matrix as the per-cell check (seed %i)', (seed) => {
    const next = rng(seed * 7919);
    const n = 400;
    // Half the seeds keep the numeric inputs numeric (the reader's fast path); the others mix in text.
    const rows = Array.from({ length: n }, () =>
      Object.fromEntries(
        schema.inputs.map((i) => {
          let v = randomCell(next, i.name);
          if (seed % 2 === 0 && (i.kind === 'number' || i.kind === 'integer') && typeof v !== 'number' && v !== null) v = null;
          return [i.name, v];
        }),
      ),
    );

    // Per cell, as online requests and the row-by-row batch path do.
    const perRow = new Map<number, FieldIssue[]>();
    const cells: Cell[][] = schema.inputs.map(() => []);
    const valid: number[] = [];
    rows.forEach((row, r) => {
      const issues: FieldIssue[] = [];
      schema.inputs.forEach((input, j) => {
        const checked = schema.check(input, row[input.name]);
        if (typeof checked === 'string') issues.push({ path: input.name, message: checked });
        else cells[j][r] = checked.value;
      });
      if (issues.length) perRow.set(r, issues);
      else valid.push(r);
    });

    // By column.
    const byColumn = new Map<number, FieldIssue[]>();
    const frame: Frame = {};
    schema.inputs.forEach((input, j) => {
      const { column, bad } = checkColumn(schema, input, asColumn(rows.map((row) => row[input.name])), n);
      frame[input.name] = column;
      for (const { row, message } of bad) byColumn.set(row, [...(byColumn.get(row) ?? []), { path: input.name, message }]);
      void j;
    });
    expect(new Map([...byColumn].sort((a, b) => a[0] - b[0]))).toEqual(perRow);
    expect(perRow.size).toBeGreaterThan(0);
    expect(valid.length).toBeGreaterThan(n / 8);

    const rowFrame: Frame = {};
    schema.inputs.forEach((input, j) => (rowFrame[input.name] = valid.map((r) => cells[j][r])));
    const expected = pipeline.transformToMatrix(rowFrame);
    const got = pipeline.transformToMatrix(frame, valid);
    expect(got.n).toBe(expected.n);
    expect(Array.from(got.x)).toEqual(Array.from(expected.x));
  });
});
