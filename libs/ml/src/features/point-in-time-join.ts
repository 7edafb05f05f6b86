import { FieldIssue, ValidationError } from '@mlp/contracts';
import { eventTimestampColumn } from './feature-view-spec';
import { ident } from '@mlp/data';
import { identifierPattern, microsecondsInterval } from './sql';

export interface HistoricalJoinView {
  /** Prefix of the output columns: `<name>__<feature>`. */
  name: string;
  /** Columns present in both the entity table and the feature table. */
  joinKeys: string[];
  /** The view's feature table (output of `featureViewSql`), inserted verbatim as a relation. */
  table: string;
  features: string[];
  /** Feature rows older than this (entity ts - feature ts > ttl) give NULL. */
  ttlSeconds?: number;
}

export interface HistoricalJoinOptions {
  /** Entity rows (e.g. labels), inserted verbatim as a relation. */
  entityTable: string;
  /** Column of the entity table holding each row's point in time (cast to TIMESTAMP). */
  entityTimestamp: string;
  views: HistoricalJoinView[];
}

const entityCte = '__mlp_entity';
const entityTs = '__mlp_entity_ts';
const entityRow = '__mlp_entity_row';

/**
 * Point-in-time join: every entity row with, per view, the features of the
 * latest feature row of the same entity at or before the entity row's time
 * (`feature.event_timestamp <= entity ts`, a LEFT ASOF JOIN on the join
 * keys). A feature row at exactly the entity's time is visible; one after it
 * never is. Features are NULL when the entity has no earlier feature row, or
 * when the latest one is older than the view's TTL (entity ts - feature ts >
 * ttl; exactly ttl old is still served).
 *
 * Output: all entity columns, then `<view>__<feature>` per requested feature,
 * in the entity table's row order (numbered with `row_number() OVER ()`, which
 * follows scan order while DuckDB preserves insertion order, its default).
 * An entity column named like an output column would be duplicated. Entity rows with a NULL timestamp or join
 * key get NULL features. When a feature table has several rows for one entity
 * at the same timestamp, one of them is used (their window aggregates are
 * equal: RANGE frames make them peers; row-level features may differ).
 *
 * Window aggregates are as of the feature row's time, not the entity's: a 7d
 * mean computed at t1 is served for entity times after t1 until a newer row
 * (or the TTL) replaces it.
 */
export function historicalJoinSql(opts: HistoricalJoinOptions): string {
  validate(opts);
  const select = [`e.* EXCLUDE (${entityTs}, ${entityRow})`];
  const joins: string[] = [];
  opts.views.forEach((view, i) => {
    const alias = `f${i}`;
    const fresh =
      view.ttlSeconds === undefined ? undefined : `${alias}.${ident(eventTimestampColumn)} >= e.${entityTs} - ${microsecondsInterval(view.ttlSeconds * 1_000_000)}`;
    for (const feature of view.features) {
      const value = `${alias}.${ident(feature)}`;
      select.push(`${fresh ? `CASE WHEN ${fresh} THEN ${value} END` : value} AS ${ident(`${view.name}__${feature}`)}`);
    }
    const keys = view.joinKeys.map(ident);
    const columns = [...keys, ident(eventTimestampColumn), ...[...new Set(view.features)].map(ident)];
    joins.push(
      [
        `ASOF LEFT JOIN (SELECT ${columns.join(', ')} FROM ${view.table} WHERE ${ident(eventTimestampColumn)} IS NOT NULL) AS ${alias}`,
        `  ON ${[...keys.map((k) => `e.${k} = ${alias}.${k}`), `e.${entityTs} >= ${alias}.${ident(eventTimestampColumn)}`].join(' AND ')}`,
      ].join('\n'),
    );
  });
  return [
    `WITH ${entityCte} AS (`,
    `  SELECT *, CAST(${ident(opts.entityTimestamp)} AS TIMESTAMP) AS ${entityTs}, row_number() OVER () AS ${entityRow}`,
    `  FROM ${opts.entityTable}`,
    ')',
    'SELECT',
    select.map((s) => `  ${s}`).join(',\n'),
    `FROM ${entityCte} AS e`,
    ...joins,
    `ORDER BY e.${entityRow}`,
  ].join('\n');
}

function validate(opts: HistoricalJoinOptions): void {
  const issues: FieldIssue[] = [];
  const identifier = (value: unknown, path: string) => {
    if (typeof value !== 'string' || !identifierPattern.test(value)) issues.push({ path, message: `must be an identifier, received ${JSON.stringify(value)}` });
  };
  if (!opts.entityTable?.trim()) issues.push({ path: 'entityTable', message: 'required' });
  identifier(opts.entityTimestamp, 'entityTimestamp');
  if (opts.views.length === 0) issues.push({ path: 'views', message: 'list at least one view' });
  const outputs = new Map<string, string>();
  opts.views.forEach((view, i) => {
    const at = `views.${i}`;
    identifier(view.name, `${at}.name`);
    if (!view.table?.trim()) issues.push({ path: `${at}.table`, message: 'required' });
    if (view.joinKeys.length === 0) issues.push({ path: `${at}.joinKeys`, message: 'list at least one join key' });
    view.joinKeys.forEach((key, j) => identifier(key, `${at}.joinKeys.${j}`));
    if (view.features.length === 0) issues.push({ path: `${at}.features`, message: 'list at least one feature' });
    view.features.forEach((feature, j) => {
      identifier(feature, `${at}.features.${j}`);
      const output = `${view.name}__${feature}`;
      const earlier = outputs.get(output);
      if (earlier !== undefined) issues.push({ path: `${at}.features.${j}`, message: `output column ${output} is produced twice (also by ${earlier})` });
      outputs.set(output, `${at}.features.${j}`);
    });
    if (view.ttlSeconds !== undefined && !(Number.isInteger(view.ttlSeconds) && view.ttlSeconds > 0)) {
      issues.push({ path: `${at}.ttlSeconds`, message: `must be a positive whole number of seconds, received ${view.ttlSeconds}` });
    }
  });
  if (issues.length > 0) {
    throw new ValidationError(`invalid point-in-time join: ${issues.map((i) => `${i.path}: ${i.message}`).join('; ')}`, issues);
  }
}
