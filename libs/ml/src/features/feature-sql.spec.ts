import { TestDuck, day, openTestDuck } from '../testing/duck';
import { featureColumns, featureViewSql } from './feature-sql';
import { EntitySpec, FeatureSpec, FeatureViewSpec, parseFeatureViewsYaml } from './feature-view-spec';

const customer: EntitySpec = { name: 'customer', joinKeys: ['customer_id'] };

function view(features: FeatureSpec[], overrides: Partial<FeatureViewSpec> = {}): FeatureViewSpec {
  return { name: 'stats', entity: 'customer', source: { dataset: 'transactions' }, timestamp: 'ts', online: false, features, ...overrides };
}

function agg(name: string, fn: 'count' | 'sum' | 'mean' | 'min' | 'max' | 'std' | 'distinct_count', column: string | undefined, window: string, windowSeconds: number): FeatureSpec {
  return { kind: 'aggregation', name, agg: fn, ...(column ? { column } : {}), window, windowSeconds };
}
const DAY = 86_400;

describe('featureViewSql (executed by DuckDB)', () => {
  let duck: TestDuck;

  beforeAll(async () => {
    duck = await openTestDuck();
  });
  afterAll(() => duck.close());

  /** Creates table `src` with the given rows (column: SQL type). */
  async function source(columns: Record<string, string>, rows: unknown[][]): Promise<void> {
    await duck.run('DROP TABLE IF EXISTS src');
    await duck.run(`CREATE TABLE src (${Object.entries(columns).map(([n, t]) => `${n} ${t}`).join(', ')})`);
    if (rows.length === 0) return;
    const literal = (v: unknown) => (v === null ? 'NULL' : typeof v === 'string' ? `'${v}'` : String(v));
    await duck.run(`INSERT INTO src VALUES ${rows.map((r) => `(${r.map(literal).join(', ')})`).join(', ')}`);
  }

  async function compute(v: FeatureViewSpec, entity = customer): Promise<Record<string, unknown>[]> {
    return duck.all(featureViewSql(v, entity, { sourceTable: 'src' }));
  }

  describe('window aggregations, point in time', () => {
    beforeAll(async () => {
      // customer a: day 0, 3, 8 (the brief's example); b: day 0, 7 - 1s, 7 (the exclusive lower edge);
      // c: two rows at the same time, one after.
      await source({ customer_id: 'VARCHAR', ts: 'TIMESTAMP', amount: 'DOUBLE', country: 'VARCHAR' }, [
        ['a', day(8), 60, 'fr'], // out of order on purpose
        ['a', day(0), 10, 'fr'],
        ['a', day(3), 20, 'de'],
        ['b', day(0), 100, 'us'],
        ['b', day(7 - 1 / 86_400), 200, 'us'],
        ['b', day(7), 400, null],
        ['c', day(1), 1, 'x'],
        ['c', day(1), 3, 'y'],
        ['c', day(2), null, 'x'],
      ]);
    });

    const features = [
      agg('mean_7d', 'mean', 'amount', '7d', 7 * DAY),
      agg('sum_7d', 'sum', 'amount', '7d', 7 * DAY),
      agg('n_7d', 'count', undefined, '7d', 7 * DAY),
      agg('n_amount_7d', 'count', 'amount', '7d', 7 * DAY),
      agg('min_7d', 'min', 'amount', '7d', 7 * DAY),
      agg('max_7d', 'max', 'amount', '7d', 7 * DAY),
      agg('countries_7d', 'distinct_count', 'country', '7d', 7 * DAY),
      agg('n_30d', 'count', undefined, '30d', 30 * DAY),
    ];

    it('uses rows of the same entity in (ts - window, ts], never later rows', async () => {
      const rows = await compute(view(features));
      expect(rows.filter((r) => r.customer_id === 'a')).toEqual([
        { customer_id: 'a', event_timestamp: day(0), mean_7d: 10, sum_7d: 10, n_7d: 1, n_amount_7d: 1, min_7d: 10, max_7d: 10, countries_7d: 1, n_30d: 1 },
        { customer_id: 'a', event_timestamp: day(3), mean_7d: 15, sum_7d: 30, n_7d: 2, n_amount_7d: 2, min_7d: 10, max_7d: 20, countries_7d: 2, n_30d: 2 },
        // day 0 is 8 days old at day 8: out of the 7d window, still in the 30d one
        { customer_id: 'a', event_timestamp: day(8), mean_7d: 40, sum_7d: 80, n_7d: 2, n_amount_7d: 2, min_7d: 20, max_7d: 60, countries_7d: 2, n_30d: 3 },
      ]);
    });

    it('excludes a row exactly one window old and includes one a second younger', async () => {
      const rows = (await compute(view(features))).filter((r) => r.customer_id === 'b');
      expect(rows.map((r) => [r.event_timestamp, r.mean_7d, r.n_7d, r.n_amount_7d, r.countries_7d])).toEqual([
        [day(0), 100, 1, 1, 1],
        ['2024-01-07 23:59:59', 150, 2, 2, 1],
        // day 0 is exactly 7d old: out. count(*) counts the row with a NULL country, distinct_count does not.
        [day(7), 300, 2, 2, 1],
      ]);
    });

    it('includes every row with the same timestamp (RANGE frame), and count(column) skips NULLs', async () => {
      const rows = (await compute(view(features))).filter((r) => r.customer_id === 'c');
      expect(rows.map((r) => [r.event_timestamp, r.mean_7d, r.n_7d, r.n_amount_7d, r.countries_7d])).toEqual([
        [day(1), 2, 2, 2, 2],
        [day(1), 2, 2, 2, 2],
        [day(2), 2, 3, 2, 2],
      ]);
    });

    it('computes the sample standard deviation', async () => {
      await source(
        { customer_id: 'VARCHAR', ts: 'TIMESTAMP', amount: 'DOUBLE' },
        [2, 4, 4, 4, 5, 5, 7, 9].map((x, i) => ['s', day(i / 24), x]),
      );
      const rows = await compute(view([agg('std_1d', 'std', 'amount', '1d', DAY)]));
      // population std of this classic sample is 2; the sample std is sqrt(32 / 7)
      expect(rows[7].std_1d).toBeCloseTo(Math.sqrt(32 / 7), 12);
      expect(rows[0].std_1d).toBeNull(); // one value: undefined sample std
      expect(rows[1].std_1d).toBeCloseTo(Math.SQRT2, 12); // 2 and 4
    });

    it('partitions by every join key', async () => {
      await source({ shop: 'VARCHAR', customer_id: 'VARCHAR', ts: 'TIMESTAMP', amount: 'DOUBLE' }, [
        ['s1', 'a', day(0), 1],
        ['s2', 'a', day(0), 10],
        ['s1', 'a', day(1), 3],
        ['s1', 'b', day(1), 100], // same shop, other customer
        ['s2', 'b', day(1), 1_000], // same customer as above, other shop
      ]);
      const pair: EntitySpec = { name: 'shopper', joinKeys: ['shop', 'customer_id'] };
      const rows = await compute(view([agg('total', 'sum', 'amount', '2d', 2 * DAY)], { entity: 'shopper' }), pair);
      expect(rows).toEqual([
        { shop: 's1', customer_id: 'a', event_timestamp: day(0), total: 1 },
        { shop: 's1', customer_id: 'a', event_timestamp: day(1), total: 4 },
        { shop: 's1', customer_id: 'b', event_timestamp: day(1), total: 100 },
        { shop: 's2', customer_id: 'a', event_timestamp: day(0), total: 10 },
        { shop: 's2', customer_id: 'b', event_timestamp: day(1), total: 1_000 },
      ]);
    });
  });

  describe('row transforms', () => {
    beforeAll(async () => {
      await source({ customer_id: 'VARCHAR', ts: 'TIMESTAMP', x: 'DOUBLE', y: 'BIGINT' }, [
        ['a', '2024-01-01 00:00:00', -5, 3], // Monday
        ['b', '2024-01-07 23:59:59', 0, 0], // Sunday
        ['c', '2024-03-15 13:45:00', 9.999, 4], // Friday
        ['d', '2024-12-31 06:00:00', 10, -2], // Tuesday
        ['e', '2024-06-01 00:00:00', 1000, 5],
        ['f', '2024-06-01 00:00:00', null, null],
        ['g', '2024-06-01 00:00:00', Math.E - 1, 1],
        ['h', '2024-06-01 00:00:00', -1, 1],
      ]);
    });

    async function values(feature: FeatureSpec): Promise<Record<string, unknown>> {
      const rows = await compute(view([feature]));
      return Object.fromEntries(rows.map((r) => [r.customer_id, r[feature.name]]));
    }

    it('log1p: ln(1 + x), NULL at x <= -1 and for NULL', async () => {
      const v = await values({ kind: 'transform', name: 'f', expr: 'log1p', column: 'x' });
      expect(v.b).toBe(0);
      expect(v.g).toBeCloseTo(1, 12);
      expect(v.e).toBeCloseTo(Math.log(1001), 12);
      expect([v.a, v.h, v.f]).toEqual([null, null, null]);
    });

    it('clip: both bounds, one bound, NULL stays NULL', async () => {
      expect(await values({ kind: 'transform', name: 'f', expr: 'clip', column: 'x', min: 0, max: 100 })).toMatchObject({ a: 0, b: 0, c: 9.999, d: 10, e: 100, f: null });
      expect(await values({ kind: 'transform', name: 'f', expr: 'clip', column: 'x', max: 5 })).toMatchObject({ a: -5, c: 5, e: 5, f: null });
    });

    it('bucketize: a value equal to a boundary goes to the bucket above', async () => {
      const v = await values({ kind: 'transform', name: 'f', expr: 'bucketize', column: 'x', boundaries: [0, 10, 100] });
      expect(v).toEqual({ a: 0, b: 1, c: 1, d: 2, e: 3, f: null, g: 1, h: 0 });
    });

    it('hour, weekday (Monday = 0 … Sunday = 6) and month', async () => {
      expect(await values({ kind: 'transform', name: 'f', expr: 'hour', column: 'ts' })).toMatchObject({ a: 0, b: 23, c: 13, d: 6 });
      expect(await values({ kind: 'transform', name: 'f', expr: 'weekday', column: 'ts' })).toMatchObject({ a: 0, b: 6, c: 4, d: 1, e: 5 });
      expect(await values({ kind: 'transform', name: 'f', expr: 'month', column: 'ts' })).toMatchObject({ a: 1, b: 1, c: 3, d: 12, e: 6 });
    });

    it('poly, interaction, and ratio with NULL for a zero denominator', async () => {
      expect(await values({ kind: 'transform', name: 'f', expr: 'poly', column: 'y', degree: 3 })).toMatchObject({ a: 27, b: 0, c: 64, d: -8, f: null });
      expect(await values({ kind: 'transform', name: 'f', expr: 'poly', column: 'x', degree: 2 })).toMatchObject({ a: 25, d: 100 });
      expect(await values({ kind: 'transform', name: 'f', expr: 'interaction', columns: ['x', 'y'] })).toMatchObject({ a: -15, b: 0, d: -20, f: null });
      expect(await values({ kind: 'transform', name: 'f', expr: 'ratio', columns: ['x', 'y'] })).toMatchObject({ a: -5 / 3, b: null, d: -5, e: 200, f: null });
      expect(await values({ kind: 'transform', name: 'f', expr: 'ratio', columns: ['y', 'x'] })).toMatchObject({ b: null, d: -0.2 });
    });

    it('passes a column through as it is', async () => {
      expect(await values({ kind: 'passthrough', name: 'f', column: 'y' })).toMatchObject({ a: 3, d: -2, f: null });
    });
  });

  describe('output', () => {
    it('has join keys, event_timestamp and the features in order, typed as featureColumns says', async () => {
      await source({ customer_id: 'VARCHAR', ts: 'DATE', amount: 'BIGINT', country: 'VARCHAR', day: 'DATE' }, [['a', '2024-05-01', 3, 'fr', '2024-04-30']]);
      const repo = parseFeatureViewsYaml(`entities: [{name: customer, joinKeys: [customer_id]}]
featureViews:
  - name: stats
    entity: customer
    source: {dataset: transactions}
    timestamp: ts
    features:
      - {name: amount_mean_7d, agg: mean, column: amount, window: 7d}
      - {name: amount_sum_7d, agg: sum, column: amount, window: 7d}
      - {name: txn_count_30d, agg: count, window: 30d}
      - {name: countries, agg: distinct_count, column: country, window: 30d}
      - {name: first_day, agg: min, column: day, window: 30d}
      - {name: amount_log, expr: log1p, column: amount}
      - {name: bucket, expr: bucketize, column: amount, boundaries: [1]}
      - {name: wd, expr: weekday, column: ts}
      - {name: country, column: country}
`);
      const v = repo.featureViews[0];
      const sql = featureViewSql(v, repo.entities[0], { sourceTable: 'src' });
      const described = await duck.describe(sql);
      expect(described.map((c) => c.name)).toEqual(['customer_id', 'event_timestamp', ...v.features.map((f) => f.name)]);
      expect(described[1].type).toBe('TIMESTAMP');
      const types = featureColumns(v, { customer_id: 'string', ts: 'date', amount: 'int', country: 'category', day: 'date' });
      expect(types).toEqual(described.slice(2).map((c) => ({ name: c.name, type: c.type })));
      expect(featureColumns(v).find((c) => c.name === 'country')).toEqual({ name: 'country', type: null });
      const [row] = await duck.all(sql);
      expect(row).toEqual({
        customer_id: 'a',
        event_timestamp: '2024-05-01 00:00:00',
        amount_mean_7d: 3,
        amount_sum_7d: 3,
        txn_count_30d: 1,
        countries: 1,
        first_day: '2024-04-30',
        amount_log: Math.log(4),
        bucket: 1,
        wd: 2, // 2024-05-01 is a Wednesday
        country: 'fr',
      });
    });

    it('leaves out rows with a NULL timestamp or join key', async () => {
      await source({ customer_id: 'VARCHAR', ts: 'TIMESTAMP', amount: 'DOUBLE' }, [
        ['a', day(0), 1],
        [null, day(0), 2],
        ['a', null, 4],
      ]);
      expect(await compute(view([agg('n', 'count', undefined, '1d', DAY)]))).toEqual([{ customer_id: 'a', event_timestamp: day(0), n: 1 }]);
    });

    it('quotes identifiers that are SQL keywords', async () => {
      await source({ '"order"': 'VARCHAR', '"select"': 'TIMESTAMP', '"from"': 'DOUBLE' }, [['a', day(0), 2]]);
      const keyword: EntitySpec = { name: 'order', joinKeys: ['order'] };
      const rows = await compute(view([{ kind: 'transform', name: 'where', expr: 'poly', column: 'from', degree: 2 }], { entity: 'order', timestamp: 'select' }), keyword);
      expect(rows).toEqual([{ order: 'a', event_timestamp: day(0), where: 4 }]);
    });

    it('refuses an entity that is not the view’s', () => {
      expect(() => featureViewSql(view([]), { name: 'merchant', joinKeys: ['merchant_id'] }, { sourceTable: 'src' })).toThrow(
        'feature view stats is keyed by entity customer, not merchant',
      );
    });
  });
});
