import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { downloadToFile, type ArtifactStore } from '@mlp/artifacts';
import { IllegalStateError, ValidationError } from '@mlp/contracts';
import { finiteOrNull, ident, literal, nonFiniteCount, openDuck, type Duck } from '@mlp/duckdb';
import type { Category, CodedColumn, Frame, InputColumnType, NumericColumn } from '@mlp/ml';

export interface LoadedFrame {
  frame: Frame;
  types: Record<string, InputColumnType>;
  rows: number;
  sha256: string;
  /** NaN and ±Infinity per numeric column (stored as missing in the frame); columns without any are left out. */
  nonFinite: Record<string, number>;
}

const INTEGER = /^(TINYINT|SMALLINT|INTEGER|BIGINT|HUGEINT|UTINYINT|USMALLINT|UINTEGER|UBIGINT|UHUGEINT)$/;
const NUMERIC = /^(TINYINT|SMALLINT|INTEGER|BIGINT|HUGEINT|UTINYINT|USMALLINT|UINTEGER|UBIGINT|UHUGEINT|FLOAT|DOUBLE|REAL|DECIMAL.*)$/;
const TEMPORAL = /^(DATE|TIMESTAMP.*)$/;
/** Largest magnitude a float32 holds. */
const FLOAT32_MAX = 3.4028234663852886e38;
/**
 * A column is kept in float32 when that loses nothing, or when float32's
 * rounding (relative 2^-24) stays below this fraction of the column's
 * range; otherwise (large offsets with a small spread, ids, epoch values,
 * magnitudes beyond float32) in float64.
 */
const FLOAT32_TOLERANCE = 1e-4;

type Plan =
  | { kind: 'numeric'; column: string; select: string; array: 'f32' | 'f64' }
  | { kind: 'datetime'; column: string; select: string }
  | { kind: 'categorical'; column: string; select: string };

/**
 * Reads a Parquet artifact into typed columns, straight from DuckDB's result
 * chunks (never row objects): numbers as a Float32Array each (a Float64Array
 * where float32 would lose the column's information, see FLOAT32_TOLERANCE),
 * dates and timestamps as epoch milliseconds in a Float64Array (typed
 * `datetime`), text and booleans as codes into a dictionary. Missing values,
 * NaN and ±Infinity are NaN (code -1); the non-finite ones are counted. The
 * bytes are streamed to a temp file and hashed on the way, and a sha256
 * other than `expectedSha256` (a replay's recorded input) is a 409 INPUT_CHANGED.
 */
export async function loadParquetFrame(artifacts: ArtifactStore, key: string, expectedSha256?: string): Promise<LoadedFrame> {
  const dir = await mkdtemp(join(tmpdir(), 'mlp-train-'));
  const duck = await openDuck(join(dir, 'duck'));
  try {
    const path = join(dir, 'data.parquet');
    const { sha256 } = await downloadToFile(artifacts, key, path);
    if (expectedSha256 && sha256 !== expectedSha256) {
      throw new IllegalStateError(`input ${key} has sha256 ${sha256}, but the run recorded ${expectedSha256}: the artifact was changed since the run, so it cannot be reproduced from it`, {
        code: 'INPUT_CHANGED',
        details: { key, expected: expectedSha256, actual: sha256 },
      });
    }
    const source = `read_parquet(${literal(path)})`;
    const described = await duck.all<{ column_name: string; column_type: string }>(`DESCRIBE SELECT * FROM ${source}`);
    const { rows, nonFinite, wide } = await profileNumbers(duck, source, described);
    const types: Record<string, InputColumnType> = {};
    const plans: Plan[] = described.map(({ column_name: c, column_type: t }) => {
      if (NUMERIC.test(t)) {
        types[c] = 'numeric';
        return { kind: 'numeric', column: c, select: `CAST(${ident(c)} AS DOUBLE)`, array: t === 'FLOAT' || t === 'REAL' || !wide.has(c) ? 'f32' : 'f64' };
      }
      if (TEMPORAL.test(t)) {
        types[c] = 'datetime';
        return { kind: 'datetime', column: c, select: `CAST(epoch_ms(CAST(${ident(c)} AS TIMESTAMP)) AS DOUBLE)` };
      }
      types[c] = 'categorical';
      return { kind: 'categorical', column: c, select: t === 'BOOLEAN' ? ident(c) : `CAST(${ident(c)} AS VARCHAR)` };
    });
    const frame = await readColumns(duck, source, plans, rows);
    return { frame, types, rows, sha256, nonFinite };
  } finally {
    duck.close();
    await rm(dir, { recursive: true, force: true });
  }
}

/**
 * One aggregate pass: the row count, the non-finite values of each floating
 * column, and which numeric columns need float64 (see FLOAT32_TOLERANCE).
 */
async function profileNumbers(duck: Duck, source: string, described: { column_name: string; column_type: string }[]) {
  const numeric = described.filter((c) => NUMERIC.test(c.column_type));
  const parts = ['count(*) AS "rows"'];
  numeric.forEach(({ column_name: name, column_type: t }, i) => {
    const c = `${ident(name)}::DOUBLE`;
    const finite = finiteOrNull(c);
    parts.push(`min(${finite}) AS mn${i}`, `max(${finite}) AS mx${i}`);
    if (INTEGER.test(t)) parts.push(`0 AS nf${i}`, `0 AS inexact${i}`);
    else parts.push(`${nonFiniteCount(c)} AS nf${i}`, `count(*) FILTER (WHERE isfinite(${c}) AND coalesce(TRY_CAST(${c} AS FLOAT)::DOUBLE <> ${c}, true)) AS inexact${i}`);
  });
  const agg = await duck.one<Record<string, unknown>>(`SELECT ${parts.join(', ')} FROM ${source}`);
  const nonFinite: Record<string, number> = {};
  const wide = new Set<string>();
  numeric.forEach(({ column_name: name, column_type: t }, i) => {
    const nf = Number(agg[`nf${i}`]);
    if (nf > 0) nonFinite[name] = nf;
    if (agg[`mn${i}`] === null || agg[`mn${i}`] === undefined) return;
    const min = Number(agg[`mn${i}`]);
    const max = Number(agg[`mx${i}`]);
    const magnitude = Math.max(Math.abs(min), Math.abs(max));
    const exact = INTEGER.test(t) ? magnitude <= 2 ** 24 : Number(agg[`inexact${i}`]) === 0;
    if (magnitude > FLOAT32_MAX || (!exact && magnitude * 2 ** -24 > FLOAT32_TOLERANCE * (max - min))) wide.add(name);
  });
  return { rows: Number(agg.rows), nonFinite, wide };
}

/** Fills one typed column per plan from the result chunks, in row order. */
async function readColumns(duck: Duck, source: string, plans: Plan[], rows: number): Promise<Frame> {
  const numbers: (NumericColumn | undefined)[] = plans.map((p) => (p.kind === 'categorical' ? undefined : p.kind === 'numeric' && p.array === 'f32' ? new Float32Array(rows) : new Float64Array(rows)));
  const codes: (Int32Array | undefined)[] = plans.map((p) => (p.kind === 'categorical' ? new Int32Array(rows) : undefined));
  const dictionaries: (Map<string | boolean, number> | undefined)[] = plans.map((p) => (p.kind === 'categorical' ? new Map() : undefined));
  if (plans.length > 0) {
    let offset = 0;
    for await (const chunk of duck.chunks(`SELECT ${plans.map((p) => `${p.select} AS ${ident(p.column)}`).join(', ')} FROM ${source}`)) {
      const n = chunk.rowCount;
      if (offset + n > rows) throw new ValidationError(`the data has more rows than the ${rows} it reported`, [{ path: 'data', message: 'row count changed while reading' }]);
      plans.forEach((_, j) => {
        const vector = chunk.getColumnVector(j);
        const out = numbers[j];
        if (out) {
          for (let i = 0; i < n; i++) {
            const v = vector.getItem(i);
            out[offset + i] = typeof v === 'number' && Number.isFinite(v) ? v : Number.NaN;
          }
          return;
        }
        const target = codes[j]!;
        const dictionary = dictionaries[j]!;
        for (let i = 0; i < n; i++) {
          const v = vector.getItem(i);
          if (v === null || v === undefined) {
            target[offset + i] = -1;
            continue;
          }
          const value = typeof v === 'boolean' ? v : String(v);
          let code = dictionary.get(value);
          if (code === undefined) {
            code = dictionary.size;
            dictionary.set(value, code);
          }
          target[offset + i] = code;
        }
      });
      offset += n;
    }
    if (offset !== rows) throw new ValidationError(`read ${offset} rows of the ${rows} the data reported`, [{ path: 'data', message: 'row count changed while reading' }]);
  }
  const frame: Frame = {};
  plans.forEach((p, j) => {
    const column: NumericColumn | CodedColumn = numbers[j] ?? { kind: 'codes', codes: codes[j]!, dictionary: [...dictionaries[j]!.keys()] as Category[] };
    frame[p.column] = column;
  });
  return frame;
}
