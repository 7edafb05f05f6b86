import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';
import { parseSchemaYaml } from '@mlp/data';
import { processFile } from './process-file';

/** processFile on small files whose every figure is known: non-finite numbers and honest distinct counts. */
describe('processFile', () => {
  jest.setTimeout(120_000);
  let dir: string;
  let db: DuckDBInstance;
  let sql: DuckDBConnection;
  let n = 0;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'mlp-process-'));
    db = await DuckDBInstance.create(':memory:', { threads: '1' });
    sql = await db.connect();
  });
  afterAll(() => {
    sql?.closeSync();
    db?.closeSync();
    rmSync(dir, { recursive: true, force: true });
  });

  const rowsOf = async (query: string) => (await sql.runAndReadAll(query)).getRowObjectsJson();
  async function ingest(csv: string, schemaYaml: string, format: 'csv' | 'parquet' = 'csv') {
    const i = n++;
    let path = join(dir, `in-${i}.csv`);
    writeFileSync(path, csv);
    if (format === 'parquet') {
      const parquet = join(dir, `in-${i}.parquet`);
      await sql.run(`COPY (SELECT * FROM read_csv('${path}', all_varchar = true)) TO '${parquet}' (FORMAT PARQUET)`);
      path = parquet;
    }
    return processFile({ path, format }, { dataset: 'd', schema: parseSchemaYaml(schemaYaml), workDir: join(dir, `job-${i}`) });
  }

  const nonFinite = ['NaN', 'nan', 'inf', '-inf', 'Infinity', '-Infinity', '+Infinity', '1e400', '9'.repeat(400)];
  const csv = ['id,x', '1,1.5', '2,-0', '3,5e-324', '4,1e308', ...nonFinite.map((v, i) => `${10 + i},${v}`), '30,2.5', ''].join('\n');

  it.each(['csv', 'parquet'] as const)('quarantines NaN, ±Infinity and overflowing numbers as non_finite in a float column without bounds (%s)', async (format) => {
    const result = await ingest(csv, 'dataset: d\ncolumns:\n  id: {type: int}\n  x: {type: float}\n', format);
    expect(result.rows).toBe(5 + nonFinite.length);
    expect(result.accepted).toBe(5);
    expect(result.reasons).toEqual({ non_finite: nonFinite.length });
    const q = await rowsOf(`SELECT "row", raw, reasons[1].code AS code, reasons[1].message AS message, len(reasons) AS n FROM '${result.quarantineFile}' ORDER BY "row"`);
    expect(q.map((r) => [Number(r.row), r.code, Number(r.n)])).toEqual(nonFinite.map((_, i) => [5 + i, 'non_finite', 1]));
    expect(q.map((r) => JSON.parse(r.raw as string).x)).toEqual(nonFinite);
    expect(q[0].message).toBe('not a finite number: NaN');
    const accepted = await rowsOf(`SELECT id, x FROM '${result.acceptedFile}'`);
    expect(accepted.map((r) => Number(r.x))).toEqual([1.5, -0, 5e-324, 1e308, 2.5]);
    const x = result.report.columns.find((c) => c.name === 'x')!;
    expect(x).toMatchObject({ count: 5, nonFinite: 0, min: 0, max: 1e308 });
    expect(Number.isFinite(x.mean) && Number.isFinite(x.std)).toBe(true);
  });

  it('keeps NaN and ±Infinity when the column allows them, counts them, and leaves them out of the statistics', async () => {
    const result = await ingest(csv, 'dataset: d\ncolumns:\n  id: {type: int}\n  x: {type: float, allowNonFinite: true}\n');
    expect(result.quarantined).toBe(0);
    expect(result.accepted).toBe(5 + nonFinite.length);
    const x = result.report.columns.find((c) => c.name === 'x')!;
    expect(x).toMatchObject({ count: 5 + nonFinite.length, nonFinite: nonFinite.length, min: 0, max: 1e308 });
    expect(x.histogram!.counts.reduce((a, b) => a + b, 0)).toBe(5);
    expect(JSON.parse(JSON.stringify(result.report))).toEqual(result.report);
  });

  it('checks bounds on finite values only: NaN and ±Infinity are non_finite, or allowed (±Infinity past a bound is out of range)', async () => {
    const text = 'id,x\n1,NaN\n2,inf\n3,-inf\n4,50\n5,500\n';
    const strict = await ingest(text, 'dataset: d\ncolumns:\n  id: {type: int}\n  x: {type: float, min: 0, max: 100}\n');
    const codes = async (file: string | null) =>
      (await rowsOf(`SELECT "row", list_transform(reasons, r -> r.code) AS c FROM '${file}' ORDER BY "row"`)).map((r) => [Number(r.row), r.c]);
    expect(await codes(strict.quarantineFile)).toEqual([
      [1, ['non_finite']],
      [2, ['non_finite']],
      [3, ['non_finite']],
      [5, ['out_of_range']],
    ]);
    const allowed = await ingest(text, 'dataset: d\ncolumns:\n  id: {type: int}\n  x: {type: float, min: 0, max: 100, allowNonFinite: true}\n');
    expect(await codes(allowed.quarantineFile)).toEqual([
      [2, ['out_of_range']],
      [3, ['out_of_range']],
      [5, ['out_of_range']],
    ]);
  });

  it('rejects allowNonFinite on a column that is not float', () => {
    expect(() => parseSchemaYaml('dataset: d\ncolumns:\n  n: {type: int, allowNonFinite: true}\n')).toThrow(/allowNonFinite is only allowed on float columns/);
  });

  it('reports the exact distinct count of a declared-unique column (1,461 values, where the estimate is 1,288-ish)', async () => {
    const days = Array.from({ length: 1461 }, (_, i) => new Date(Date.UTC(2013, 0, 1) + i * 86_400_000).toISOString().slice(0, 10));
    const text = ['date,v', ...days.map((d, i) => `${d},${i % 7}`)].join('\n');
    const estimate = (await rowsOf(`SELECT approx_count_distinct(d) AS e FROM (SELECT unnest([${days.map((d) => `'${d}'`).join(',')}]) AS d)`))[0].e;
    expect(Number(estimate)).not.toBe(1461); // the figure the report used to show as exact
    const result = await ingest(text, 'dataset: d\ncolumns:\n  date: {type: string, unique: true}\n  v: {type: int}\n');
    const [date, v] = result.report.columns;
    expect(date.distinct).toBe(1461);
    expect(date.distinctApproximate).toBeUndefined();
    expect(v.distinct).toBe(7);
    expect(v.distinctApproximate).toBeUndefined();
  });

  it('quarantines a later duplicate that passes every other check with its raw values, read again from the file', async () => {
    const text = 'id,x\n1,1\n 2 ,2\n+2,3\n3,NaN\n3,4\n';
    for (const format of ['csv', 'parquet'] as const) {
      const result = await ingest(text, 'dataset: d\nprimaryKey: [id]\ncolumns:\n  id: {type: int}\n  x: {type: float}\n', format);
      const q = await rowsOf(`SELECT "row", raw, list_transform(reasons, r -> r.code) AS c FROM '${result.quarantineFile}' ORDER BY "row"`);
      expect(q.map((r) => [Number(r.row), JSON.parse(r.raw as string), r.c])).toEqual([
        [3, { id: '+2', x: '3' }, ['duplicate_key']],
        [4, { id: '3', x: 'NaN' }, ['non_finite']],
        [5, { id: '3', x: '4' }, ['duplicate_key']],
      ]);
      expect(result.accepted).toBe(2);
    }
  });
  it('quarantines exactly the repeated keys of a large CSV, whose 32-bit key hashes also collide for distinct keys', async () => {
    const keys = Array.from({ length: 300_000 }, (_, i) => `k${i}`);
    const text = ['id,x', ...keys.map((k, i) => `${k},${i}`), 'k17,1', 'k299999,2', 'k17,3', ''].join('\n');
    // The duplicate check sorts 32-bit hashes of the keys: distinct keys sharing one must not be taken for repeats.
    const collisions = await rowsOf(`SELECT count(*) - count(DISTINCT (hash(k) >> 32)::UINTEGER) AS n FROM (SELECT 'k' || i AS k FROM range(300000) t(i))`);
    expect(Number(collisions[0].n)).toBeGreaterThan(0);
    const result = await ingest(text, 'dataset: d\nprimaryKey: [id]\ncolumns:\n  id: {type: string}\n  x: {type: int}\n');
    const q = await rowsOf(`SELECT "row", list_transform(reasons, r -> r.code) AS c FROM '${result.quarantineFile}' ORDER BY "row"`);
    expect(q.map((r) => [Number(r.row), r.c])).toEqual([
      [300_001, ['duplicate_key']],
      [300_002, ['duplicate_key']],
      [300_003, ['duplicate_key']],
    ]);
    expect(result.accepted).toBe(300_000);
  });
  it.each(['csv', 'parquet'] as const)('honours UTC offsets in datetime values and in the schema\'s datetime bounds (%s)', async (format) => {
    // Bounds [06:00Z, 09:00+02:00 = 07:00Z]. Values: 07:30Z is past max; 08:30+02:00 (06:30Z) and 10:00+05:00 (05:00Z → before min)
    // only look inside or outside when the offset is dropped; 2024-01-01 06:45 has no offset (UTC).
    const data = ['id,ts', '1,2024-01-01T07:30:00Z', '2,2024-01-01T08:30:00+02:00', '3,2024-01-01T10:00:00+05:00', '4,2024-01-01 06:45:00', '5,2024-01-01T01:00:00-05:30', ''].join('\n');
    const result = await ingest(data, "dataset: d\ncolumns:\n  id: {type: int}\n  ts: {type: datetime, min: '2024-01-01T06:00:00Z', max: '2024-01-01T09:00:00+02:00'}\n", format);
    const accepted = await rowsOf(`SELECT id, CAST(ts AS VARCHAR) AS ts FROM '${result.acceptedFile}' ORDER BY id`);
    expect(accepted.map((r) => [Number(r.id), r.ts])).toEqual([
      [2, '2024-01-01 06:30:00'],
      [4, '2024-01-01 06:45:00'],
      [5, '2024-01-01 06:30:00'],
    ]);
    const q = await rowsOf(`SELECT "row", reasons[1].code AS code FROM '${result.quarantineFile}' ORDER BY "row"`);
    expect(q.map((r) => [Number(r.row), r.code])).toEqual([
      [1, 'out_of_range'],
      [3, 'out_of_range'],
    ]);
    const ts = result.report.columns.find((c) => c.name === 'ts')!;
    expect([ts.min, ts.max]).toEqual(['2024-01-01 06:30:00', '2024-01-01 06:45:00']);
  });
});
