import type { ColumnReport, ColumnType } from '@mlp/data';
import type { Duck } from './duck';
import { ident, literal } from './sql';

const TOP = 10;
const BINS = 10;
/** Below this many rows `count(DISTINCT)` is cheap: every distinct count is exact. */
export const EXACT_DISTINCT_ROWS = 200_000;
/** Columns with at most this many (estimated) values are counted value by value: exact distinct and top values. */
const VALUE_MAP_LIMIT = 2_000;

export interface StatsColumn {
  name: string;
  type: ColumnType;
}

export interface StatsOptions {
  /**
   * Columns known to hold no repeated non-null value (a declared-unique column
   * after its duplicates were quarantined): their distinct count is their count.
   */
  uniqueColumns?: readonly string[];
  /**
   * Columns with a short declared list of values (declared categories,
   * booleans): counted value by value in the main pass, with no estimate first.
   */
  fewValueColumns?: readonly string[];
  /**
   * Facts already known about the table, e.g. the Parquet writer's statistics
   * of the file just written (`COPY … RETURN_STATS`, see `parquetWriteStats`).
   * When every numeric column has finite bounds, the statistics take one
   * aggregate pass instead of two.
   */
  known?: KnownFacts;
}

/** Row count, and per column the non-null count and the bounds as DuckDB prints them. */
export interface KnownFacts {
  rows: number;
  columns: Record<string, { count: number; min?: string; max?: string; hasNan?: boolean }>;
}

/**
 * The facts of the one file a `COPY … TO … (FORMAT PARQUET, RETURN_STATS)`
 * wrote, from its answer row. Float bounds include ±Infinity and NaN is only
 * flagged: `columnStats` uses finite, NaN-free bounds only.
 */
export function parquetWriteStats(row: { count: unknown; column_statistics: unknown }): KnownFacts {
  const columns: KnownFacts['columns'] = {};
  const rows = Number(row.count);
  for (const { key, value } of row.column_statistics as { key: string; value: { key: string; value: string }[] }[]) {
    const facts = Object.fromEntries(value.map((e) => [e.key, e.value]));
    // Keys are identifiers as DuckDB quotes them: "name", with "" for a quote.
    const name = key.startsWith('"') ? key.slice(1, -1).replace(/""/g, '"') : key;
    columns[name] = { count: rows - Number(facts.null_count ?? 0), min: facts.min, max: facts.max, hasNan: facts.has_nan === 'true' };
  }
  return { rows, columns };
}

const isNumeric = (t: ColumnType) => t === 'int' || t === 'float';
const isTemporal = (t: ColumnType) => t === 'date' || t === 'datetime';

/** SQL: the value when it is a finite number, else NULL (NaN and ±Infinity are not statistics material). */
export function finiteOrNull(expr: string): string {
  return `CASE WHEN isfinite(${expr}) THEN ${expr} END`;
}

/** SQL: count of the non-finite values (NaN, ±Infinity) of a DOUBLE expression. */
export function nonFiniteCount(expr: string): string {
  return `count(*) FILTER (WHERE NOT isfinite(${expr}))`;
}

/** Summary of the finite values of one numeric column; every figure is finite (JSON-safe). */
export interface FiniteSummary {
  /** Finite values. */
  count: number;
  /** NaN and ±Infinity values, left out of every other figure. */
  nonFinite: number;
  min?: number;
  max?: number;
  mean?: number;
  /** Sample standard deviation (0 for one value). */
  std?: number;
}

/**
 * Count, min, max, mean and standard deviation of the finite values of numeric
 * columns, in two aggregate passes, safe for NaN, ±Infinity and values near
 * ±1.8e308 (DuckDB's `stddev_samp` raises "out of range" on any of them, and
 * `avg` overflows to Infinity). For callers that need no histogram.
 */
export async function finiteSummaries(duck: Duck, table: string, columns: readonly string[]): Promise<Record<string, FiniteSummary>> {
  if (columns.length === 0) return {};
  const parts = columns.flatMap((name, i) => {
    const c = `${ident(name)}::DOUBLE`;
    return [`count(${finiteOrNull(c)}) AS n${i}`, `${nonFiniteCount(c)} AS nf${i}`, `min(${finiteOrNull(c)}) AS mn${i}`, `max(${finiteOrNull(c)}) AS mx${i}`];
  });
  const agg = await duck.one<Record<string, unknown>>(`SELECT ${parts.join(', ')} FROM ${table}`);
  const out: Record<string, FiniteSummary> = {};
  const moments: string[] = [];
  const scales: number[] = [];
  columns.forEach((name, i) => {
    const count = Number(agg[`n${i}`]);
    out[name] = { count, nonFinite: Number(agg[`nf${i}`]) };
    if (count === 0) return;
    const min = Number(agg[`mn${i}`]);
    const max = Number(agg[`mx${i}`]);
    Object.assign(out[name], { min, max });
    scales[i] = momentScale(min, max);
    moments.push(...momentSql(`${ident(name)}::DOUBLE`, scales[i], i));
  });
  if (moments.length === 0) return out;
  const m = await duck.one<Record<string, unknown>>(`SELECT ${moments.join(', ')} FROM ${table}`);
  columns.forEach((name, i) => {
    if (out[name].count > 0) Object.assign(out[name], readMoments(m, scales[i], i));
  });
  return out;
}

/**
 * A power of two that brings the largest magnitude near 2^100, so sums of
 * squares cannot overflow; 1 for ordinary data (no change to any figure).
 * Scaling by a power of two is exact.
 */
function momentScale(min: number, max: number): number {
  const top = Math.max(Math.abs(min), Math.abs(max));
  if (top <= 2 ** 500) return 1;
  return 2 ** -(Math.ceil(Math.log2(top)) - 100);
}

function momentSql(c: string, scale: number, i: number, allFinite = false): string[] {
  const x = scale === 1 ? c : `(${c} * ${literal(scale)})`;
  const v = allFinite ? x : finiteOrNull(x);
  return [`avg(${v}) AS av${i}`, `stddev_samp(${v}) AS sd${i}`];
}

function readMoments(row: Record<string, unknown>, scale: number, i: number): { mean: number; std: number } {
  const mean = Number(row[`av${i}`]) / scale;
  const sd = row[`sd${i}`] === null ? 0 : Number(row[`sd${i}`]) / scale;
  // A spread wider than the largest double (values near ±1.8e308 of both signs) is reported as that largest double.
  return { mean, std: Number.isFinite(sd) ? sd : Number.MAX_VALUE };
}

/**
 * Per-column statistics of a table (the accepted rows): count, missing,
 * distinct, min/max/mean/std, quantiles and a 10-bin histogram for numbers,
 * top values for everything else.
 *
 * - Non-finite floats (NaN, ±Infinity) are counted in `nonFinite` and left out
 *   of min, max, mean, std, quantiles and the histogram.
 * - `distinct` is exact for declared-unique columns (`uniqueColumns`), for
 *   tables of at most EXACT_DISTINCT_ROWS rows, and for columns whose values
 *   are counted anyway (few values, or top values); otherwise it is DuckDB's
 *   HyperLogLog estimate, flagged `distinctApproximate: true`.
 * - Quantiles are exact on tables of at most EXACT_DISTINCT_ROWS rows, else a
 *   t-digest estimate flagged `quantilesApproximate: true`; counts (rows,
 *   missing, histogram, top values) are always exact.
 *
 * Passes: one for counts and bounds (none when `known` gives them), one for
 * distinct counts, moments, quantiles, histograms and value counts, then at
 * most one for the value counts of columns found to have few values and a
 * top-values query per high-cardinality text column.
 */
export async function columnStats(
  duck: Duck,
  table: string,
  columns: StatsColumn[],
  options: StatsOptions = {},
): Promise<{ rows: number; columns: ColumnReport[] }> {
  const unique = new Set(options.uniqueColumns ?? []);
  const fewValues = new Set(options.fewValueColumns ?? []);
  const known = usableFacts(options.known, columns);
  const rows = known ? known.rows : Number((await duck.one<{ n: string }>(`SELECT count(*) AS n FROM ${table}`)).n);
  const exact = rows <= EXACT_DISTINCT_ROWS;
  const distinctSql = (c: string) => (exact ? `count(DISTINCT ${c})` : `approx_count_distinct(${c})`);
  // Counts by value give the exact distinct count: no estimate for columns counted that way.
  const needsDistinct = (col: StatsColumn) => !unique.has(col.name) && !fewValues.has(col.name);

  // Pass 1: counts, bounds and distinct estimates (from `known` instead when it has them).
  let agg: Record<string, unknown>;
  if (known) {
    agg = {};
    columns.forEach((col, i) => {
      const facts = known.columns[col.name];
      Object.assign(agg, { [`n${i}`]: facts.count, [`mn${i}`]: facts.min ?? null, [`mx${i}`]: facts.max ?? null, [`nf${i}`]: 0 });
    });
  } else {
    const parts = ['count(*) AS "rows"'];
    columns.forEach((col, i) => {
      const c = ident(col.name);
      parts.push(`count(${c}) AS n${i}`);
      if (needsDistinct(col)) parts.push(`${distinctSql(c)} AS d${i}`);
      if (isNumeric(col.type)) {
        const v = col.type === 'float' ? finiteOrNull(c) : c;
        parts.push(`min(${v})::DOUBLE AS mn${i}`, `max(${v})::DOUBLE AS mx${i}`);
        if (col.type === 'float') parts.push(`${nonFiniteCount(c)} AS nf${i}`);
      } else if (isTemporal(col.type)) {
        parts.push(`CAST(min(${c}) AS VARCHAR) AS mn${i}`, `CAST(max(${c}) AS VARCHAR) AS mx${i}`);
      }
    });
    agg = await duck.one<Record<string, unknown>>(`SELECT ${parts.join(', ')} FROM ${table}`);
  }

  // Pass 2: everything that needs the bounds, value counts, and the distinct counts pass 1 left out.
  const reports: ColumnReport[] = [];
  const second: string[] = [];
  const valueCounts = new Set<number>();
  const exactInts = new Set<number>();
  const afterSecond: (() => void)[] = [];
  let row2: Record<string, unknown> = {};
  for (const [i, col] of columns.entries()) {
    const c = ident(col.name);
    const count = Number(agg[`n${i}`]);
    const report: ColumnReport = {
      name: col.name,
      type: col.type,
      count,
      missing: rows - count,
      missingFraction: rows === 0 ? 0 : (rows - count) / rows,
      distinct: unique.has(col.name) ? count : Number(agg[`d${i}`] ?? 0),
    };
    reports.push(report);
    if (col.type === 'float') report.nonFinite = Number(agg[`nf${i}`]);
    const finite = count - (report.nonFinite ?? 0);
    const smallRange = col.type === 'int' && count > 0 && intRange(agg[`mn${i}`], agg[`mx${i}`]) < VALUE_MAP_LIMIT;
    if (smallRange) {
      // Ints over a short range: their value counts give every figure exactly (distinct, moments, quantiles, histogram).
      second.push(`histogram(${c}) AS v${i}`);
      exactInts.add(i);
      afterSecond.push(() => Object.assign(report, intFigures(row2[`v${i}`] as { key: unknown; value: string }[])));
    } else if (isNumeric(col.type) && finite > 0) {
      // + 0 turns -0 into 0 (JSON writes both as 0).
      const min = Number(agg[`mn${i}`]) + 0;
      const max = Number(agg[`mx${i}`]) + 0;
      const scale = momentScale(min, max);
      const d = `${c}::DOUBLE`;
      // Without non-finite values (ints, and floats known to hold none) the guard would only cost time.
      const allFinite = finite === count;
      const v = allFinite ? d : finiteOrNull(d);
      const bins = histogramBins(min, max);
      // Exact (linear interpolation, as numpy) where cheap; a t-digest estimate on large tables, flagged.
      second.push(...momentSql(d, scale, i, allFinite), `${exact ? 'quantile_cont' : 'approx_quantile'}(${v}, [0.01, 0.25, 0.5, 0.75, 0.99]) AS q${i}`);
      if (!exact) report.quantilesApproximate = true;
      if (bins.width > 0) second.push(`histogram(${bins.sql(v)})${allFinite ? '' : ` FILTER (WHERE isfinite(${d}))`} AS h${i}`);
      afterSecond.push(() => {
        const [p01, p25, p50, p75, p99] = (row2[`q${i}`] as number[]).map(Number);
        const counts = new Array<number>(BINS).fill(0);
        if (bins.width === 0) counts[0] = finite;
        else for (const e of row2[`h${i}`] as { key: number; value: string }[]) counts[Number(e.key)] = Number(e.value);
        Object.assign(report, { min, max, ...readMoments(row2, scale, i), quantiles: { p01, p25, p50, p75, p99 }, histogram: { edges: bins.edges, counts } });
      });
    } else if (isTemporal(col.type) && count > 0) {
      Object.assign(report, { min: String(agg[`mn${i}`]), max: String(agg[`mx${i}`]) });
    }
    if (smallRange) continue;
    if (needsDistinct(col) && agg[`d${i}`] === undefined) second.push(`${distinctSql(c)} AS d${i}`);
    // Few values: count each one (exact distinct, and the top values when wanted).
    const estimatedFew = !exact && needsDistinct(col) && agg[`d${i}`] !== undefined && report.distinct <= VALUE_MAP_LIMIT;
    if (count > 0 && (fewValues.has(col.name) || estimatedFew)) {
      second.push(`histogram(${c}) AS v${i}`);
      valueCounts.add(i);
    }
  }
  if (second.length > 0) row2 = await duck.one<Record<string, unknown>>(`SELECT ${second.join(', ')} FROM ${table}`);
  for (const finish of afterSecond) finish();

  // Pass 3 (only for distinct counts estimated in pass 2): value counts of the columns with few values.
  const third: string[] = [];
  columns.forEach((col, i) => {
    if (row2[`d${i}`] === undefined) return;
    reports[i].distinct = Number(row2[`d${i}`]);
    if (!exact && reports[i].count > 0 && reports[i].distinct <= VALUE_MAP_LIMIT) {
      third.push(`histogram(${ident(col.name)}) AS v${i}`);
      valueCounts.add(i);
    }
  });
  const row3 = third.length > 0 ? await duck.one<Record<string, unknown>>(`SELECT ${third.join(', ')} FROM ${table}`) : {};

  for (const [i, col] of columns.entries()) {
    const report = reports[i];
    const c = ident(col.name);
    // Top values describe categorical data; for near-unique columns (ids, timestamps) they say nothing.
    const nearUnique = report.distinct > 1000 && report.distinct > report.count / 2;
    const wantsTop = !isNumeric(col.type) && !isTemporal(col.type) && !nearUnique && report.count > 0;
    if (valueCounts.has(i)) {
      const counted = (row3[`v${i}`] ?? row2[`v${i}`]) as { key: unknown; value: string }[];
      const values = counted.map((e) => ({ value: String(e.key), count: Number(e.value) }));
      report.distinct = values.length;
      if (wantsTop) report.topValues = topOf(values);
    } else if (wantsTop) {
      const top = await duck.all<{ value: string; count: string; groups: string }>(
        `SELECT CAST(${c} AS VARCHAR) AS value, count(*) AS count, count(*) OVER () AS groups FROM ${table} WHERE ${c} IS NOT NULL GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT ${TOP}`,
      );
      report.topValues = top.map((t) => ({ value: t.value, count: Number(t.count) }));
      // Every group was counted: the distinct count is exact now.
      if (top.length > 0) report.distinct = Number(top[0].groups);
    } else if (!exact && needsDistinct(col) && report.count > 0 && !exactInts.has(i)) {
      report.distinctApproximate = true;
    }
  }
  return { rows, columns: reports };
}

/** max - min of two BIGINT bounds (as DuckDB returns them), or Infinity when either is missing or beyond 2^53. */
function intRange(min: unknown, max: unknown): number {
  const lo = Number(min);
  const hi = Number(max);
  if (min === null || max === null || min === undefined || max === undefined) return Infinity;
  if (!Number.isSafeInteger(lo) || !Number.isSafeInteger(hi)) return Infinity;
  return hi - lo;
}

/**
 * Every figure of an int column from its value counts, exactly: distinct,
 * min/max, mean and sample standard deviation, quantiles interpolated as
 * `quantile_cont` (numpy's linear), and the 10-bin histogram.
 */
function intFigures(counted: { key: unknown; value: string }[]): Partial<ColumnReport> {
  const values = counted.map((e) => ({ v: Number(e.key), n: Number(e.value) })).sort((a, b) => a.v - b.v);
  const total = values.reduce((sum, e) => sum + e.n, 0);
  const min = values[0].v + 0;
  const max = values[values.length - 1].v + 0;
  // Deviations from min first: exact sums for any values in the safe-integer range.
  const mean = min + values.reduce((sum, e) => sum + e.n * (e.v - min), 0) / total;
  const squares = values.reduce((sum, e) => sum + e.n * (e.v - mean) ** 2, 0);
  const std = total > 1 ? Math.sqrt(squares / (total - 1)) : 0;
  const at = (index: number) => {
    let seen = 0;
    for (const e of values) {
      seen += e.n;
      if (index < seen) return e.v;
    }
    return max;
  };
  const quantile = (p: number) => {
    const h = (total - 1) * p;
    const lo = Math.floor(h);
    const a = at(lo);
    return a + (h - lo) * (at(Math.min(lo + 1, total - 1)) - a);
  };
  const [p01, p25, p50, p75, p99] = [0.01, 0.25, 0.5, 0.75, 0.99].map(quantile);
  const bins = histogramBins(min, max);
  const counts = new Array<number>(BINS).fill(0);
  for (const e of values) counts[bins.width === 0 ? 0 : Math.min(Math.floor((e.v - min) / bins.width), BINS - 1)] += e.n;
  return { distinct: values.length, min, max, mean, std, quantiles: { p01, p25, p50, p75, p99 }, histogram: { edges: bins.edges, counts } };
}

/**
 * `known` when it covers every column and gives finite, NaN-free bounds for
 * every numeric column (then no float holds a non-finite value); else null.
 */
function usableFacts(known: KnownFacts | undefined, columns: StatsColumn[]): KnownFacts | null {
  if (!known) return null;
  for (const col of columns) {
    const facts = known.columns[col.name];
    if (!facts) return null;
    if (facts.count === 0) continue;
    if (isNumeric(col.type) && (facts.hasNan || !Number.isFinite(Number(facts.min)) || !Number.isFinite(Number(facts.max)))) return null;
    if (isTemporal(col.type) && (facts.min === undefined || facts.max === undefined)) return null;
  }
  return known;
}

/** Most frequent first; ties by value in byte order (as DuckDB's ORDER BY on VARCHAR). */
function topOf(values: { value: string; count: number }[]): { value: string; count: number }[] {
  return [...values].sort((a, b) => b.count - a.count || Buffer.compare(Buffer.from(a.value), Buffer.from(b.value))).slice(0, TOP);
}

/**
 * Equal-width bins over [min, max]; the last bin includes max. Ranges wider
 * than the largest double are binned on halved values (exact), so the bin
 * arithmetic never overflows.
 */
function histogramBins(min: number, max: number): { width: number; edges: number[]; sql: (x: string) => string } {
  const wide = !Number.isFinite(max - min);
  const width = wide ? max / BINS - min / BINS : (max - min) / BINS;
  const edges = Array.from({ length: BINS + 1 }, (_, i) => (i === BINS ? max : min + i * width));
  const sql = wide
    ? (x: string) => `least(floor((${x} * 0.5 - ${literal(min * 0.5)}) / ${literal(width * 0.5)}), ${BINS - 1})::INTEGER`
    : (x: string) => `least(floor((${x} - ${literal(min)}) / ${literal(width)}), ${BINS - 1})::INTEGER`;
  return { width, edges, sql };
}
