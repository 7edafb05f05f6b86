/** Per-column statistics the ingestion engine computes over the rows it examined; the input of `inferSchema`. */
export interface ColumnProfile {
  name: string;
  /** Rows examined. */
  rows: number;
  /** Null or empty/whitespace-only values. */
  nulls: number;
  /** Distinct non-null values (may be approximate). */
  distinct: number;
  /** How many non-null values cast cleanly to each type. */
  castable: { int: number; float: number; bool: number; date: number; datetime: number };
  /** DuckDB type when the source is typed (Parquet, Arrow, JSON), e.g. 'BIGINT', 'DOUBLE', 'VARCHAR', 'TIMESTAMP'. */
  sourceType?: string;
  /** Numeric range when castable as float; ISO strings for dates. */
  min?: number | string;
  max?: number | string;
  /** Most frequent non-null values, most frequent first (up to 50). */
  topValues: { value: string; count: number }[];
  /** Longest value, in characters. */
  maxLength?: number;
}
