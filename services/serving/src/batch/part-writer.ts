import { mkdirSync } from 'node:fs';
import { DuckDBDataChunk, DuckDBInstance, type DuckDBAppender, type DuckDBConnection, type DuckDBType } from '@duckdb/node-api';
import { ident, literal } from '@mlp/duckdb';
import type { BatchStages } from './batch-stages';

/**
 * One column of a chunk's rows, by chunk row (all `n` rows, rejected ones
 * included). Values:
 * - `fixed`: DuckDB's own little-endian values, `width` bytes a row, of the
 *   DuckDB `type` (as read from the input: copied as they are);
 * - `int64`: integers below 2^53 as numbers (BIGINT);
 * - `double`: Float64Array (DOUBLE);
 * - `text`: codes into a dictionary of strings, -1 for null (VARCHAR, or an
 *   ENUM of the dictionary);
 * - `bool`: 0/1 bytes (BOOLEAN).
 * `nulls[r] = 1` marks a null row.
 */
export type PartColumn = { type: string; nulls?: Uint8Array } & (
  | { kind: 'fixed'; width: number; bytes: Uint8Array }
  | { kind: 'int64'; values: ArrayLike<number> }
  | { kind: 'double'; values: Float64Array }
  | { kind: 'text'; codes: Int32Array; dictionary: readonly string[] }
  | { kind: 'bool'; values: Uint8Array }
);

/** A column of a part file: its name, the work-table column it comes from, and its DuckDB type in the file. */
export interface PartField {
  name: string;
  /** Index into the chunk's columns. */
  column: number;
  type: string;
}

/** A part file to write from the chunk: its columns, and whether it holds the rejected rows or the others. */
export interface PartSpec {
  path: string;
  fields: readonly PartField[];
  rejected: boolean;
}

/** The vector internals node-api keeps (a view of the values, the validity mask), written before `flush`. */
interface WritableVector {
  items?: ArrayBufferView;
  dataView?: DataView;
  validity: { data: BigUint64Array | null; setItemValid(i: number, valid: boolean): void };
  setItem(i: number, value: unknown): void;
  flush(): void;
}

/** DuckDB's data chunks hold at most this many rows. */
const VECTOR_ROWS = 2048;

/**
 * Parquet (and CSV) files from typed columns. In a private DuckDB of the job (one thread,
 * spilling to `dir`), a chunk's rows go into a work table through DuckDB's appender (values copied vector by
 * vector into DuckDB's own vectors, no object per row), and each part file
 * is a `COPY (SELECT …)` of it, run on DuckDB's thread: one row group per
 * chunk, every column in its DuckDB type. The final files are DuckDB
 * streaming the parts back in order (read_parquet → COPY).
 */
export class PartWriter {
  private constructor(
    private readonly instance: DuckDBInstance,
    private readonly connection: DuckDBConnection,
    private readonly types: readonly string[],
  ) {}

  /** A writer whose work table has a column per type (`c0`, `c1`, …) and a `rejected` flag. */
  static async open(dir: string, types: readonly string[], memoryLimit = process.env.MLP_BATCH_DUCKDB_MEMORY ?? '256MB'): Promise<PartWriter> {
    mkdirSync(dir, { recursive: true });
    const instance = await DuckDBInstance.create(':memory:', { threads: '1', memory_limit: memoryLimit, temp_directory: dir, preserve_insertion_order: 'true' });
    try {
      const connection = await instance.connect();
      await connection.run(`SET TimeZone = 'UTC'`);
      await connection.run(`CREATE TABLE chunk (${[...types.map((t, j) => `c${j} ${t}`), 'rejected BOOLEAN'].join(', ')})`);
      return new PartWriter(instance, connection, types);
    } catch (err) {
      instance.closeSync();
      throw err;
    }
  }

  /** Writes the chunk's rows into the part files (the rows flagged `rejected` or the others, per part), in chunk order. */
  async write(columns: readonly PartColumn[], n: number, rejected: Uint8Array, parts: readonly PartSpec[], stages?: BatchStages): Promise<void> {
    if (columns.length !== this.types.length) throw new Error(`expected ${this.types.length} columns, got ${columns.length}`);
    let t = performance.now();
    const appender = await this.connection.createAppender('chunk');
    try {
      const types = Array.from({ length: appender.columnCount }, (_, j) => appender.columnType(j));
      for (let from = 0; from < n; from += VECTOR_ROWS) append(appender, types, columns, rejected, from, Math.min(n, from + VECTOR_ROWS));
      stages?.add('append', performance.now() - t);
      t = performance.now();
      appender.flushSync();
    } finally {
      appender.closeSync();
      stages?.add('append flush', performance.now() - t);
    }
    t = performance.now();
    try {
      for (const part of parts) {
        const select = part.fields.map((f) => `${castTo(f.type, this.types[f.column])(`c${f.column}`)} AS ${ident(f.name)}`).join(', ');
        await this.connection.run(
          `COPY (SELECT ${select} FROM chunk WHERE ${part.rejected ? '' : 'NOT '}rejected) TO ${literal(part.path)} (FORMAT parquet, COMPRESSION snappy, ROW_GROUP_SIZE ${Math.max(n, 1)})`,
        );
      }
    } finally {
      await this.connection.run('DELETE FROM chunk');
      stages?.add('copy parts', performance.now() - t);
    }
  }

  /**
   * The parts (Parquet files, in order) as one file: DuckDB reads them one
   * after another and writes Parquet (snappy, row groups of `rowGroupRows`) or
   * CSV, streaming (rows keep their order, nothing is sorted or held). No
   * parts: an empty file that still has `columns`. Answers the row count.
   */
  async assemble(parts: readonly string[], out: string, format: 'parquet' | 'csv', columns: readonly { name: string; type: string }[], rowGroupRows: number): Promise<number> {
    const source = parts.length
      ? `SELECT * FROM read_parquet([${parts.map(literal).join(', ')}])`
      : `SELECT ${columns.map((c) => `CAST(NULL AS ${c.type}) AS ${ident(c.name)}`).join(', ')} LIMIT 0`;
    const options = format === 'parquet' ? `FORMAT parquet, COMPRESSION snappy, ROW_GROUP_SIZE ${Math.max(1, rowGroupRows)}` : `FORMAT csv, HEADER true`;
    const reader = await this.connection.runAndReadAll(`COPY (${source}) TO ${literal(out)} (${options})`);
    return Number(reader.getRowObjectsJson()[0].Count);
  }

  close(): void {
    this.connection.closeSync();
    this.instance.closeSync();
  }
}

/** Text read as VARCHAR is cast back to the input's type in the file (lossless: it is DuckDB's own rendering). */
function castTo(fileType: string, tableType: string): (sql: string) => string {
  return fileType === tableType ? (sql) => sql : (sql) => `CAST(${sql} AS ${fileType})`;
}

/** Rows [from, to) of the chunk as one DuckDB data chunk, appended. */
function append(appender: DuckDBAppender, types: readonly DuckDBType[], columns: readonly PartColumn[], rejected: Uint8Array, from: number, to: number): void {
  const rows = to - from;
  const data = DuckDBDataChunk.create(types, rows);
  columns.forEach((c, j) => fill(data.getColumnVector(j) as unknown as WritableVector, c, from, rows));
  const flag = data.getColumnVector(columns.length) as unknown as WritableVector;
  bytesOf(flag).set(rejected.subarray(from, to));
  flag.flush();
  appender.appendDataChunk(data);
}

function bytesOf(vector: WritableVector): Uint8Array {
  const view = vector.items ?? vector.dataView;
  if (!view) throw new Error('unexpected DuckDB vector layout');
  return new Uint8Array(view.buffer, view.byteOffset, view.byteLength);
}

function fill(vector: WritableVector, c: PartColumn, from: number, rows: number): void {
  switch (c.kind) {
    case 'fixed':
      bytesOf(vector).set(c.bytes.subarray(from * c.width, (from + rows) * c.width));
      break;
    case 'double':
      bytesOf(vector).set(new Uint8Array(c.values.buffer, c.values.byteOffset + from * 8, rows * 8));
      break;
    case 'bool':
      bytesOf(vector).set(c.values.subarray(from, from + rows));
      break;
    case 'int64': {
      // Low and high 32-bit words (little-endian) of each value.
      const bytes = bytesOf(vector);
      const words = new Uint32Array(bytes.buffer, bytes.byteOffset, rows * 2);
      for (let i = 0; i < rows; i++) {
        const v = c.values[from + i];
        words[2 * i] = v >>> 0;
        words[2 * i + 1] = Math.floor(v / 2 ** 32);
      }
      break;
    }
    case 'text': {
      const { codes, dictionary } = c;
      if (c.type.startsWith('ENUM')) {
        // An ENUM of the dictionary: the codes are the values.
        const items = vector.items as Uint8Array | Uint16Array | Uint32Array;
        for (let i = 0; i < rows; i++) items[i] = codes[from + i];
      } else {
        for (let i = 0; i < rows; i++) {
          const code = codes[from + i];
          if (code >= 0) vector.setItem(i, dictionary[code]);
        }
      }
      markNulls(vector, rows, (i) => codes[from + i] < 0);
      break;
    }
  }
  const nulls = c.nulls;
  if (nulls) markNulls(vector, rows, (i) => nulls[from + i] === 1);
  vector.flush();
}

/** Clears the validity bit of the null rows, byte-wise (node-api's setItemValid is a BigInt operation per call). */
function markNulls(vector: WritableVector, rows: number, isNull: (i: number) => boolean): void {
  let bits: Uint8Array | undefined;
  for (let i = 0; i < rows; i++) {
    if (!isNull(i)) continue;
    if (bits === undefined) {
      // The first null allocates the mask (all valid but this row).
      vector.validity.setItemValid(i, false);
      const data = vector.validity.data!;
      bits = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
    }
    bits[i >> 3] &= ~(1 << (i & 7));
  }
}
