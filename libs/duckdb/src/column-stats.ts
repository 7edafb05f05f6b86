import type { ColumnReport, ColumnType } from '@mlp/data';
import type { Duck } from './duck';
import { ident } from './sql';

const TOP = 10;
const BINS = 10;

export interface StatsColumn {
  name: string;
  type: ColumnType;
}

const isNumeric = (t: ColumnType) => t === 'int' || t === 'float';
const isTemporal = (t: ColumnType) => t === 'date' || t === 'datetime';

/**
 * Per-column statistics of a table (the accepted rows): count, missing,
 * distinct, min/max/mean/std, quantiles and a 10-bin histogram for numbers,
 * top values for everything else.
 */
export async function columnStats(duck: Duck, table: string, columns: StatsColumn[]): Promise<{ rows: number; columns: ColumnReport[] }> {
  const parts = ['count(*) AS "rows"'];
  columns.forEach((col, i) => {
    const c = ident(col.name);
    parts.push(`count(${c}) AS n${i}`, `approx_count_distinct(${c}) AS d${i}`);
    if (isNumeric(col.type)) {
      parts.push(
        `min(${c})::DOUBLE AS mn${i}`,
        `max(${c})::DOUBLE AS mx${i}`,
        `avg(${c})::DOUBLE AS av${i}`,
        `stddev_samp(${c})::DOUBLE AS sd${i}`,
        `approx_quantile(${c}::DOUBLE, [0.01, 0.25, 0.5, 0.75, 0.99]) AS q${i}`,
      );
    } else if (isTemporal(col.type)) {
      parts.push(`CAST(min(${c}) AS VARCHAR) AS mn${i}`, `CAST(max(${c}) AS VARCHAR) AS mx${i}`);
    }
  });
  const agg = await duck.one<Record<string, unknown>>(`SELECT ${parts.join(', ')} FROM ${table}`);
  const rows = Number(agg.rows);
  const reports: ColumnReport[] = [];
  for (const [i, col] of columns.entries()) {
    const c = ident(col.name);
    const count = Number(agg[`n${i}`]);
    const report: ColumnReport = {
      name: col.name,
      type: col.type,
      count,
      missing: rows - count,
      missingFraction: rows === 0 ? 0 : (rows - count) / rows,
      distinct: Number(agg[`d${i}`]),
    };
    if (isNumeric(col.type) && count > 0) {
      const [p01, p25, p50, p75, p99] = (agg[`q${i}`] as number[]).map(Number);
      const min = Number(agg[`mn${i}`]);
      const max = Number(agg[`mx${i}`]);
      Object.assign(report, {
        min,
        max,
        mean: Number(agg[`av${i}`]),
        std: agg[`sd${i}`] === null ? 0 : Number(agg[`sd${i}`]),
        quantiles: { p01, p25, p50, p75, p99 },
        histogram: await histogram(duck, table, c, min, max),
      });
    } else if (isTemporal(col.type) && count > 0) {
      Object.assign(report, { min: String(agg[`mn${i}`]), max: String(agg[`mx${i}`]) });
    }
    // Top values describe categorical data; for near-unique columns (ids, timestamps) they say nothing.
    const nearUnique = report.distinct > 1000 && report.distinct > count / 2;
    if (!isNumeric(col.type) && !isTemporal(col.type) && !nearUnique && count > 0) {
      const top = await duck.all<{ value: string; count: string }>(
        `SELECT CAST(${c} AS VARCHAR) AS value, count(*) AS count FROM ${table} WHERE ${c} IS NOT NULL GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT ${TOP}`,
      );
      report.topValues = top.map((t) => ({ value: t.value, count: Number(t.count) }));
    }
    reports.push(report);
  }
  return { rows, columns: reports };
}

/** Equal-width bins over [min, max]; the last bin includes max. */
async function histogram(duck: Duck, table: string, c: string, min: number, max: number): Promise<{ edges: number[]; counts: number[] }> {
  const width = (max - min) / BINS;
  const edges = Array.from({ length: BINS + 1 }, (_, i) => (i === BINS ? max : min + i * width));
  const counts = new Array<number>(BINS).fill(0);
  if (width === 0) {
    counts[0] = Number((await duck.one<{ n: string }>(`SELECT count(${c}) AS n FROM ${table}`)).n);
    return { edges, counts };
  }
  const rows = await duck.all<{ b: number; n: string }>(
    `SELECT least(floor((${c}::DOUBLE - ${min}) / ${width}), ${BINS - 1})::INTEGER AS b, count(*) AS n FROM ${table} WHERE ${c} IS NOT NULL GROUP BY 1`,
  );
  for (const r of rows) counts[Number(r.b)] = Number(r.n);
  return { edges, counts };
}
