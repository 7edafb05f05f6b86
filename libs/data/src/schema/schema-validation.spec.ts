import { ValidationError } from '@mlp/contracts';
import { parseDatasetSchema, validateDatasetSchema } from './schema-validation';

describe('validateDatasetSchema / parseDatasetSchema (plain values, e.g. JSON bodies)', () => {
  it('accepts a valid schema and fills defaults', () => {
    expect(parseDatasetSchema({ dataset: 'a', columns: { x: { type: 'int', min: 1, max: 1 } } })).toEqual({
      dataset: 'a',
      columns: { x: { type: 'int', required: false, unique: false, min: 1, max: 1 } },
      checks: {},
    });
  });

  it('throws a ValidationError with one FieldIssue per problem and dotted paths', () => {
    let caught: unknown;
    try {
      parseDatasetSchema({ dataset: 'bad name', primaryKey: ['y'], columns: { x: { type: 'float', min: 'low' } } });
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(ValidationError);
    expect((caught as ValidationError).details).toEqual([
      { path: 'dataset', message: 'use letters, digits, _ and -' },
      { path: 'columns.x.min', message: 'expected number, received "low"' },
      { path: 'primaryKey.0', message: 'unknown column "y"; declare it under columns' },
    ]);
    expect((caught as ValidationError).message).toBe(
      'invalid dataset schema: dataset: use letters, digits, _ and -; columns.x.min: expected number, received "low"; primaryKey.0: unknown column "y"; declare it under columns',
    );
  });

  it('reports unknown keys one by one, at the key, with the allowed keys', () => {
    const result = validateDatasetSchema({ dataset: 'a', columns: { x: { type: 'int', typo: 1, other: 2 } } });
    expect(result).toEqual({
      ok: false,
      issues: [
        { path: ['columns', 'x', 'typo'], message: expect.stringMatching(/^unknown key "typo"; expected one of type, required, nullable,/), target: 'key' },
        { path: ['columns', 'x', 'other'], message: expect.stringMatching(/^unknown key "other"/), target: 'key' },
      ],
    });
  });

  it('reports an unknown type with the allowed ones, and a duplicate primary key column', () => {
    const result = validateDatasetSchema({ dataset: 'a', primaryKey: ['x', 'x'], columns: { x: { type: 'integer' } } });
    expect(result.ok).toBe(false);
    expect(!result.ok && result.issues.map((i) => i.message)).toEqual([
      'expected one of int, float, bool, string, category, date, datetime, received "integer"',
      'column "x" is listed twice',
    ]);
  });
});
