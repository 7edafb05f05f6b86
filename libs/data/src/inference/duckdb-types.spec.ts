import { columnTypeOfDuckDb } from './duckdb-types';

describe('columnTypeOfDuckDb', () => {
  it.each([
    ['TINYINT', 'int'],
    ['ubigint', 'int'],
    ['HUGEINT', 'int'],
    ['DECIMAL(9)', 'int'],
    ['NUMERIC(12, 0)', 'int'],
    ['DECIMAL(12, 3)', 'float'],
    ['DECIMAL', 'float'],
    ['REAL', 'float'],
    ['BOOLEAN', 'bool'],
    ['DATE', 'date'],
    ['TIMESTAMP_NS', 'datetime'],
    ['TIMESTAMPTZ', 'datetime'],
    ["ENUM('a', 'b')", 'category'],
    ['VARCHAR', 'string'],
    ['UUID', 'string'],
    ['TIME', 'string'],
    ['INTEGER[]', 'string'],
    ['BLOB', 'string'],
  ])('%s → %s', (duck, ours) => {
    expect(columnTypeOfDuckDb(duck)).toBe(ours);
  });
});
