import { ValidationError } from '@mlp/contracts';
import { ColumnType, ident, storageType } from '@mlp/data';
import { AggregationFeature, EntitySpec, FeatureSpec, FeatureViewSpec, TransformFeature, eventTimestampColumn } from './feature-view-spec';
import { microsecondsInterval, numberLiteral } from './sql';

/** Internal column names of the generated SQL (a source column with one of these names would clash). */
const sourceCte = '__mlp_source';
const eventTs = '__mlp_event_ts';

/**
 * One DuckDB SELECT computing a feature view over its source: one row per
 * source row with the entity's join keys, `event_timestamp` (the view's
 * timestamp column cast to TIMESTAMP) and every feature, in the view's order.
 *
 * Point in time: a window aggregate of a row uses only rows of the same
 * entity (partition by the join keys) with timestamp in `(ts - window, ts]`:
 * the row itself, every row with exactly the same timestamp (a RANGE frame
 * makes them peers, so all of them are included, including ones later in the
 * file), and earlier rows less than `window` older. A row exactly `window`
 * older is out: the frame is `RANGE BETWEEN <window - 1µs> PRECEDING AND
 * CURRENT ROW`, exact because TIMESTAMP has microsecond resolution. Rows after
 * the row's timestamp are never included.
 *
 * Rows whose timestamp or any join key is NULL are left out: they cannot be
 * placed in time or joined to an entity.
 *
 * `opts.sourceTable` is inserted verbatim as a relation: a table name, or
 * e.g. `read_parquet('s3://…/v3.parquet')`. A TIMESTAMPTZ timestamp column is
 * cast as DuckDB casts it: in UTC without the ICU extension, else in the
 * session `TimeZone` (set it to UTC for stable output). Date parts likewise.
 * Output is ordered by join keys, then event_timestamp, then the features
 * (`ORDER BY ALL`), so the same input gives the same rows in the same order.
 */
export function featureViewSql(view: FeatureViewSpec, entity: EntitySpec, opts: { sourceTable: string }): string {
  if (view.entity !== entity.name) {
    throw new ValidationError(`feature view ${view.name} is keyed by entity ${view.entity}, not ${entity.name}`, [
      { path: 'entity', message: `expected entity ${view.entity}, received ${entity.name}` },
    ]);
  }
  if (opts.sourceTable.trim() === '') throw new ValidationError('sourceTable is empty', [{ path: 'sourceTable', message: 'required' }]);
  const keys = entity.joinKeys.map(ident);
  const windows = [...new Set(view.features.filter((f): f is AggregationFeature => f.kind === 'aggregation').map((f) => f.windowSeconds))];
  const select = [
    ...keys,
    `${eventTs} AS ${ident(eventTimestampColumn)}`,
    ...view.features.map((f) => `${featureExpression(f)} AS ${ident(f.name)}`),
  ];
  const lines = [
    `WITH ${sourceCte} AS (`,
    `  SELECT *, CAST(${ident(view.timestamp)} AS TIMESTAMP) AS ${eventTs}`,
    `  FROM ${opts.sourceTable}`,
    `  WHERE ${[...keys, ident(view.timestamp)].map((c) => `${c} IS NOT NULL`).join(' AND ')}`,
    ')',
    'SELECT',
    select.map((s) => `  ${s}`).join(',\n'),
    `FROM ${sourceCte}`,
  ];
  if (windows.length > 0) {
    lines.push(
      'WINDOW',
      windows
        .map(
          (seconds) =>
            `  ${windowName(seconds)} AS (PARTITION BY ${keys.join(', ')} ORDER BY ${eventTs} RANGE BETWEEN ${microsecondsInterval(seconds * 1_000_000 - 1)} PRECEDING AND CURRENT ROW)`,
        )
        .join(',\n'),
    );
  }
  // Every column, left to right: join keys, event_timestamp, then features, so even rows
  // tied on key and time come out in one order (stable bytes for content-addressed artifacts).
  lines.push('ORDER BY ALL');
  return lines.join('\n');
}

function windowName(seconds: number): string {
  return `__mlp_w_${seconds}`;
}

function col(name: string): string {
  return ident(name);
}

function asTimestamp(name: string): string {
  return `CAST(${col(name)} AS TIMESTAMP)`;
}

function asDouble(name: string): string {
  return `CAST(${col(name)} AS DOUBLE)`;
}

function featureExpression(feature: FeatureSpec): string {
  switch (feature.kind) {
    case 'passthrough':
      return col(feature.column);
    case 'transform':
      return transformExpression(feature);
    case 'aggregation':
      return aggregationExpression(feature);
  }
}

function transformExpression(f: TransformFeature): string {
  switch (f.expr) {
    case 'log1p':
      // DuckDB's ln() raises on 0 and negatives: NULL instead.
      return `CASE WHEN ${asDouble(f.column)} > -1 THEN ln(1 + ${asDouble(f.column)}) END`;
    case 'clip': {
      // greatest/least skip NULLs in DuckDB, so keep NULL explicitly.
      let value = asDouble(f.column);
      if (f.min !== undefined) value = `greatest(${value}, ${numberLiteral(f.min)})`;
      if (f.max !== undefined) value = `least(${value}, ${numberLiteral(f.max)})`;
      return `CASE WHEN ${col(f.column)} IS NOT NULL THEN ${value} END`;
    }
    case 'bucketize': {
      const value = asDouble(f.column);
      const arms = f.boundaries.map((b, i) => `WHEN ${value} < ${numberLiteral(b)} THEN ${i}`).join(' ');
      return `CAST(CASE WHEN ${value} IS NULL THEN NULL ${arms} ELSE ${f.boundaries.length} END AS INTEGER)`;
    }
    case 'year':
    case 'month':
    case 'day':
    case 'dayofyear':
    case 'hour':
    case 'minute':
      return `CAST(${f.expr}(${asTimestamp(f.column)}) AS INTEGER)`;
    case 'weekday':
      // ISO day of week is Monday = 1 … Sunday = 7; ours is Monday = 0 … Sunday = 6.
      return `CAST(isodow(${asTimestamp(f.column)}) - 1 AS INTEGER)`;
    case 'is_weekend':
      return `CAST(isodow(${asTimestamp(f.column)}) >= 6 AS INTEGER)`;
    case 'epoch':
      // Seconds since 1970-01-01 00:00 as DOUBLE (microseconds kept as the fraction).
      return `epoch(${asTimestamp(f.column)})`;
    case 'poly':
      return `pow(${asDouble(f.column)}, ${f.degree})`;
    case 'interaction':
      return `${asDouble(f.columns[0])} * ${asDouble(f.columns[1])}`;
    case 'ratio':
      // DuckDB gives ±Infinity for x / 0.0: NULL instead.
      return `${asDouble(f.columns[0])} / NULLIF(${asDouble(f.columns[1])}, 0)`;
  }
}

function aggregationExpression(f: AggregationFeature): string {
  const over = `OVER ${windowName(f.windowSeconds)}`;
  const c = f.column === undefined ? undefined : col(f.column);
  switch (f.agg) {
    case 'count':
      return `count(${c ?? '*'}) ${over}`;
    case 'distinct_count':
      return `count(DISTINCT ${c}) ${over}`;
    case 'sum':
      // sum of BIGINT is HUGEINT in DuckDB: one numeric type for all sums.
      return `CAST(sum(${c}) ${over} AS DOUBLE)`;
    case 'mean':
      return `avg(${asDouble(f.column!)}) ${over}`;
    case 'min':
      return `min(${c}) ${over}`;
    case 'max':
      return `max(${c}) ${over}`;
    case 'std':
      return `stddev_samp(${asDouble(f.column!)}) ${over}`;
  }
}

export interface FeatureColumn {
  name: string;
  /**
   * DuckDB type of the output column. `null` when it is the source column's
   * own type (passthrough, min, max) and no `columns` were given to tell it.
   */
  type: string | null;
}

/**
 * The feature columns `featureViewSql` produces, in order (join keys and
 * `event_timestamp` not included). Pass the source's column types to resolve
 * passthrough/min/max types.
 */
export function featureColumns(view: FeatureViewSpec, columns?: Record<string, ColumnType>): FeatureColumn[] {
  const sourceType = (column: string): string | null => {
    const type = columns?.[column];
    return type === undefined ? null : storageType[type];
  };
  return view.features.map((f) => ({ name: f.name, type: featureType(f, sourceType) }));
}

function featureType(f: FeatureSpec, sourceType: (column: string) => string | null): string | null {
  switch (f.kind) {
    case 'passthrough':
      return sourceType(f.column);
    case 'transform':
      switch (f.expr) {
        case 'bucketize':
        case 'year':
        case 'month':
        case 'day':
        case 'weekday':
        case 'dayofyear':
        case 'hour':
        case 'minute':
        case 'is_weekend':
          return 'INTEGER';
        default:
          return 'DOUBLE';
      }
    case 'aggregation':
      switch (f.agg) {
        case 'count':
        case 'distinct_count':
          return 'BIGINT';
        case 'min':
        case 'max':
          return sourceType(f.column!);
        default:
          return 'DOUBLE';
      }
  }
}
