import { JsonDuckDBValueConverter, type Json } from '@duckdb/node-api';
import type { Duck } from './duck';

/**
 * A query's rows as JSON objects (as `Duck.all` gives them: BIGINT and
 * timestamps as text, NaN as "NaN"), one result chunk (about 2048 rows) at a
 * time, so a large result never sits in memory as objects all at once.
 * `columns` names the selected columns in order.
 */
export async function* jsonRowBatches(duck: Duck, sql: string, columns: readonly string[]): AsyncIterable<Record<string, Json>[]> {
  for await (const chunk of duck.chunks(sql)) {
    if (chunk.columnCount !== columns.length) throw new Error(`jsonRowBatches: the query returns ${chunk.columnCount} columns, ${columns.length} named`);
    yield chunk.convertRows(JsonDuckDBValueConverter).map((row) => Object.fromEntries(columns.map((c, i) => [c, row[i]])));
  }
}
