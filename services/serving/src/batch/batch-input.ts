import { ValidationError, type FieldIssue } from '@mlp/contracts';
import { ident, literal, type Duck } from '@mlp/duckdb';
import type { DuckDBDataChunk } from '@mlp/duckdb';
import type { InputColumnValues } from '../inference/input-columns';
import type { CompiledInput } from '../inference/input-schema';

/** A column of the input file as DuckDB describes it. */
export interface InputColumn {
  name: string;
  type: string;
}

/** How one model input is read: the SQL that selects it, and the form its values take. */
interface ColumnPlan {
  name: string;
  select: string;
  /** DOUBLE read as numbers; BOOLEAN and text read as codes into a dictionary. */
  read: 'numbers' | 'boolean' | 'text';
  /** Text that stands for a number or boolean (CSV cells DuckDB typed as VARCHAR) is converted, as a JSON client would send it. */
  coerce?: 'number' | 'boolean';
}

/**
 * A passthrough column of a chunk: text (codes into a dictionary of strings,
 * -1 for null), or, when read in its own type, the raw little-endian values
 * (`width` bytes a row, as DuckDB holds them) with a null flag per row.
 */
export type PassthroughColumn =
  | { kind: 'text'; codes: Int32Array; dictionary: readonly string[] }
  | { kind: 'fixed'; type: string; width: number; bytes: Uint8Array; nulls: Uint8Array };

/** One chunk of input rows, column by column: the model inputs as numbers or codes, the other columns for the output. */
export interface InputChunk {
  index: number;
  /** 0-based position of the chunk's first row in the input. */
  firstRow: number;
  n: number;
  inputs: InputColumnValues[];
  passthrough: PassthroughColumn[];
}

/** Bytes a row of the types a passthrough column may be read in natively (Parquet output): DuckDB's own layout. */
export const FIXED_WIDTH: Readonly<Record<string, number>> = {
  BOOLEAN: 1,
  TINYINT: 1,
  SMALLINT: 2,
  INTEGER: 4,
  BIGINT: 8,
  UTINYINT: 1,
  USMALLINT: 2,
  UINTEGER: 4,
  FLOAT: 4,
  DOUBLE: 8,
  DATE: 4,
  TIMESTAMP: 8,
};

const NUMERIC = /^(TINYINT|SMALLINT|INTEGER|BIGINT|HUGEINT|UTINYINT|USMALLINT|UINTEGER|UBIGINT|UHUGEINT|FLOAT|DOUBLE|REAL|DECIMAL.*)$/;
const TEMPORAL = /^(DATE|TIMESTAMP.*)$/;

/** The DuckDB table function reading an input file. */
export function inputSource(path: string, format: 'parquet' | 'csv'): string {
  return format === 'parquet' ? `read_parquet(${literal(path)})` : `read_csv(${literal(path)}, header = true)`;
}

export async function describeInput(duck: Duck, source: string): Promise<{ columns: InputColumn[]; rows: number }> {
  const described = await duck.all<{ column_name: string; column_type: string }>(`DESCRIBE SELECT * FROM ${source}`);
  const { rows } = await duck.one<{ rows: number | string }>(`SELECT count(*) AS "rows" FROM ${source}`);
  return { columns: described.map((c) => ({ name: c.column_name, type: c.column_type })), rows: Number(rows) };
}

/** Every model input must be a column of the file: a 400 naming the missing ones (and what the file has). */
export function checkColumns(columns: readonly InputColumn[], inputs: readonly CompiledInput[]): void {
  const have = new Set(columns.map((c) => c.name));
  const issues: FieldIssue[] = inputs
    .filter((i) => !have.has(i.name))
    .map((i) => ({ path: `input.columns.${i.name}`, message: `the model input '${i.name}' (${i.type}) is not a column of the input; it has ${columns.map((c) => c.name).join(', ')}` }));
  if (issues.length) throw new ValidationError(`the input lacks ${issues.length} model input column(s)`, issues, { code: 'INPUT_COLUMNS_MISSING' });
}

function inputPlan(column: InputColumn, input: CompiledInput): ColumnPlan {
  const c = ident(column.name);
  if (NUMERIC.test(column.type)) return { name: column.name, select: `CAST(${c} AS DOUBLE)`, read: 'numbers' };
  if (column.type === 'BOOLEAN') return { name: column.name, select: c, read: 'boolean' };
  if (TEMPORAL.test(column.type) && input.kind === 'temporal') return { name: column.name, select: `CAST(epoch_ms(CAST(${c} AS TIMESTAMP)) AS DOUBLE)`, read: 'numbers' };
  const coerce = input.kind === 'number' || input.kind === 'integer' ? 'number' : input.kind === 'boolean' ? 'boolean' : undefined;
  return { name: column.name, select: `CAST(${c} AS VARCHAR)`, read: 'text', ...(coerce ? { coerce } : {}) };
}

function coerceCell(value: unknown, to: 'number' | 'boolean' | undefined): unknown {
  if (to === undefined || typeof value !== 'string') return value;
  const text = value.trim();
  if (to === 'number') {
    if (text === '') return null;
    const n = Number(text);
    return Number.isNaN(n) && text !== 'NaN' ? value : n;
  }
  const lower = text.toLowerCase();
  return lower === 'true' ? true : lower === 'false' ? false : value;
}

/** A DuckDB vector's values and null flags as views of DuckDB's memory (node-api keeps both; reading them per item costs a BigInt op per row). */
interface RawVector {
  bytes: Uint8Array;
  view: DataView;
  /** Validity bits (bit r of byte r >> 3), or null when every row is valid. */
  validity: Uint8Array | null;
  vector: { getItem(i: number): unknown };
}

function rawVector(chunk: DuckDBDataChunk, column: number): RawVector {
  const vector = chunk.getColumnVector(column) as unknown as { items?: ArrayBufferView; dataView?: DataView; validity?: { data: BigUint64Array | null; offset: number }; getItem(i: number): unknown };
  const data = vector.items ?? vector.dataView;
  if (!data || !vector.validity || vector.validity.offset !== 0) throw new Error(`unexpected DuckDB vector layout for column ${column}`);
  const bits = vector.validity.data;
  return {
    bytes: new Uint8Array(data.buffer, data.byteOffset, data.byteLength),
    view: new DataView(data.buffer, data.byteOffset, data.byteLength),
    validity: bits ? new Uint8Array(bits.buffer, bits.byteOffset, bits.byteLength) : null,
    vector,
  };
}

const decoder = new TextDecoder();
/** 2^48: strings of up to 6 bytes are keyed exactly by a number (their length above their bytes). */
const SHORT_KEY = 2 ** 48;

/**
 * Text cells of one column into codes and a dictionary, over one chunk:
 * each distinct string is decoded once. DuckDB's string_t is 16 bytes: the
 * length, then up to 12 bytes inline (or a prefix and a pointer). Strings
 * of up to 6 bytes are looked up by their bytes, without decoding.
 */
class TextColumn {
  readonly codes: Int32Array;
  readonly dictionary: string[] = [];
  private readonly byKey = new Map<number, number>();
  private readonly byText = new Map<string, number>();

  constructor(capacity: number) {
    this.codes = new Int32Array(capacity);
  }

  add(raw: RawVector, from: number, to: number, at: number): void {
    const { view, validity, bytes } = raw;
    for (let i = from; i < to; i++, at++) {
      if (validity !== null && (validity[i >> 3] & (1 << (i & 7))) === 0) {
        this.codes[at] = -1;
        continue;
      }
      const offset = i * 16;
      const length = view.getUint32(offset, true);
      let code: number | undefined;
      if (length <= 6) {
        // Bytes past the length are masked off: only the string's own bytes make the key.
        const low = length >= 4 ? view.getUint32(offset + 4, true) : view.getUint32(offset + 4, true) & ((1 << (length * 8)) - 1);
        const high = length <= 4 ? 0 : view.getUint16(offset + 8, true) & (length === 5 ? 0xff : 0xffff);
        const key = length * SHORT_KEY + high * 2 ** 32 + (low >>> 0);
        code = this.byKey.get(key);
        if (code === undefined) {
          code = this.intern(decoder.decode(bytes.subarray(offset + 4, offset + 4 + length)));
          this.byKey.set(key, code);
        }
      } else {
        code = this.intern(length <= 12 ? decoder.decode(bytes.subarray(offset + 4, offset + 4 + length)) : (raw.vector.getItem(i) as string));
      }
      this.codes[at] = code;
    }
  }

  private intern(text: string): number {
    let code = this.byText.get(text);
    if (code === undefined) {
      code = this.dictionary.length;
      this.dictionary.push(text);
      this.byText.set(text, code);
    }
    return code;
  }
}

/** A chunk's builders, filled from DuckDB's vectors (about 2048 rows each). */
interface Builders {
  index: number;
  n: number;
  inputs: ({ kind: 'numbers'; values: Float64Array; nulls: Uint8Array } | { kind: 'boolean'; codes: Int32Array } | { kind: 'text'; text: TextColumn })[];
  passthrough: ({ kind: 'text'; text: TextColumn } | { kind: 'fixed'; type: string; width: number; bytes: Uint8Array; nulls: Uint8Array })[];
}

function fillNulls(nulls: Uint8Array, validity: Uint8Array | null, from: number, to: number, at: number): void {
  if (validity === null) {
    nulls.fill(0, at, at + to - from);
    return;
  }
  for (let i = from; i < to; i++, at++) nulls[at] = (validity[i >> 3] & (1 << (i & 7))) === 0 ? 1 : 0;
}

/** The type a passthrough column is read in: its own where it is one of {@link FIXED_WIDTH} (raw values), else VARCHAR (text). */
export function passthroughType(column: InputColumn | undefined): string {
  return column !== undefined && FIXED_WIDTH[column.type] !== undefined ? column.type : 'VARCHAR';
}

function passthroughSelect(column: InputColumn | undefined, name: string): { select: string; type?: string } {
  const type = passthroughType(column);
  return type === 'VARCHAR' ? { select: `CAST(${ident(name)} AS VARCHAR)` } : { select: ident(name), type };
}

/**
 * The input's rows in chunks of `chunkRows`, from chunk `fromChunk` on
 * (earlier rows are skipped without being converted). DuckDB streams its
 * result (about 2048 rows a fetch) and keeps the file's row order, so chunk
 * `k` holds the same rows on every read: a resumed job continues exactly
 * where its last checkpoint ended. Values are copied column by column from
 * DuckDB's vectors into typed arrays (no object per row); at most one chunk
 * is held. Passthrough columns come in the type {@link passthroughType} gives.
 */
export async function* readChunks(
  duck: Duck,
  source: string,
  columns: readonly InputColumn[],
  inputs: readonly CompiledInput[],
  passthrough: readonly string[],
  chunkRows: number,
  fromChunk: number,
): AsyncIterable<InputChunk> {
  const byName = new Map(columns.map((c) => [c.name, c]));
  const plans = inputs.map((i) => inputPlan(byName.get(i.name)!, i));
  const passPlans = passthrough.map((p) => passthroughSelect(byName.get(p), p));
  const selects = [...plans.map((p) => p.select), ...passPlans.map((p) => p.select)];
  const skip = fromChunk * chunkRows;
  let seen = 0;
  let current: Builders | undefined;
  const fresh = (index: number): Builders => ({
    index,
    n: 0,
    inputs: plans.map((p) =>
      p.read === 'numbers' ? { kind: 'numbers' as const, values: new Float64Array(chunkRows), nulls: new Uint8Array(chunkRows) } : p.read === 'boolean' ? { kind: 'boolean' as const, codes: new Int32Array(chunkRows) } : { kind: 'text' as const, text: new TextColumn(chunkRows) },
    ),
    passthrough: passPlans.map((p) =>
      p.type === undefined
        ? { kind: 'text' as const, text: new TextColumn(chunkRows) }
        : { kind: 'fixed' as const, type: p.type, width: FIXED_WIDTH[p.type], bytes: new Uint8Array(chunkRows * FIXED_WIDTH[p.type]), nulls: new Uint8Array(chunkRows) },
    ),
  });
  const finish = (b: Builders): InputChunk => ({
    index: b.index,
    firstRow: b.index * chunkRows,
    n: b.n,
    inputs: b.inputs.map((c, j): InputColumnValues => {
      if (c.kind === 'numbers') return { kind: 'numbers', values: c.values.subarray(0, b.n), nulls: c.nulls.subarray(0, b.n) };
      if (c.kind === 'boolean') return { kind: 'codes', codes: c.codes.subarray(0, b.n), dictionary: [false, true] };
      return { kind: 'codes', codes: c.text.codes.subarray(0, b.n), dictionary: c.text.dictionary.map((v) => coerceCell(v, plans[j].coerce)) };
    }),
    passthrough: b.passthrough.map((c): PassthroughColumn =>
      c.kind === 'text' ? { kind: 'text', codes: c.text.codes.subarray(0, b.n), dictionary: c.text.dictionary } : { ...c, bytes: c.bytes.subarray(0, b.n * c.width), nulls: c.nulls.subarray(0, b.n) },
    ),
  });
  for await (const part of duck.chunks(`SELECT ${selects.join(', ')} FROM ${source}`)) {
    const rows = part.rowCount;
    if (seen + rows <= skip) {
      seen += rows;
      continue;
    }
    const raws = selects.map((_, j) => rawVector(part, j));
    for (let i = seen < skip ? skip - seen : 0; i < rows; ) {
      current ??= fresh(Math.floor((seen + i) / chunkRows));
      // Rows [i, to) of this vector go to rows [at, at + to - i) of the chunk.
      const to = Math.min(rows, i + chunkRows - current.n);
      const at = current.n;
      current.inputs.forEach((c, j) => {
        const raw = raws[j];
        if (c.kind === 'numbers') {
          c.values.set(new Float64Array(raw.bytes.buffer, raw.bytes.byteOffset + i * 8, to - i), at);
          fillNulls(c.nulls, raw.validity, i, to, at);
        } else if (c.kind === 'boolean') {
          for (let k = i, r = at; k < to; k++, r++) c.codes[r] = raw.validity !== null && (raw.validity[k >> 3] & (1 << (k & 7))) === 0 ? -1 : raw.bytes[k] === 0 ? 0 : 1;
        } else c.text.add(raw, i, to, at);
      });
      current.passthrough.forEach((c, j) => {
        const raw = raws[inputs.length + j];
        if (c.kind === 'text') c.text.add(raw, i, to, at);
        else {
          c.bytes.set(raw.bytes.subarray(i * c.width, to * c.width), at * c.width);
          fillNulls(c.nulls, raw.validity, i, to, at);
        }
      });
      current.n += to - i;
      i = to;
      if (current.n === chunkRows) {
        yield finish(current);
        current = undefined;
      }
    }
    seen += rows;
  }
  if (current && current.n > 0) yield finish(current);
}
