import { open } from 'node:fs/promises';
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

/** The rows of `rows` whose value is not null. */
function validRows(c: PartColumn, rows: Int32Array): Int32Array {
  const nulls = c.nulls;
  const codes = c.kind === 'text' ? c.codes : undefined;
  if (nulls === undefined && codes === undefined) return rows;
  const valid = new Int32Array(rows.length);
  let k = 0;
  for (let i = 0; i < rows.length; i++) {
    const r = rows[i];
    if ((nulls === undefined || nulls[r] !== 1) && (codes === undefined || codes[r] >= 0)) valid[k++] = r;
  }
  return k === rows.length ? rows : valid.subarray(0, k);
}

/** A column's page body: definition levels (RLE/bit-packed hybrid, length-prefixed), then the non-null values, PLAIN. */
function encodeColumn(c: PartColumn, type: NativeType, rows: Int32Array): Buffer {
  const m = rows.length;
  const valid = validRows(c, rows);
  // Levels: one RLE run of 1s when nothing is null, else one bit-packed run (8 levels a byte, LSB first).
  let levels: Buffer;
  if (valid.length === m) levels = Buffer.concat([varint(m * 2), Buffer.from([1])]);
  else {
    const header = varint(Math.ceil(m / 8) * 2 + 1);
    levels = Buffer.alloc(header.length + Math.ceil(m / 8));
    header.copy(levels);
    for (let i = 0, k = 0; i < m && k < valid.length; i++) {
      if (rows[i] !== valid[k]) continue;
      levels[header.length + (i >> 3)] |= 1 << (i & 7);
      k++;
    }
  }
  const values = encodeValues(c, type, valid);
  const out = Buffer.allocUnsafe(4 + levels.length + values.length);
  out.writeUInt32LE(levels.length, 0);
  levels.copy(out, 4);
  out.set(values, 4 + levels.length);
  return out;
}

function encodeValues(c: PartColumn, type: NativeType, valid: Int32Array): Uint8Array {
  const count = valid.length;
  if (c.kind === 'text') {
    // Each dictionary entry once as its length (4 bytes LE) and its UTF-8 bytes, copied per row.
    const entries = c.dictionary.map((text) => {
      const bytes = encoder.encode(text);
      const entry = new Uint8Array(4 + bytes.length);
      new DataView(entry.buffer).setUint32(0, bytes.length, true);
      entry.set(bytes, 4);
      return entry;
    });
    let size = 0;
    for (let k = 0; k < count; k++) size += entries[c.codes[valid[k]]].length;
    const out = new Uint8Array(size);
    for (let k = 0, at = 0; k < count; k++) {
      const entry = entries[c.codes[valid[k]]];
      if (entry.length <= 32) for (let b = 0; b < entry.length; b++) out[at + b] = entry[b];
      else out.set(entry, at);
      at += entry.length;
    }
    return out;
  }
  if (type.physical === Physical.BOOLEAN) {
    const bytes = c.kind === 'bool' ? c.values : c.kind === 'fixed' ? c.bytes : undefined;
    if (!bytes) throw new Error(`a ${c.kind} column cannot be written as BOOLEAN`);
    const out = new Uint8Array(Math.ceil(count / 8));
    for (let k = 0; k < count; k++) if (bytes[valid[k]] !== 0) out[k >> 3] |= 1 << (k & 7);
    return out;
  }
  if (c.kind === 'double') {
    const out = new Float64Array(count);
    for (let k = 0; k < count; k++) out[k] = c.values[valid[k]];
    return new Uint8Array(out.buffer);
  }
  if (c.kind === 'int64') {
    // Low and high 32-bit words (little-endian); the high word of a negative value wraps to its two's complement.
    const words = new Uint32Array(count * 2);
    for (let k = 0; k < count; k++) {
      const v = c.values[valid[k]];
      words[2 * k] = v >>> 0;
      words[2 * k + 1] = Math.floor(v / 2 ** 32);
    }
    return new Uint8Array(words.buffer);
  }
  if (c.kind !== 'fixed') throw new Error(`a ${c.kind} column cannot be written as ${c.type}`);
  // DuckDB's own little-endian values: copied, or widened to INT32 (Parquet has no narrower integers).
  const { width, bytes } = c;
  if (type.physical === Physical.INT32 && width < 4) {
    const out = new Int32Array(count);
    const src = width === 1 ? (c.type === 'TINYINT' ? new Int8Array(bytes.buffer, bytes.byteOffset, bytes.length) : bytes) : copyOf16(bytes, c.type === 'SMALLINT');
    for (let k = 0; k < count; k++) out[k] = src[valid[k]];
    return new Uint8Array(out.buffer);
  }
  const out = new Uint8Array(count * width);
  for (let k = 0; k < count; k++) {
    const from = valid[k] * width;
    for (let b = 0; b < width; b++) out[k * width + b] = bytes[from + b];
  }
  return out;
}

/** 16-bit values (possibly unaligned in the chunk's bytes) as a typed array. */
function copyOf16(bytes: Uint8Array, signed: boolean): Int16Array | Uint16Array {
  const copy = new Uint8Array(bytes);
  return signed ? new Int16Array(copy.buffer, 0, copy.length >> 1) : new Uint16Array(copy.buffer, 0, copy.length >> 1);
}

/** A column's Parquet name and type. */
interface PartSchemaColumn {
  name: string;
  type: NativeType;
}

/** A row group: its rows, and each column chunk's offset in its file and size (one data page, header included). */
interface PartRowGroup {
  rows: number;
  columns: { offset: number; size: number }[];
}

/** What the footer of a part encoded here says: enough to copy its row group into another file. */
export interface PartFooter {
  schema: PartSchemaColumn[];
  /** Bytes from offset 4 (after `PAR1`) to the footer: the column chunks. */
  dataBytes: number;
  rowGroup: PartRowGroup | null;
}

/**
 * The part file of `fields` over chunk rows `rows`: `PAR1`, one data page
 * per column (one row group; none when there are no rows), the footer.
 */
export function encodeParquetPart(fields: readonly PartField[], columns: readonly PartColumn[], rows: Int32Array): { bytes: Buffer; footer: PartFooter } {
  const schema = fields.map((f): PartSchemaColumn => {
    const type = nativeType(f, columns[f.column]);
    if (!type) throw new Error(`column '${f.name}' (${f.type}) is not written natively`);
    return { name: f.name, type };
  });
  const m = rows.length;
  const pieces: Buffer[] = [Buffer.from('PAR1')];
  let offset = 4;
  const chunks: { offset: number; size: number }[] = [];
  if (m > 0) {
    fields.forEach((f, j) => {
      const body = encodeColumn(columns[f.column], schema[j].type, rows);
      // PageHeader: DATA_PAGE, sizes, DataPageHeader(num_values, PLAIN, RLE levels).
      const header = struct([
        [1, 'i32', 0],
        [2, 'i32', body.length],
        [3, 'i32', body.length],
        [5, 'struct', [[1, 'i32', m], [2, 'i32', 0], [3, 'i32', 3], [4, 'i32', 3]]],
      ]);
      chunks.push({ offset, size: header.length + body.length });
      pieces.push(header, body);
      offset += header.length + body.length;
    });
  }
  const footer: PartFooter = { schema, dataBytes: offset - 4, rowGroup: m > 0 ? { rows: m, columns: chunks } : null };
  pieces.push(fileTail(schema, footer.rowGroup ? [footer.rowGroup] : []));
  return { bytes: Buffer.concat(pieces), footer };
}

/** FileMetaData (schema, row groups), its length and `PAR1`: the end of a Parquet file. */
function fileTail(schema: readonly PartSchemaColumn[], rowGroups: readonly PartRowGroup[]): Buffer {
  const elements: Thrift[] = [
    [[4, 'string', 'duckdb_schema'], [5, 'i32', schema.length]],
    ...schema.map(({ name, type }): Thrift => [
      [1, 'i32', type.physical],
      [3, 'i32', 1],
      [4, 'string', name],
      ...(type.converted !== undefined ? [[6, 'i32', type.converted] as Field] : []),
      // LogicalType.TIMESTAMP(isAdjustedToUTC: false, unit: MICROS).
      ...(type.timestamp ? [[10, 'struct', [[8, 'struct', [[1, 'bool', false], [2, 'struct', [[2, 'struct', []]]]]]]] as Field] : []),
    ]),
  ];
  // ColumnChunk: file_offset, ColumnMetaData(type, encodings, path, UNCOMPRESSED, num_values, sizes, data_page_offset).
  const groups = rowGroups.map((g): Thrift => [
    [
      1,
      'list-struct',
      g.columns.map(({ offset, size }, j): Thrift => [
        [2, 'i64', offset],
        [3, 'struct', [[1, 'i32', schema[j].type.physical], [2, 'list-i32', [0, 3]], [3, 'list-string', [schema[j].name]], [4, 'i32', 0], [5, 'i64', g.rows], [6, 'i64', size], [7, 'i64', size], [9, 'i64', offset]]],
      ]),
    ],
    [2, 'i64', g.columns.reduce((n, c) => n + c.size, 0)],
    [3, 'i64', g.rows],
  ]);
  const footer = struct([
    [1, 'i32', 1],
    [2, 'list-struct', elements],
    [3, 'i64', rowGroups.reduce((n, g) => n + g.rows, 0)],
    [4, 'list-struct', groups],
    [6, 'string', 'mlp batch inference'],
  ]);
  const tail = Buffer.allocUnsafe(8);
  tail.writeUInt32LE(footer.length, 0);
  tail.write('PAR1', 4, 'latin1');
  return Buffer.concat([footer, tail]);
}

/** Whether parts encoded here have the same columns (so their row groups make one file). */
export function sameSchema(footers: readonly PartFooter[]): boolean {
  const first = JSON.stringify(footers[0]?.schema);
  return footers.every((f) => JSON.stringify(f.schema) === first);
}

/**
 * Parts encoded here (same columns) as one Parquet file: their column
 * chunks copied one after another, and one footer listing every part's row
 * group at its new offset. Nothing is decoded or encoded again. Answers the
 * row count.
 */
export async function concatParquetParts(parts: readonly { path: string; footer: PartFooter }[], out: string): Promise<number> {
  const handle = await open(out, 'w');
  try {
    await handle.write(Buffer.from('PAR1'));
    let at = 4;
    const groups: PartRowGroup[] = [];
    for (const { path, footer } of parts) {
      if (footer.rowGroup === null) continue;
      const source = await open(path, 'r');
      try {
        const data = Buffer.allocUnsafe(footer.dataBytes);
        const { bytesRead } = await source.read(data, 0, footer.dataBytes, 4);
        if (bytesRead !== footer.dataBytes) throw new Error(`part ${path} is shorter than its footer says`);
        await handle.write(data);
      } finally {
        await source.close();
      }
      const shift = at - 4;
      groups.push({ rows: footer.rowGroup.rows, columns: footer.rowGroup.columns.map((c) => ({ offset: c.offset + shift, size: c.size })) });
      at += footer.dataBytes;
    }
    await handle.write(fileTail(parts[0].footer.schema, groups));
  } finally {
    await handle.close();
  }
  return parts.reduce((n, p) => n + (p.footer.rowGroup?.rows ?? 0), 0);
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
