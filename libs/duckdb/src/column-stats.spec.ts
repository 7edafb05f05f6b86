import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openDuck, type Duck } from './duck';
import { columnStats, EXACT_DISTINCT_ROWS, finiteSummaries, parquetWriteStats } from './column-stats';

describe('columnStats', () => {
  let dir: string;
  let duck: Duck;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'mlp-stats-'));
    duck = await openDuck(join(dir, 'duck'), { threads: 1 });
  });
  afterAll(() => {
    duck?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('skips NaN and ±Infinity in every figure, counts them, and never fails on them', async () => {
    await duck.run(`CREATE TABLE nf AS SELECT * FROM (VALUES (1.0), (2.0), (3.0), ('NaN'::DOUBLE), ('Infinity'::DOUBLE), ('-Infinity'::DOUBLE), (NULL)) t(x)`);
    const { columns } = await columnStats(duck, 'nf', [{ name: 'x', type: 'float' }]);
    const x = columns[0];
    expect(x).toMatchObject({ count: 6, missing: 1, nonFinite: 3, min: 1, max: 3, mean: 2, std: 1 });
    expect(x.histogram!.counts.reduce((a, b) => a + b, 0)).toBe(3);
    expect(Object.values(x.quantiles!).every(Number.isFinite)).toBe(true);
    // The report travels as JSON: no figure may turn into null.
    expect(JSON.parse(JSON.stringify(x))).toEqual(x);
  });

  it('gives finite mean, std and histogram for values near ±1.8e308 (stddev_samp alone is out of range)', async () => {
    await duck.run(`CREATE TABLE huge AS SELECT * FROM (VALUES (1e308), (-1e308), (1e308), (5e-324), (-0.0)) t(x)`);
    await expect(duck.one('SELECT stddev_samp(x) FROM huge')).rejects.toThrow(/out of range/i);
    const { columns } = await columnStats(duck, 'huge', [{ name: 'x', type: 'float' }]);
    const x = columns[0];
    expect(x.nonFinite).toBe(0);
    expect(x.min).toBe(-1e308);
    expect(x.max).toBe(1e308);
    expect(x.mean).toBeCloseTo(1e308 / 5, -300);
    expect(Number.isFinite(x.std)).toBe(true);
    expect(x.std! / 1e308).toBeCloseTo(Math.sqrt((2 * (1 - 0.2) ** 2 + (-1 - 0.2) ** 2 + 2 * 0.2 ** 2) / 4), 6);
    expect(x.histogram!.counts).toEqual([1, 0, 0, 0, 0, 2, 0, 0, 0, 2]);
  });

  it('finiteSummaries: the same figures for callers that need no histogram', async () => {
    const s = await finiteSummaries(duck, 'nf', ['x']);
    expect(s.x).toEqual({ count: 3, nonFinite: 3, min: 1, max: 3, mean: 2, std: 1 });
  });

  it('marks distinct counts as approximate only when they are, and counts declared-unique columns exactly', async () => {
    const n = EXACT_DISTINCT_ROWS + 50_000;
    // u: unique strings; c: 1,461 distinct values (approx_count_distinct is off on it); t: a near-unique timestamp.
    await duck.run(`CREATE TABLE big AS SELECT 'id-' || i AS u, 'v' || (i % 1461) AS c, TIMESTAMP '2020-01-01' + INTERVAL (i) SECOND AS t FROM range(${n}) r(i)`);
    const approx = Number((await duck.one<{ d: string }>(`SELECT approx_count_distinct(u) AS d FROM big`)).d);
    expect(approx).not.toBe(n); // the estimate that used to be reported as the distinct count
    const { columns } = await columnStats(
      duck,
      'big',
      [
        { name: 'u', type: 'string' },
        { name: 'c', type: 'category' },
        { name: 't', type: 'datetime' },
      ],
      { uniqueColumns: ['u'] },
    );
    const [u, c, t] = columns;
    expect(u.distinct).toBe(n);
    expect(u.distinctApproximate).toBeUndefined();
    expect(c.distinct).toBe(1461);
    expect(c.distinctApproximate).toBeUndefined();
    expect(c.topValues).toHaveLength(10);
    expect(t.distinctApproximate).toBe(true);
  });

  it('gives exact quantiles on small tables and flags estimated ones on large tables', async () => {
    await duck.run(`CREATE TABLE q AS SELECT i::DOUBLE AS x FROM range(101) r(i)`);
    const [small] = (await columnStats(duck, 'q', [{ name: 'x', type: 'float' }])).columns;
    expect(small.quantiles).toEqual({ p01: 1, p25: 25, p50: 50, p75: 75, p99: 99 });
    expect(small.quantilesApproximate).toBeUndefined();
    await duck.run(`CREATE TABLE qb AS SELECT (i % 1000)::DOUBLE AS x FROM range(${EXACT_DISTINCT_ROWS + 1}) r(i)`);
    const [big] = (await columnStats(duck, 'qb', [{ name: 'x', type: 'float' }])).columns;
    expect(big.quantilesApproximate).toBe(true);
    expect(big.quantiles!.p50).toBeGreaterThan(480);
    expect(big.quantiles!.p50).toBeLessThan(520);
  });

  it('counts distinct values exactly on small tables', async () => {
    await duck.run(`CREATE TABLE small AS SELECT i AS k, 'x' || i AS s FROM range(1461) r(i)`);
    const { columns } = await columnStats(duck, 'small', [
      { name: 'k', type: 'int' },
      { name: 's', type: 'string' },
    ]);
    expect(columns.map((c) => [c.distinct, c.distinctApproximate])).toEqual([
      [1461, undefined],
      [1461, undefined],
    ]);
  });
  it('gives the same figures in one pass from the Parquet writer\'s statistics as from its own aggregates', async () => {
    const n = EXACT_DISTINCT_ROWS + 1000;
    const file = join(dir, 'w.parquet');
    // Random doubles (bounds must round-trip through their text form), -0, ints, timestamps, a declared category,
    // a near-unique string, a low-cardinality string found by estimate, nulls, and a column that is all null.
    const written = parquetWriteStats(
      await duck.one(`COPY (SELECT CASE WHEN i % 7 = 0 THEN NULL WHEN i = 5 THEN -0.0 ELSE random() * 1e6 - 3e5 END AS "f x",
        (i % 50) - 20 AS k, TIMESTAMP '2020-01-01 00:00:00.5' + INTERVAL (i) SECOND AS t, ['a', 'b', 'c'][1 + i % 3] AS cat,
        'id' || i AS id, 's' || (i % 300) AS s, NULL::DOUBLE AS z FROM range(${n}) r(i)) TO '${file}' (FORMAT PARQUET, RETURN_STATS)`),
    );
    await duck.run(`CREATE TABLE w AS SELECT * FROM read_parquet('${file}')`);
    const cols = [
      { name: 'f x', type: 'float' as const },
      { name: 'k', type: 'int' as const },
      { name: 't', type: 'datetime' as const },
      { name: 'cat', type: 'category' as const },
      { name: 'id', type: 'string' as const },
      { name: 's', type: 'string' as const },
      { name: 'z', type: 'float' as const },
    ];
    expect(written.rows).toBe(n);
    expect(written.columns['f x'].count).toBe(n - Math.ceil(n / 7));
    const options = { uniqueColumns: ['id'], fewValueColumns: ['cat'] };
    const twoPass = await columnStats(duck, 'w', cols, options);
    const onePass = await columnStats(duck, 'w', cols, { ...options, known: written });
    expect(onePass).toEqual(twoPass);
    expect(twoPass.columns.map((c) => [c.name, c.distinct, c.distinctApproximate])).toEqual([
      ['f x', expect.any(Number), true],
      ['k', 50, undefined],
      ['t', expect.any(Number), true],
      ['cat', 3, undefined],
      ['id', n, undefined],
      ['s', 300, undefined],
      ['z', 0, undefined],
    ]);
    expect(twoPass.columns[3].topValues).toHaveLength(3);
  });

  it('falls back to its own aggregates when the writer\'s bounds are not finite', async () => {
    const file = join(dir, 'nf.parquet');
    const written = parquetWriteStats(await duck.one(`COPY nf TO '${file}' (FORMAT PARQUET, RETURN_STATS)`));
    expect(written.columns.x.hasNan).toBe(true);
    const { columns } = await columnStats(duck, 'nf', [{ name: 'x', type: 'float' }], { known: written });
    expect(columns[0]).toMatchObject({ count: 6, nonFinite: 3, min: 1, max: 3 });
  });
  it('takes every figure of a short-range int column from its value counts, exactly as DuckDB computes them', async () => {
    // Skewed values over [-300, 696] with nulls, on a table large enough for estimates elsewhere.
    await duck.run(`CREATE TABLE ints AS SELECT CASE WHEN i % 11 = 0 THEN NULL ELSE (i * i) % 997 - 300 END AS x FROM range(${EXACT_DISTINCT_ROWS + 7}) r(i)`);
    const [x] = (await columnStats(duck, 'ints', [{ name: 'x', type: 'int' }])).columns;
    const ref = await duck.one<Record<string, unknown>>(`SELECT count(x) AS n, count(DISTINCT x) AS d, min(x)::DOUBLE AS mn, max(x)::DOUBLE AS mx, avg(x) AS mean,
      stddev_samp(x) AS std, quantile_cont(x::DOUBLE, [0.01, 0.25, 0.5, 0.75, 0.99]) AS q FROM ints`);
    const width = (Number(ref.mx) - Number(ref.mn)) / 10;
    const bins = await duck.all<{ b: number; n: string }>(
      `SELECT least(floor((x - ${Number(ref.mn)}) / ${width}), 9)::INTEGER AS b, count(*) AS n FROM ints WHERE x IS NOT NULL GROUP BY 1 ORDER BY 1`,
    );
    expect(x).toMatchObject({ count: Number(ref.n), distinct: Number(ref.d), min: Number(ref.mn), max: Number(ref.mx) });
    expect(x.distinctApproximate).toBeUndefined();
    expect(x.quantilesApproximate).toBeUndefined();
    expect(Object.values(x.quantiles!)).toEqual((ref.q as number[]).map(Number));
    expect(x.mean).toBeCloseTo(Number(ref.mean), 9);
    expect(x.std).toBeCloseTo(Number(ref.std), 9);
    expect(x.histogram!.counts).toEqual(bins.map((b) => Number(b.n)));
  });
});
