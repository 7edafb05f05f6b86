import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { encodeRowGroup, PARQUET_MAGIC, parquetFooter, readRowGroupPart, type FileColumn, type PartColumn, type PlacedPart } from './parquet-parts';

/** Random values (seeded) for one column type, with nulls where nullable. */
function rng(seed: number): () => number {
  let s = seed;
  return () => (s = (s * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31;
}

/** Row groups written by encodeRowGroup, assembled with parquetFooter, read back by DuckDB: every type, nulls, row selection. */
describe('parquet parts', () => {
  let dir: string;
  beforeAll(() => (dir = mkdtempSync(join(tmpdir(), 'mlp-parquet-parts-'))));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  async function read(bytes: Buffer): Promise<{ rows: Record<string, unknown>[]; types: Record<string, string> }> {
    const path = join(dir, `f-${Math.random().toString(36).slice(2)}.parquet`);
    writeFileSync(path, bytes);
    const db = await (await DuckDBInstance.create(':memory:')).connect();
    const rows = (await db.runAndReadAll(`SELECT * FROM read_parquet('${path}')`)).getRowObjectsJson() as Record<string, unknown>[];
    const described = (await db.runAndReadAll(`DESCRIBE SELECT * FROM read_parquet('${path}')`)).getRowObjectsJson() as { column_name: string; column_type: string }[];
    db.closeSync();
    return { rows, types: Object.fromEntries(described.map((d) => [d.column_name, d.column_type])) };
  }

  function assemble(columns: FileColumn[], parts: Buffer[]): Buffer {
    const placed: PlacedPart[] = [];
    const bodies: Buffer[] = [PARQUET_MAGIC];
    let offset = PARQUET_MAGIC.length;
    for (const p of parts) {
      const { rows, columns: chunks, body } = readRowGroupPart(p);
      placed.push({ offset, rows, columns: chunks });
      bodies.push(body);
      offset += body.length;
    }
    return Buffer.concat([...bodies, parquetFooter(columns, placed)]);
  }

  it('writes every supported type, with nulls and a row selection, as DuckDB reads it back', async () => {
    const next = rng(5);
    const n = 300;
    const fixed = (type: string, width: number, write: (view: DataView, r: number, x: number) => void, value: (view: DataView, r: number) => unknown) => {
      const bytes = new Uint8Array(n * width);
      const view = new DataView(bytes.buffer);
      const nulls = new Uint8Array(n);
      for (let r = 0; r < n; r++) {
        nulls[r] = next() < 0.2 ? 1 : 0;
        write(view, r, next());
      }
      const expected = Array.from({ length: n }, (_, r) => (nulls[r] ? null : value(view, r)));
      return { column: { name: type.toLowerCase(), type, nullable: true, nulls, kind: 'fixed' as const, width, bytes }, expected };
    };
    const specs = [
      fixed('BOOLEAN', 1, (v, r, x) => v.setUint8(r, x < 0.5 ? 1 : 0), (v, r) => v.getUint8(r) === 1),
      fixed('TINYINT', 1, (v, r, x) => v.setInt8(r, Math.floor(x * 256) - 128), (v, r) => v.getInt8(r)),
      fixed('SMALLINT', 2, (v, r, x) => v.setInt16(r * 2, Math.floor(x * 65536) - 32768, true), (v, r) => v.getInt16(r * 2, true)),
      fixed('INTEGER', 4, (v, r, x) => v.setInt32(r * 4, Math.floor(x * 2 ** 32) - 2 ** 31, true), (v, r) => v.getInt32(r * 4, true)),
      fixed('BIGINT', 8, (v, r, x) => v.setBigInt64(r * 8, BigInt(Math.floor(x * 2 ** 40)) - 2n ** 39n, true), (v, r) => String(v.getBigInt64(r * 8, true))),
      fixed('UTINYINT', 1, (v, r, x) => v.setUint8(r, Math.floor(x * 256)), (v, r) => v.getUint8(r)),
      fixed('USMALLINT', 2, (v, r, x) => v.setUint16(r * 2, Math.floor(x * 65536), true), (v, r) => v.getUint16(r * 2, true)),
      fixed('UINTEGER', 4, (v, r, x) => v.setUint32(r * 4, Math.floor(x * 2 ** 32), true), (v, r) => v.getUint32(r * 4, true)),
      fixed('FLOAT', 4, (v, r, x) => v.setFloat32(r * 4, x * 100 - 50, true), (v, r) => v.getFloat32(r * 4, true)),
      fixed('DOUBLE', 8, (v, r, x) => v.setFloat64(r * 8, x * 1e6 - 5e5, true), (v, r) => v.getFloat64(r * 8, true)),
      fixed('DATE', 4, (v, r, x) => v.setInt32(r * 4, Math.floor(x * 20000), true), (v, r) => new Date(v.getInt32(r * 4, true) * 86_400_000).toISOString().slice(0, 10)),
      fixed('TIMESTAMP', 8, (v, r, x) => v.setBigInt64(r * 8, BigInt(Math.floor(x * 1.7e9)) * 1_000_000n, true), (v, r) => new Date(Number(v.getBigInt64(r * 8, true) / 1000n)).toISOString().replace('T', ' ').replace('.000Z', '')),
    ];
    const dictionary = ['a', 'bé', '', 'a longer string of text, "quoted"'];
    const codes = Int32Array.from({ length: n }, () => Math.floor(next() * 5) - 1);
    const row = Array.from({ length: n }, (_, r) => r * 3 + 7);
    const probability = Float64Array.from({ length: n }, () => next());
    const flags = Uint8Array.from({ length: n }, () => (next() < 0.5 ? 1 : 0));
    const columns: PartColumn[] = [
      { name: '_row', type: 'BIGINT', nullable: false, kind: 'int64', values: row },
      ...specs.map((s) => s.column),
      { name: 'text', type: 'VARCHAR', nullable: true, kind: 'text', codes, dictionary },
      { name: 'label', type: 'VARCHAR', nullable: false, kind: 'text', codes: Int32Array.from({ length: n }, (_, r) => r % 2), dictionary: ['no', 'yes'] },
      { name: 'p', type: 'DOUBLE', nullable: false, kind: 'double', values: probability },
      { name: 'flag', type: 'BOOLEAN', nullable: false, kind: 'bool', values: flags },
    ];
    // Two row groups: rows 0..99 all, then every third row of 100..299.
    const first = Array.from({ length: 100 }, (_, i) => i);
    const second = Array.from({ length: 200 }, (_, i) => 100 + i).filter((r) => r % 3 !== 0);
    const file = assemble(columns as FileColumn[], [encodeRowGroup(columns, n, first), encodeRowGroup(columns, n, second)]);
    const { rows, types } = await read(file);
    expect(types).toEqual({
      _row: 'BIGINT', boolean: 'BOOLEAN', tinyint: 'TINYINT', smallint: 'SMALLINT', integer: 'INTEGER', bigint: 'BIGINT', utinyint: 'UTINYINT', usmallint: 'USMALLINT', uinteger: 'UINTEGER',
      float: 'FLOAT', double: 'DOUBLE', date: 'DATE', timestamp: 'TIMESTAMP', text: 'VARCHAR', label: 'VARCHAR', p: 'DOUBLE', flag: 'BOOLEAN',
    });
    const selected = [...first, ...second];
    expect(rows).toHaveLength(selected.length);
    selected.forEach((r, i) => {
      const got = rows[i];
      expect(Number(got._row)).toBe(row[r]);
      for (const s of specs) {
        const want = s.expected[r];
        const value = got[s.column.name];
        if (s.column.type === 'FLOAT' && want !== null) expect(value as number).toBeCloseTo(want as number, 4);
        else if (s.column.type === 'BIGINT' || s.column.type === 'TIMESTAMP' || s.column.type === 'DATE') expect(value === null ? null : String(value)).toBe(want);
        else expect(value).toBe(want);
      }
      expect(got.text).toBe(codes[r] < 0 ? null : dictionary[codes[r]]);
      expect(got.label).toBe(r % 2 ? 'yes' : 'no');
      expect(got.p).toBe(probability[r]);
      expect(got.flag).toBe(flags[r] === 1);
    });
  });

  it('writes a file without row groups that still has its columns', async () => {
    const columns: FileColumn[] = [
      { name: '_row', type: 'BIGINT', nullable: false },
      { name: 'prediction', type: 'VARCHAR', nullable: false },
    ];
    const { rows, types } = await read(assemble(columns, []));
    expect(rows).toEqual([]);
    expect(types).toEqual({ _row: 'BIGINT', prediction: 'VARCHAR' });
  });
});
