import type { PartColumn, PartField } from './part-writer';

/**
 * A part file encoded here, without DuckDB: one row group of one
 * uncompressed PLAIN data page per column, every column OPTIONAL, in the
 * Parquet types DuckDB itself writes for the part's DuckDB types (it reads
 * the parts back to assemble the output, and writes that file). Only parts
 * whose every field {@link nativeType} maps are written so; the others go
 * through DuckDB (part-writer.ts).
 */

/** Parquet physical types (parquet.thrift Type). */
const Physical = { BOOLEAN: 0, INT32: 1, INT64: 2, FLOAT: 4, DOUBLE: 5, BYTE_ARRAY: 6 } as const;

interface NativeType {
  physical: number;
  /** parquet.thrift ConvertedType, where the type needs one. */
  converted?: number;
  /** A TIMESTAMP(isAdjustedToUTC = false, MICROS) logical type: DuckDB's TIMESTAMP. */
  timestamp?: true;
}

/** DuckDB type of a column as the part holds it → its Parquet type (UTF8 = 0, DATE = 6, UINT_8/16/32 = 11/12/13, INT_8/16 = 15/16). */
const NATIVE: Readonly<Record<string, NativeType>> = {
  BOOLEAN: { physical: Physical.BOOLEAN },
  TINYINT: { physical: Physical.INT32, converted: 15 },
  SMALLINT: { physical: Physical.INT32, converted: 16 },
  INTEGER: { physical: Physical.INT32 },
  BIGINT: { physical: Physical.INT64 },
  UTINYINT: { physical: Physical.INT32, converted: 11 },
  USMALLINT: { physical: Physical.INT32, converted: 12 },
  UINTEGER: { physical: Physical.INT32, converted: 13 },
  FLOAT: { physical: Physical.FLOAT },
  DOUBLE: { physical: Physical.DOUBLE },
  DATE: { physical: Physical.INT32, converted: 6 },
  TIMESTAMP: { physical: Physical.INT64, timestamp: true },
  VARCHAR: { physical: Physical.BYTE_ARRAY, converted: 0 },
};

/** The Parquet type a field is written in here, or undefined when DuckDB must write it (a cast, or a type not mapped). */
export function nativeType(field: PartField, column: PartColumn): NativeType | undefined {
  const type = NATIVE[field.type];
  if (type === undefined) return undefined;
  switch (column.kind) {
    case 'fixed':
      return column.type === field.type ? type : undefined;
    case 'int64':
      return field.type === 'BIGINT' ? type : undefined;
    case 'double':
      return field.type === 'DOUBLE' ? type : undefined;
    case 'bool':
      return field.type === 'BOOLEAN' ? type : undefined;
    case 'text':
      // VARCHAR, or an ENUM of the dictionary written as its labels.
      return field.type === 'VARCHAR' ? type : undefined;
  }
}

/** Whether every field of a part is written here. */
export function isNativePart(fields: readonly PartField[], columns: readonly PartColumn[]): boolean {
  return fields.every((f) => nativeType(f, columns[f.column]) !== undefined);
}

/** The rows (chunk row numbers, in order) a part holds: those flagged rejected, or the others. */
export function selectRows(rejected: Uint8Array, n: number, wantRejected: boolean): Int32Array {
  const want = wantRejected ? 1 : 0;
  let m = 0;
  for (let r = 0; r < n; r++) if (rejected[r] === want) m++;
  const rows = new Int32Array(m);
  for (let r = 0, k = 0; r < n; r++) if (rejected[r] === want) rows[k++] = r;
  return rows;
}

const encoder = new TextEncoder();

/** Whether chunk row `r` of a column is null. */
function isNull(c: PartColumn, r: number): boolean {
  return (c.nulls !== undefined && c.nulls[r] === 1) || (c.kind === 'text' && c.codes[r] < 0);
}

/** A column's page body: definition levels (RLE/bit-packed, length-prefixed) then the non-null values, PLAIN. */
function encodeColumn(c: PartColumn, type: NativeType, rows: Int32Array): Buffer {
  const m = rows.length;
  let present = 0;
  for (let k = 0; k < m; k++) if (!isNull(c, rows[k])) present++;
  // Levels: one RLE run of 1s when nothing is null, else one bit-packed run (8 levels a byte, LSB first).
  const groups = Math.ceil(m / 8);
  const levels = present === m ? rleRun(m) : Buffer.concat([varint(groups * 2 + 1), bitmap(m, (k) => !isNull(c, rows[k]))]);
  const values = encodeValues(c, type, rows, present);
  const out = Buffer.allocUnsafe(4 + levels.length + values.length);
  out.writeUInt32LE(levels.length, 0);
  levels.copy(out, 4);
  values.copy(out, 4 + levels.length);
  return out;
}

function rleRun(count: number): Buffer {
  return Buffer.concat([varint(count * 2), Buffer.from([1])]);
}

function bitmap(count: number, bit: (k: number) => boolean): Buffer {
  const bytes = Buffer.alloc(Math.ceil(count / 8));
  for (let k = 0; k < count; k++) if (bit(k)) bytes[k >> 3] |= 1 << (k & 7);
  return bytes;
}

function encodeValues(c: PartColumn, type: NativeType, rows: Int32Array, present: number): Buffer {
  const m = rows.length;
  const valid: number[] = [];
  for (let k = 0; k < m; k++) if (!isNull(c, rows[k])) valid.push(rows[k]);
  if (c.kind === 'text') {
    const encoded = c.dictionary.map((s) => encoder.encode(s));
    let size = 0;
    for (const r of valid) size += 4 + encoded[c.codes[r]].length;
    const out = Buffer.allocUnsafe(size);
    let at = 0;
    for (const r of valid) {
      const bytes = encoded[c.codes[r]];
      out.writeUInt32LE(bytes.length, at);
      out.set(bytes, at + 4);
      at += 4 + bytes.length;
    }
    return out;
  }
  if (type.physical === Physical.BOOLEAN) {
    const bytes = c.kind === 'bool' ? c.values : c.kind === 'fixed' ? c.bytes : undefined;
    if (!bytes) throw new Error(`a ${c.kind} column cannot be written as BOOLEAN`);
    return bitmap(present, (k) => bytes[valid[k]] !== 0);
  }
  if (c.kind === 'double') {
    const out = new Float64Array(present);
    for (let k = 0; k < present; k++) out[k] = c.values[valid[k]];
    return Buffer.from(out.buffer);
  }
  if (c.kind === 'int64') {
    const out = Buffer.allocUnsafe(present * 8);
    for (let k = 0; k < present; k++) {
      const v = c.values[valid[k]];
      out.writeUInt32LE(v >>> 0, k * 8);
      out.writeInt32LE(Math.floor(v / 2 ** 32), k * 8 + 4);
    }
    return out;
  }
  if (c.kind !== 'fixed') throw new Error(`a ${c.kind} column cannot be written as ${c.type}`);
  // DuckDB's own little-endian values: copied, or widened to INT32 (Parquet has no narrower integers).
  const { width, bytes } = c;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (type.physical === Physical.INT32 && width < 4) {
    const out = Buffer.allocUnsafe(present * 4);
    const signed = c.type === 'TINYINT' || c.type === 'SMALLINT';
    for (let k = 0; k < present; k++) {
      const at = valid[k] * width;
      const v = width === 1 ? (signed ? view.getInt8(at) : view.getUint8(at)) : signed ? view.getInt16(at, true) : view.getUint16(at, true);
      out.writeInt32LE(v, k * 4);
    }
    return out;
  }
  const out = Buffer.allocUnsafe(present * width);
  for (let k = 0; k < present; k++) out.set(bytes.subarray(valid[k] * width, (valid[k] + 1) * width), k * width);
  return out;
}

/**
 * The part file of `fields` over chunk rows `rows`: `PAR1`, one data page
 * per column (one row group; none when there are no rows), the footer.
 */
export function encodeParquetPart(fields: readonly PartField[], columns: readonly PartColumn[], rows: Int32Array): Buffer {
  const types = fields.map((f) => {
    const type = nativeType(f, columns[f.column]);
    if (!type) throw new Error(`column '${f.name}' (${f.type}) is not written natively`);
    return type;
  });
  const m = rows.length;
  const pieces: Buffer[] = [Buffer.from('PAR1')];
  let offset = 4;
  const chunks: Thrift[] = [];
  let total = 0;
  if (m > 0) {
    fields.forEach((f, j) => {
      const body = encodeColumn(columns[f.column], types[j], rows);
      // PageHeader: DATA_PAGE, sizes, DataPageHeader(num_values, PLAIN, RLE levels).
      const header = struct([
        [1, 'i32', 0],
        [2, 'i32', body.length],
        [3, 'i32', body.length],
        [5, 'struct', [[1, 'i32', m], [2, 'i32', 0], [3, 'i32', 3], [4, 'i32', 3]]],
      ]);
      const size = header.length + body.length;
      // ColumnChunk: file_offset, ColumnMetaData(type, encodings, path, UNCOMPRESSED, num_values, sizes, data_page_offset).
      chunks.push([
        [2, 'i64', offset],
        [3, 'struct', [[1, 'i32', types[j].physical], [2, 'list-i32', [0, 3]], [3, 'list-string', [f.name]], [4, 'i32', 0], [5, 'i64', m], [6, 'i64', size], [7, 'i64', size], [9, 'i64', offset]]],
      ]);
      pieces.push(header, body);
      offset += size;
      total += size;
    });
  }
  const schema: Thrift[] = [
    [[4, 'string', 'duckdb_schema'], [5, 'i32', fields.length]],
    ...fields.map((f, j): Thrift => {
      const t = types[j];
      return [
        [1, 'i32', t.physical],
        [3, 'i32', 1],
        [4, 'string', f.name],
        ...(t.converted !== undefined ? [[6, 'i32', t.converted] as Field] : []),
        // LogicalType.TIMESTAMP(isAdjustedToUTC: false, unit: MICROS).
        ...(t.timestamp ? [[10, 'struct', [[8, 'struct', [[1, 'bool', false], [2, 'struct', [[2, 'struct', []]]]]]]] as Field] : []),
      ];
    }),
  ];
  const rowGroups: Thrift[] = m > 0 ? [[[1, 'list-struct', chunks], [2, 'i64', total], [3, 'i64', m]]] : [];
  const footer = struct([
    [1, 'i32', 1],
    [2, 'list-struct', schema],
    [3, 'i64', m],
    [4, 'list-struct', rowGroups],
    [6, 'string', 'mlp batch inference'],
  ]);
  const tail = Buffer.allocUnsafe(8);
  tail.writeUInt32LE(footer.length, 0);
  tail.write('PAR1', 4, 'latin1');
  pieces.push(footer, tail);
  return Buffer.concat(pieces);
}

/** A Thrift struct as (field id, type, value) triples in increasing id order, for the compact protocol. */
type Field =
  | [number, 'i32' | 'i64', number]
  | [number, 'bool', boolean]
  | [number, 'string', string]
  | [number, 'struct', Thrift]
  | [number, 'list-i32', number[]]
  | [number, 'list-string', string[]]
  | [number, 'list-struct', Thrift[]];
type Thrift = Field[];

/** Compact protocol type codes. */
const COMPACT = { true: 1, false: 2, i32: 5, i64: 6, binary: 8, list: 9, struct: 12 } as const;

function struct(fields: Thrift): Buffer {
  const out: number[] = [];
  writeStruct(out, fields);
  return Buffer.from(out);
}

function writeStruct(out: number[], fields: Thrift): void {
  let last = 0;
  for (const field of fields) {
    const [id, kind] = field;
    const code = kind === 'bool' ? (field[2] ? COMPACT.true : COMPACT.false) : kind === 'i32' ? COMPACT.i32 : kind === 'i64' ? COMPACT.i64 : kind === 'string' ? COMPACT.binary : kind === 'struct' ? COMPACT.struct : COMPACT.list;
    if (id > last && id - last <= 15) out.push(((id - last) << 4) | code);
    else {
      out.push(code);
      pushVarint(out, zigzag(id));
    }
    last = id;
    switch (field[1]) {
      case 'bool':
        break;
      case 'i32':
      case 'i64':
        pushVarint(out, zigzag(field[2]));
        break;
      case 'string':
        pushString(out, field[2]);
        break;
      case 'struct':
        writeStruct(out, field[2]);
        break;
      case 'list-i32':
        listHeader(out, field[2].length, COMPACT.i32);
        for (const v of field[2]) pushVarint(out, zigzag(v));
        break;
      case 'list-string':
        listHeader(out, field[2].length, COMPACT.binary);
        for (const v of field[2]) pushString(out, v);
        break;
      case 'list-struct':
        listHeader(out, field[2].length, COMPACT.struct);
        for (const v of field[2]) writeStruct(out, v);
        break;
    }
  }
  out.push(0);
}

function listHeader(out: number[], size: number, type: number): void {
  if (size < 15) out.push((size << 4) | type);
  else {
    out.push(0xf0 | type);
    pushVarint(out, size);
  }
}

function pushString(out: number[], text: string): void {
  const bytes = encoder.encode(text);
  pushVarint(out, bytes.length);
  for (const b of bytes) out.push(b);
}

/** Zigzag of an integer below 2^52 in magnitude, as a number. */
function zigzag(v: number): number {
  return v >= 0 ? v * 2 : -v * 2 - 1;
}

function pushVarint(out: number[], v: number): void {
  while (v >= 0x80) {
    out.push((v % 0x80) | 0x80);
    v = Math.floor(v / 0x80);
  }
  out.push(v);
}

function varint(v: number): Buffer {
  const out: number[] = [];
  pushVarint(out, v);
  return Buffer.from(out);
}
