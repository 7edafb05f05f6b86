import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { PartWriter, type PartColumn, type PartField } from './part-writer';

/** Random values (seeded) for one column type, with nulls where nullable. */
function rng(seed: number): () => number {
  let s = seed;
  return () => (s = (s * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31;
}

/**
 * Chunks written as Parquet parts by PartWriter (DuckDB's appender and COPY, with or without a column cast back from text), parts
 * assembled by DuckDB, read back by a DuckDB of the test's own: every type, nulls, the rejected split.
 */
describe('batch parts', () => {
  let dir: string;
  beforeAll(() => (dir = mkdtempSync(join(tmpdir(), 'mlp-part-writer-'))));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const file = (ext: string) => join(dir, `f-${Math.random().toString(36).slice(2)}.${ext}`);

  async function read(path: string, format: 'parquet' | 'csv' = 'parquet'): Promise<{ rows: Record<string, unknown>[]; types: Record<string, string>; rowGroups?: number }> {
    const db = await (await DuckDBInstance.create(':memory:')).connect();
    const source = format === 'parquet' ? `read_parquet('${path}')` : `read_csv('${path}', header = true, all_varchar = true)`;
    const rows = (await db.runAndReadAll(`SELECT * FROM ${source}`)).getRowObjectsJson() as Record<string, unknown>[];
    const described = (await db.runAndReadAll(`DESCRIBE SELECT * FROM ${source}`)).getRowObjectsJson() as { column_name: string; column_type: string }[];
    const rowGroups = format === 'parquet' ? Number((await db.runAndReadAll(`SELECT count(DISTINCT row_group_id) AS n FROM parquet_metadata('${path}')`)).getRowObjectsJson()[0].n) : undefined;
    db.closeSync();
    return { rows, types: Object.fromEntries(described.map((d) => [d.column_name, d.column_type])), rowGroups };
  }

  it.each([
    ['columns in their own types', true],
    ['a column cast back from text', false],
  ])('writes every supported type, with nulls and a row selection, as DuckDB reads it back: %s', async (_, native) => {
    const next = rng(5);
    const n = 4500; // three DuckDB vectors a chunk
    const fixed = (type: string, width: number, write: (view: DataView, r: number, x: number) => void, value: (view: DataView, r: number) => unknown) => {
      const bytes = new Uint8Array(n * width);
      const view = new DataView(bytes.buffer);
      const nulls = new Uint8Array(n);
      for (let r = 0; r < n; r++) {
        nulls[r] = next() < 0.2 ? 1 : 0;
        write(view, r, next());
      }
      const expected = Array.from({ length: n }, (_, r) => (nulls[r] ? null : value(view, r)));
      return { name: type.toLowerCase(), column: { type, nulls, kind: 'fixed' as const, width, bytes } as PartColumn, expected };
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
    const amounts = ['12.50', '-3.25', '0.00'];
    const named: { name: string; column: PartColumn; fileType?: string }[] = [
      { name: '_row', column: { type: 'BIGINT', kind: 'int64', values: row } },
      ...specs.map((s) => ({ name: s.name, column: s.column })),
      { name: 'text', column: { type: 'VARCHAR', kind: 'text', codes, dictionary } },
      { name: 'label', column: { type: "ENUM('no', 'yes')", kind: 'text', codes: Int32Array.from({ length: n }, (_, r) => r % 2), dictionary: ['no', 'yes'] }, fileType: 'VARCHAR' },
      { name: 'p', column: { type: 'DOUBLE', kind: 'double', values: probability } },
      { name: 'flag', column: { type: 'BOOLEAN', kind: 'bool', values: flags } },
      // Text read from a column of another type is cast back to it in the file (by DuckDB).
      ...(native ? [] : [{ name: 'amount', column: { type: 'VARCHAR', kind: 'text', codes: Int32Array.from({ length: n }, (_, r) => (r % 7 === 0 ? -1 : r % 3)), dictionary: amounts }, fileType: 'DECIMAL(10,2)' } as const]),
    ];
    const fields: PartField[] = named.map((c, j) => ({ name: c.name, column: j, type: c.fileType ?? c.column.type }));
    const writer = await PartWriter.open(join(dir, 'duck'), named.map((c) => c.column.type));
    try {
      // Two chunks of the same rows: the first with no row rejected, the second with every third row rejected.
      const none = new Uint8Array(n);
      const third = Uint8Array.from({ length: n }, (_, r) => (r % 3 === 0 ? 1 : 0));
      const [first, second, rejects] = [file('parquet'), file('parquet'), file('parquet')];
      await writer.write(named.map((c) => c.column), n, none, [{ path: first, fields, rejected: false }]);
      await writer.write(named.map((c) => c.column), n, third, [
        { path: second, fields, rejected: false },
        { path: rejects, fields: [fields[0], fields[fields.length - 1]], rejected: true },
      ]);
      // Each part is one row group, in the columns' DuckDB types.
      expect((await read(first)).rowGroups).toBe(1);
      const rejected = await read(rejects);
      expect(rejected.rows.map((r) => Number(r._row))).toEqual(row.filter((_, r) => r % 3 === 0));
      expect(rejected.types).toEqual(native ? { _row: 'BIGINT', flag: 'BOOLEAN' } : { _row: 'BIGINT', amount: 'DECIMAL(10,2)' });

      // The parts streamed into one file: one row group per part (row groups of the chunk size).
      const out = file('parquet');
      expect(await writer.assemble([first, second], out, 'parquet', [], n)).toBe(n + (n - n / 3));
      expect((await read(out)).rowGroups).toBe(2);
      const { rows, types } = await read(out);
      expect(types).toEqual({
        _row: 'BIGINT', boolean: 'BOOLEAN', tinyint: 'TINYINT', smallint: 'SMALLINT', integer: 'INTEGER', bigint: 'BIGINT', utinyint: 'UTINYINT', usmallint: 'USMALLINT', uinteger: 'UINTEGER',
        float: 'FLOAT', double: 'DOUBLE', date: 'DATE', timestamp: 'TIMESTAMP', text: 'VARCHAR', label: 'VARCHAR', p: 'DOUBLE', flag: 'BOOLEAN', ...(native ? {} : { amount: 'DECIMAL(10,2)' }),
      });
      const selected = [...Array.from({ length: n }, (_, r) => r), ...Array.from({ length: n }, (_, r) => r).filter((r) => r % 3 !== 0)];
      expect(rows).toHaveLength(selected.length);
      // Column by column: what DuckDB read back against what was written.
      const column = (name: string) => rows.map((got) => got[name]);
      expect(column('_row').map(Number)).toEqual(selected.map((r) => row[r]));
      for (const s of specs) {
        const want = selected.map((r) => s.expected[r]);
        const got = column(s.name);
        if (s.column.type === 'FLOAT') got.forEach((v, i) => (want[i] === null ? expect(v).toBeNull() : expect(v as number).toBeCloseTo(want[i] as number, 4)));
        else if (s.column.type === 'BIGINT' || s.column.type === 'TIMESTAMP' || s.column.type === 'DATE') expect(got.map((v) => (v === null ? null : String(v)))).toEqual(want);
        else expect(got).toEqual(want);
      }
      expect(column('text')).toEqual(selected.map((r) => (codes[r] < 0 ? null : dictionary[codes[r]])));
      expect(column('label')).toEqual(selected.map((r) => (r % 2 ? 'yes' : 'no')));
      expect(column('p')).toEqual(selected.map((r) => probability[r]));
      expect(column('flag')).toEqual(selected.map((r) => flags[r] === 1));
      if (!native) expect(column('amount').map((v) => (v === null ? null : Number(v)))).toEqual(selected.map((r) => (r % 7 === 0 ? null : Number(amounts[r % 3]))));

      // The same parts as CSV: the same rows in the same order.
      const csv = file('csv');
      expect(await writer.assemble([first, second], csv, 'csv', [], n)).toBe(selected.length);
      const text = await read(csv, 'csv');
      expect(text.rows.map((r) => Number(r._row))).toEqual(selected.map((r) => row[r]));
      expect(text.rows.map((r) => r.label)).toEqual(selected.map((r) => (r % 2 ? 'yes' : 'no')));
    } finally {
      writer.close();
    }
  }, 60_000);

  it('writes a part without rows (every row rejected) that keeps its columns and assembles with the others', async () => {
    const columns: PartColumn[] = [
      { type: 'BIGINT', kind: 'int64', values: [0, 1, 2] },
      { type: "ENUM('no', 'yes')", kind: 'text', codes: Int32Array.from([0, 1, 1]), dictionary: ['no', 'yes'] },
      { type: 'DOUBLE', kind: 'double', values: Float64Array.from([0.25, 0.5, 0.75]) },
    ];
    const fields: PartField[] = [
      { name: '_row', column: 0, type: 'BIGINT' },
      { name: 'prediction', column: 1, type: 'VARCHAR' },
      { name: 'p', column: 2, type: 'DOUBLE' },
    ];
    const writer = await PartWriter.open(join(dir, 'duck-none'), columns.map((c) => c.type));
    try {
      const [empty, full, out] = [file('parquet'), file('parquet'), file('parquet')];
      await writer.write(columns, 3, Uint8Array.from([1, 1, 1]), [{ path: empty, fields, rejected: false }]);
      await writer.write(columns, 3, Uint8Array.from([0, 1, 0]), [{ path: full, fields, rejected: false }]);
      expect(await read(empty)).toEqual({ rows: [], types: { _row: 'BIGINT', prediction: 'VARCHAR', p: 'DOUBLE' }, rowGroups: 0 });
      expect(await writer.assemble([empty, full], out, 'parquet', [], 10)).toBe(2);
      expect((await read(out)).rows).toEqual([
        { _row: '0', prediction: 'no', p: 0.25 },
        { _row: '2', prediction: 'yes', p: 0.75 },
      ]);
    } finally {
      writer.close();
    }
  });

  it('writes a file without rows that still has its columns', async () => {
    const writer = await PartWriter.open(join(dir, 'duck-empty'), ['BIGINT', "ENUM('no', 'yes')"]);
    try {
      const out = file('parquet');
      expect(await writer.assemble([], out, 'parquet', [{ name: '_row', type: 'BIGINT' }, { name: 'prediction', type: 'VARCHAR' }], 10)).toBe(0);
      const { rows, types } = await read(out);
      expect(rows).toEqual([]);
      expect(types).toEqual({ _row: 'BIGINT', prediction: 'VARCHAR' });
    } finally {
      writer.close();
    }
  });
});
