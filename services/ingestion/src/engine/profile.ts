import type { ColumnProfile } from '@mlp/data';
import type { Duck } from '@mlp/duckdb';
import type { StagedColumn } from './read-source';
import { ident } from '@mlp/duckdb';

const TOP_VALUES = 50;

/**
 * Facts about every staged column, for schema inference: one aggregate pass
 * over `src` plus one top-values query per column.
 */
export async function profileColumns(duck: Duck, columns: StagedColumn[]): Promise<ColumnProfile[]> {
  if (columns.length === 0) return [];
  const parts: string[] = ['count(*) AS "rows"'];
  columns.forEach((col, i) => {
    const c = ident(col.name);
    const v = col.type === 'VARCHAR' ? `NULLIF(trim(${c}), '')` : c;
    const s = `CAST(${v} AS VARCHAR)`;
    parts.push(
      `count(*) FILTER (WHERE ${v} IS NULL) AS n${i}`,
      `approx_count_distinct(${v}) AS d${i}`,
      `count(*) FILTER (WHERE regexp_full_match(${s}, '[+-]?[0-9]+')) AS ci${i}`,
      `count(TRY_CAST(${s} AS DOUBLE)) AS cf${i}`,
      `count(*) FILTER (WHERE lower(${s}) IN ('true', 'false', 't', 'f', 'yes', 'no', 'y', 'n')) AS cb${i}`,
      `count(*) FILTER (WHERE regexp_full_match(${s}, '[0-9]{4}-[0-9]{2}-[0-9]{2}') AND TRY_CAST(${s} AS DATE) IS NOT NULL) AS cd${i}`,
      `count(TRY_CAST(${s} AS TIMESTAMP)) AS ct${i}`,
      `min(TRY_CAST(${s} AS DOUBLE)) AS mn${i}`,
      `max(TRY_CAST(${s} AS DOUBLE)) AS mx${i}`,
      `max(length(${s})) AS ml${i}`,
    );
  });
  const agg = await duck.one<Record<string, number | string | null>>(`SELECT ${parts.join(', ')} FROM src`);
  const num = (k: string) => Number(agg[k] ?? 0);
  const profiles: ColumnProfile[] = [];
  for (const [i, col] of columns.entries()) {
    const c = ident(col.name);
    const v = col.type === 'VARCHAR' ? `NULLIF(trim(${c}), '')` : c;
    const top = await duck.all<{ value: string; count: string }>(
      `SELECT CAST(${v} AS VARCHAR) AS value, count(*) AS count FROM src WHERE ${v} IS NOT NULL GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT ${TOP_VALUES}`,
    );
    profiles.push({
      name: col.name,
      rows: num('rows'),
      nulls: num(`n${i}`),
      distinct: num(`d${i}`),
      castable: { int: num(`ci${i}`), float: num(`cf${i}`), bool: num(`cb${i}`), date: num(`cd${i}`), datetime: num(`ct${i}`) },
      sourceType: col.type === 'VARCHAR' ? undefined : col.type,
      min: agg[`mn${i}`] === null ? undefined : Number(agg[`mn${i}`]),
      max: agg[`mx${i}`] === null ? undefined : Number(agg[`mx${i}`]),
      maxLength: agg[`ml${i}`] === null ? undefined : Number(agg[`ml${i}`]),
      topValues: top.map((t) => ({ value: t.value, count: Number(t.count) })),
    });
  }
  return profiles;
}
