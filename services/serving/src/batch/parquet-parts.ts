/**
 * Parquet written chunk by chunk: each chunk of a batch job is one row
 * group, encoded here from typed columns (PLAIN values, RLE/bit-packed
 * definition levels, uncompressed, one data page per column chunk) and
 * stored as a part file of its own; the output file is the parts' bytes one
 * after another between `PAR1` and a footer listing their row groups. So a
 * checkpointed chunk is never encoded again, and assembling the output
 * copies bytes instead of re-reading and re-writing rows.
 */

/** Parquet physical types. */
const enum Physical {
  BOOLEAN = 0,
  INT32 = 1,
  INT64 = 2,
  FLOAT = 4,
  DOUBLE = 5,
  BYTE_ARRAY = 6,
}

/** Parquet converted types (the annotations every reader knows). */
const enum Converted {
  UTF8 = 0,
  DATE = 6,
  TIMESTAMP_MICROS = 10,
  UINT_8 = 11,
  UINT_16 = 12,
  UINT_32 = 13,
  INT_8 = 15,
  INT_16 = 16,
}

/** How a DuckDB type is stored: its physical type and annotation. */
const STORAGE: Readonly<Record<string, { physical: Physical; converted?: Converted }>> = {
  BOOLEAN: { physical: Physical.BOOLEAN },
  TINYINT: { physical: Physical.INT32, converted: Converted.INT_8 },
  SMALLINT: { physical: Physical.INT32, converted: Converted.INT_16 },
  INTEGER: { physical: Physical.INT32 },
  BIGINT: { physical: Physical.INT64 },
  UTINYINT: { physical: Physical.INT32, converted: Converted.UINT_8 },
  USMALLINT: { physical: Physical.INT32, converted: Converted.UINT_16 },
  UINTEGER: { physical: Physical.INT32, converted: Converted.UINT_32 },
  FLOAT: { physical: Physical.FLOAT },
  DOUBLE: { physical: Physical.DOUBLE },
  DATE: { physical: Physical.INT32, converted: Converted.DATE },
  TIMESTAMP: { physical: Physical.INT64, converted: Converted.TIMESTAMP_MICROS },
  VARCHAR: { physical: Physical.BYTE_ARRAY, converted: Converted.UTF8 },
};

/** True when a column of this DuckDB type can be written here (with its type kept). */
export function parquetWritable(type: string): boolean {
  return STORAGE[type] !== undefined;
}

/**
 * One column of a row group. `rows` selects the chunk rows written, in order
 * (all when absent). Values:
 * - `fixed`: DuckDB's raw little-endian values, `width` bytes a row, of `type`;
 * - `int64`: non-negative integers below 2^53 as numbers;
 * - `double`: Float64Array (or Float32Array widened);
 * - `text`: codes into a dictionary of strings, -1 for null;
 * - `bool`: 0/1 bytes.
 * `nulls[r] = 1` marks a null row (nullable columns only).
 */
export type PartColumn = { name: string; type: string; nullable: boolean; nulls?: Uint8Array } & (
  | { kind: 'fixed'; width: number; bytes: Uint8Array }
  | { kind: 'int64'; values: ArrayLike<number> }
  | { kind: 'double'; values: Float64Array | Float32Array }
  | { kind: 'text'; codes: Int32Array; dictionary: readonly string[] }
  | { kind: 'bool'; values: Uint8Array }
);

/** What the footer needs of each column chunk of a part, in the part's header. */
interface ChunkInfo {
  values: number;
  bytes: number;
}

const MAGIC = Buffer.from('MLPRG1\n', 'latin1');

/**
 * A row group as a part file: `MLPRG1\n`, a uint32 LE length, a JSON header
 * (rows, each column chunk's value count and size), then the column chunks
 * (page header + page) back to back.
 */
export function encodeRowGroup(columns: readonly PartColumn[], rows: number, selected?: ArrayLike<number>): Buffer {
  const chunks = columns.map((c) => encodeColumnChunk(c, rows, selected));
  const header = Buffer.from(JSON.stringify({ rows: selected ? selected.length : rows, columns: chunks.map((c): ChunkInfo => ({ values: selected ? selected.length : rows, bytes: c.length })) }), 'utf8');
  const length = Buffer.alloc(4);
  length.writeUInt32LE(header.length, 0);
  return Buffer.concat([MAGIC, length, header, ...chunks]);
}

/** True when a stored part is a row group written by {@link encodeRowGroup} (not a CSV part). */
export function isRowGroupPart(head: Buffer): boolean {
  return head.length >= MAGIC.length && head.subarray(0, MAGIC.length).equals(MAGIC);
}

/** The header and the column-chunk bytes of a part. */
export function readRowGroupPart(part: Buffer): { rows: number; columns: ChunkInfo[]; body: Buffer } {
  if (!isRowGroupPart(part)) throw new Error('not a row-group part');
  const length = part.readUInt32LE(MAGIC.length);
  const start = MAGIC.length + 4;
  const header = JSON.parse(part.subarray(start, start + length).toString('utf8')) as { rows: number; columns: ChunkInfo[] };
  return { ...header, body: part.subarray(start + length) };
}

/** Growable byte output. */
class Bytes {
  buf: Buffer;
  length = 0;
  constructor(capacity = 256) {
    this.buf = Buffer.allocUnsafe(capacity);
  }
  reserve(n: number): void {
    if (this.length + n <= this.buf.length) return;
    const next = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.length + n));
    this.buf.copy(next, 0, 0, this.length);
    this.buf = next;
  }
  byte(b: number): void {
    this.reserve(1);
    this.buf[this.length++] = b;
  }
  varint(n: number): void {
    // Unsigned LEB128 of a non-negative integer below 2^53.
    while (n >= 0x80) {
      this.byte((n % 0x80) | 0x80);
      n = Math.floor(n / 0x80);
    }
    this.byte(n);
  }
  bytes(b: Uint8Array): void {
    this.reserve(b.length);
    this.buf.set(b, this.length);
    this.length += b.length;
  }
  done(): Buffer {
    return this.buf.subarray(0, this.length);
  }
}

/** Thrift compact protocol: just what the Parquet structures below use. */
const enum T {
  TRUE = 1,
  FALSE = 2,
  I32 = 5,
  I64 = 6,
  BINARY = 8,
  LIST = 9,
  STRUCT = 12,
}

class Thrift {
  readonly out = new Bytes();
  private last: number[] = [0];
  private field(id: number, type: number): void {
    const delta = id - this.last[this.last.length - 1];
    if (delta > 0 && delta <= 15) this.out.byte((delta << 4) | type);
    else {
      this.out.byte(type);
      this.zigzag(id);
    }
    this.last[this.last.length - 1] = id;
  }
  private zigzag(n: number): void {
    // Zigzag of a safe integer: 2n for n >= 0, -2n - 1 below.
    this.out.varint(n >= 0 ? n * 2 : -n * 2 - 1);
  }
  i32(id: number, n: number): this {
    this.field(id, T.I32);
    this.zigzag(n);
    return this;
  }
  i64(id: number, n: number): this {
    this.field(id, T.I64);
    this.zigzag(n);
    return this;
  }
  bool(id: number, b: boolean): this {
    this.field(id, b ? T.TRUE : T.FALSE);
    return this;
  }
  string(id: number, s: string): this {
    this.field(id, T.BINARY);
    const b = Buffer.from(s, 'utf8');
    this.out.varint(b.length);
    this.out.bytes(b);
    return this;
  }
  struct(id: number, body: (t: this) => void): this {
    this.field(id, T.STRUCT);
    this.begin();
    body(this);
    this.end();
    return this;
  }
  list<V>(id: number, type: T, items: readonly V[], each: (t: this, item: V) => void): this {
    this.field(id, T.LIST);
    if (items.length < 15) this.out.byte((items.length << 4) | type);
    else {
      this.out.byte(0xf0 | type);
      this.out.varint(items.length);
    }
    for (const item of items) {
      if (type === T.STRUCT) {
        this.begin();
        each(this, item);
        this.end();
      } else each(this, item);
    }
    return this;
  }
  /** A list element's value without a field header (i32 lists, string lists). */
  rawI32(n: number): void {
    this.zigzag(n);
  }
  rawString(s: string): void {
    const b = Buffer.from(s, 'utf8');
    this.out.varint(b.length);
    this.out.bytes(b);
  }
  begin(): void {
    this.last.push(0);
  }
  end(): void {
    this.out.byte(0);
    this.last.pop();
  }
}

/** Definition levels (bit width 1) in the RLE/bit-packed hybrid, with the 4-byte length prefix of a v1 data page. */
function definitionLevels(nulls: Uint8Array | undefined, rows: number, selected: ArrayLike<number> | undefined, count: number): { levels: Buffer; nonNull: number } {
  const out = new Bytes(16 + (count >> 3));
  out.length = 4;
  let nonNull = count;
  if (nulls) {
    nonNull = 0;
    for (let i = 0; i < count; i++) if (nulls[selected ? selected[i] : i] === 0) nonNull++;
  }
  if (nonNull === count) {
    // One RLE run of 1s.
    out.varint(count * 2);
    out.byte(1);
  } else {
    // One bit-packed run: groups of 8 values, least significant bit first.
    const groups = Math.ceil(count / 8);
    out.varint(groups * 2 + 1);
    out.reserve(groups);
    for (let g = 0; g < groups; g++) {
      let b = 0;
      for (let k = 0; k < 8; k++) {
        const i = g * 8 + k;
        if (i < count && nulls![selected ? selected[i] : i] === 0) b |= 1 << k;
      }
      out.buf[out.length++] = b;
    }
  }
  const levels = out.done();
  levels.writeUInt32LE(levels.length - 4, 0);
  void rows;
  return { levels, nonNull };
}

/** PLAIN values of the non-null selected rows. */
function plainValues(column: PartColumn, selected: ArrayLike<number> | undefined, count: number, nonNull: number): Buffer {
  const nulls = column.nulls;
  const isNull = (r: number) => nulls !== undefined && nulls[r] === 1;
  const storage = STORAGE[column.type];
  switch (column.kind) {
    case 'double': {
      const out = column.type === 'FLOAT' ? new Float32Array(nonNull) : new Float64Array(nonNull);
      let k = 0;
      for (let i = 0; i < count; i++) {
        const r = selected ? selected[i] : i;
        if (!isNull(r)) out[k++] = column.values[r];
      }
      return Buffer.from(out.buffer, out.byteOffset, out.byteLength);
    }
    case 'int64': {
      // Low and high 32-bit words of each value (non-negative, below 2^53).
      const out = new Uint32Array(nonNull * 2);
      let k = 0;
      for (let i = 0; i < count; i++) {
        const r = selected ? selected[i] : i;
        if (isNull(r)) continue;
        const v = column.values[r];
        out[k++] = v >>> 0;
        out[k++] = Math.floor(v / 2 ** 32);
      }
      return Buffer.from(out.buffer, out.byteOffset, out.byteLength);
    }
    case 'bool':
      return packBits((r) => column.values[r] !== 0, selected, count, isNull, nonNull);
    case 'text': {
      const encoded = column.dictionary.map((s) => Buffer.from(s, 'utf8'));
      let size = 0;
      for (let i = 0; i < count; i++) {
        const code = column.codes[selected ? selected[i] : i];
        if (code >= 0) size += 4 + encoded[code].length;
      }
      const out = Buffer.allocUnsafe(size);
      let at = 0;
      for (let i = 0; i < count; i++) {
        const r = selected ? selected[i] : i;
        const code = column.codes[r];
        if (code < 0 || isNull(r)) continue;
        const b = encoded[code];
        out.writeUInt32LE(b.length, at);
        out.set(b, at + 4);
        at += 4 + b.length;
      }
      return out.subarray(0, at);
    }
    case 'fixed': {
      const { width, bytes } = column;
      if (storage.physical === Physical.BOOLEAN) return packBits((r) => bytes[r] !== 0, selected, count, isNull, nonNull);
      const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
      // Narrow integers are widened to INT32 (sign- or zero-extended by their type); others are copied as they are.
      const widen = storage.physical === Physical.INT32 && width < 4;
      if (!widen && !selected && nonNull === count) return Buffer.from(bytes.subarray(0, count * width));
      const outWidth = widen ? 4 : width;
      const out = Buffer.from(new ArrayBuffer(nonNull * outWidth));
      if (!widen && bytes.byteOffset % 4 === 0) {
        // Copied as 32-bit words (bit patterns kept: no float NaN canonicalisation).
        const words = width / 4;
        const from = new Uint32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength >> 2);
        const to = new Uint32Array(out.buffer, out.byteOffset, out.byteLength >> 2);
        let k = 0;
        for (let i = 0; i < count; i++) {
          const r = selected ? selected[i] : i;
          if (isNull(r)) continue;
          for (let w = 0; w < words; w++) to[k++] = from[r * words + w];
        }
        return out;
      }
      let k = 0;
      for (let i = 0; i < count; i++) {
        const r = selected ? selected[i] : i;
        if (isNull(r)) continue;
        if (!widen) out.set(bytes.subarray(r * width, (r + 1) * width), k);
        else {
          const v =
            column.type === 'TINYINT' ? view.getInt8(r) : column.type === 'SMALLINT' ? view.getInt16(r * 2, true) : column.type === 'UTINYINT' ? view.getUint8(r) : view.getUint16(r * 2, true);
          out.writeInt32LE(v, k);
        }
        k += outWidth;
      }
      return out;
    }
  }
}

function packBits(bit: (r: number) => boolean, selected: ArrayLike<number> | undefined, count: number, isNull: (r: number) => boolean, nonNull: number): Buffer {
  const out = Buffer.alloc(Math.ceil(nonNull / 8));
  let k = 0;
  for (let i = 0; i < count; i++) {
    const r = selected ? selected[i] : i;
    if (isNull(r)) continue;
    if (bit(r)) out[k >> 3] |= 1 << (k & 7);
    k++;
  }
  return out;
}

/** One column chunk: a v1 data page header (thrift) and the page (definition levels if nullable, PLAIN values). */
function encodeColumnChunk(column: PartColumn, rows: number, selected?: ArrayLike<number>): Buffer {
  const count = selected ? selected.length : rows;
  let levels: Buffer | undefined;
  let nonNull = count;
  if (column.nullable) ({ levels, nonNull } = definitionLevels(column.kind === 'text' ? textNulls(column, rows) : column.nulls, rows, selected, count));
  const values = plainValues(column.kind === 'text' && column.nullable ? { ...column, nulls: textNulls(column, rows) } : column, selected, count, nonNull);
  const size = (levels?.length ?? 0) + values.length;
  const header = new Thrift();
  header.i32(1, 0).i32(2, size).i32(3, size);
  header.struct(5, (t) => t.i32(1, count).i32(2, 0).i32(3, 3).i32(4, 3));
  header.out.byte(0);
  return Buffer.concat(levels ? [header.out.done(), levels, values] : [header.out.done(), values]);
}

/** A text column's null flags from its codes (-1). */
function textNulls(column: { codes: Int32Array }, rows: number): Uint8Array {
  const nulls = new Uint8Array(rows);
  for (let r = 0; r < rows; r++) nulls[r] = column.codes[r] < 0 ? 1 : 0;
  return nulls;
}

/** The columns of an assembled file, as the parts were written. */
export interface FileColumn {
  name: string;
  type: string;
  nullable: boolean;
}

/** A part's place in the assembled file: where its column chunks start, and its header. */
export interface PlacedPart {
  offset: number;
  rows: number;
  columns: ChunkInfo[];
}

/** `PAR1`, the start of every Parquet file (and its end, after the footer). */
export const PARQUET_MAGIC = Buffer.from('PAR1', 'latin1');

/** The footer: FileMetaData (schema, one row group per part), its length, `PAR1`. */
export function parquetFooter(columns: readonly FileColumn[], parts: readonly PlacedPart[]): Buffer {
  const t = new Thrift();
  const rows = parts.reduce((n, p) => n + p.rows, 0);
  t.i32(1, 1);
  const schema: (FileColumn | null)[] = [null, ...columns];
  t.list(2, T.STRUCT, schema, (s, c) => {
    if (c === null) {
      s.string(4, 'schema').i32(5, columns.length);
      return;
    }
    const storage = STORAGE[c.type];
    s.i32(1, storage.physical).i32(3, c.nullable ? 1 : 0).string(4, c.name);
    if (storage.converted !== undefined) s.i32(6, storage.converted);
  });
  t.i64(3, rows);
  t.list(4, T.STRUCT, parts, (g, part) => {
    let offset = part.offset;
    const chunks = part.columns.map((c) => {
      const at = offset;
      offset += c.bytes;
      return { ...c, at };
    });
    g.list(1, T.STRUCT, chunks, (cc, chunk) => {
      const i = chunks.indexOf(chunk);
      const column = columns[i];
      cc.i64(2, chunk.at);
      cc.struct(3, (m) => {
        m.i32(1, STORAGE[column.type].physical);
        m.list(2, T.I32, column.nullable ? [0, 3] : [0], (l, e) => l.rawI32(e));
        m.list(3, T.BINARY, [column.name], (l, e) => l.rawString(e));
        m.i32(4, 0).i64(5, chunk.values).i64(6, chunk.bytes).i64(7, chunk.bytes).i64(9, chunk.at);
      });
    });
    const size = part.columns.reduce((n, c) => n + c.bytes, 0);
    g.i64(2, size).i64(3, part.rows).i64(5, part.offset).i64(6, size);
  });
  t.string(6, 'mlp serving batch');
  t.out.byte(0);
  const meta = t.out.done();
  const length = Buffer.alloc(4);
  length.writeUInt32LE(meta.length, 0);
  return Buffer.concat([meta, length, PARQUET_MAGIC]);
}
