import { createWriteStream } from 'node:fs';
import { Transform } from 'node:stream';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { createHash } from 'node:crypto';
import type { ArtifactStore } from '@mlp/artifacts';
import { ValidationError } from '@mlp/contracts';
import { ident, literal, openDuck } from '@mlp/duckdb';
import type { Cell, Frame, InputColumnType } from '@mlp/ml';

export interface LoadedFrame {
  frame: Frame;
  types: Record<string, InputColumnType>;
  rows: number;
  sha256: string;
}

const NUMERIC = /^(TINYINT|SMALLINT|INTEGER|BIGINT|HUGEINT|UTINYINT|USMALLINT|UINTEGER|UBIGINT|FLOAT|DOUBLE|REAL|DECIMAL.*)$/;
const TEMPORAL = /^(DATE|TIMESTAMP.*|TIME)$/;

/**
 * Reads a Parquet artifact into a column-oriented frame: numbers as numbers,
 * dates and timestamps as epoch milliseconds (typed `datetime`), booleans as
 * booleans, everything else as strings. The bytes are hashed on the way, and
 * a sha256 other than `expectedSha256` (a replay's recorded input) is an error.
 */
export async function loadParquetFrame(artifacts: ArtifactStore, key: string, expectedSha256?: string): Promise<LoadedFrame> {
  const dir = await mkdtemp(join(tmpdir(), 'mlp-train-'));
  const duck = await openDuck(join(dir, 'duck'));
  try {
    const path = join(dir, 'data.parquet');
    const hash = createHash('sha256');
    const hashing = new Transform({
      transform(chunk: Buffer, _enc, done) {
        hash.update(chunk);
        done(null, chunk);
      },
    });
    await pipeline(await artifacts.get(key), hashing, createWriteStream(path));
    const sha256 = hash.digest('hex');
    if (expectedSha256 && sha256 !== expectedSha256) {
      throw new ValidationError(`input ${key} has sha256 ${sha256}, but the run recorded ${expectedSha256}`, [{ path: 'data', message: 'input changed since the run' }]);
    }
    const columns = await duck.all<{ column_name: string; column_type: string }>(`DESCRIBE SELECT * FROM read_parquet(${literal(path)})`);
    const types: Record<string, InputColumnType> = {};
    const select = columns.map(({ column_name: c, column_type: t }) => {
      if (NUMERIC.test(t)) {
        types[c] = 'numeric';
        return `CAST(${ident(c)} AS DOUBLE) AS ${ident(c)}`;
      }
      if (TEMPORAL.test(t) && t !== 'TIME') {
        types[c] = 'datetime';
        return `CAST(epoch_ms(CAST(${ident(c)} AS TIMESTAMP)) AS DOUBLE) AS ${ident(c)}`;
      }
      types[c] = 'categorical';
      return t === 'BOOLEAN' ? ident(c) : `CAST(${ident(c)} AS VARCHAR) AS ${ident(c)}`;
    });
    const rows = await duck.all<Record<string, Cell>>(`SELECT ${select.join(', ')} FROM read_parquet(${literal(path)})`);
    const frame: Frame = {};
    for (const { column_name: c } of columns) frame[c] = rows.map((r) => normalize(r[c]));
    return { frame, types, rows: rows.length, sha256 };
  } finally {
    duck.close();
    await rm(dir, { recursive: true, force: true });
  }
}

function normalize(v: unknown): Cell {
  if (v === null || v === undefined) return null;
  if (typeof v === 'number' || typeof v === 'boolean' || typeof v === 'string') return v;
  return String(v);
}
