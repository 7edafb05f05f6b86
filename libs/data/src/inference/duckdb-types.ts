import { ColumnType } from '../schema/dataset-schema';

const intTypes = new Set([
  'TINYINT', 'SMALLINT', 'INTEGER', 'BIGINT', 'HUGEINT', 'UTINYINT', 'USMALLINT', 'UINTEGER', 'UBIGINT', 'UHUGEINT',
  'INT1', 'INT2', 'INT4', 'INT8', 'INT', 'SHORT', 'LONG', 'SIGNED',
]);
const floatTypes = new Set(['FLOAT', 'FLOAT4', 'REAL', 'DOUBLE', 'FLOAT8', 'NUMERIC', 'DECIMAL']);
const boolTypes = new Set(['BOOLEAN', 'BOOL', 'LOGICAL']);
const datetimeTypes = new Set([
  'TIMESTAMP', 'DATETIME', 'TIMESTAMP_S', 'TIMESTAMP_MS', 'TIMESTAMP_NS', 'TIMESTAMP_US',
  'TIMESTAMPTZ', 'TIMESTAMP WITH TIME ZONE',
]);

/**
 * Our column type for a DuckDB type name (`BIGINT`, `DECIMAL(18,2)`, `ENUM('a', 'b')`).
 * DECIMAL with scale 0 is an int; ENUM is a category; everything else that is
 * not numeric, boolean or temporal (VARCHAR, UUID, TIME, BLOB, nested types) is
 * a string.
 */
export function columnTypeOfDuckDb(sourceType: string): ColumnType {
  const type = sourceType.trim().toUpperCase();
  if (type.startsWith('ENUM')) return 'category';
  const decimal = /^(?:DECIMAL|NUMERIC)\s*\(\s*\d+\s*(?:,\s*(\d+)\s*)?\)$/.exec(type);
  if (decimal) return decimal[1] === undefined || Number(decimal[1]) === 0 ? 'int' : 'float';
  if (intTypes.has(type)) return 'int';
  if (floatTypes.has(type)) return 'float';
  if (boolTypes.has(type)) return 'bool';
  if (type === 'DATE') return 'date';
  if (datetimeTypes.has(type)) return 'datetime';
  return 'string';
}
