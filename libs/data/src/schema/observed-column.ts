/**
 * What inference saw in one column. Written next to the column as a YAML
 * comment by `schemaToYaml`: a fact about the sample, never a constraint.
 */
export interface ObservedColumn {
  /** Rows examined. */
  rows: number;
  /** Null or empty values among them. */
  missing: number;
  /** Distinct non-null values (may be approximate). */
  distinct: number;
  /** Range for int/float (numbers) and date/datetime (ISO strings). */
  min?: number | string;
  max?: number | string;
  /** A few of the most frequent values, most frequent first. */
  sample?: string[];
  /** Longest value, in characters. */
  maxLength?: number;
  /** DuckDB type of a typed source (Parquet, Arrow, JSON). */
  sourceType?: string;
}
