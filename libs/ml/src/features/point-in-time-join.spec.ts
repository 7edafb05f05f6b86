import { ValidationError } from '@mlp/contracts';
import { TestDuck, day, openTestDuck } from '../testing/duck';
import { featureViewSql } from './feature-sql';
import { parseFeatureViewsYaml } from './feature-view-spec';
import { historicalJoinSql } from './point-in-time-join';

const DAY = 86_400;

describe('historicalJoinSql (executed by DuckDB)', () => {
  let duck: TestDuck;

  beforeAll(async () => {
    duck = await openTestDuck();
    // A materialized feature table as featureViewSql produces it.
    await duck.run('CREATE TABLE customer_feats (customer_id VARCHAR, event_timestamp TIMESTAMP, spend DOUBLE, n BIGINT)');
    await duck.run(`INSERT INTO customer_feats VALUES
      ('a', '${day(1)}', 1, 1),
      ('a', '${day(5)}', 5, 2),
      ('a', '${day(10)}', 10, 3),
      ('b', '${day(2)}', 200, 1)`);
    await duck.run('CREATE TABLE merchant_feats (merchant_id INTEGER, event_timestamp TIMESTAMP, risk DOUBLE)');
    await duck.run(`INSERT INTO merchant_feats VALUES (7, '${day(0)}', 0.5), (7, '${day(6)}', 0.9), (8, '${day(3)}', 0.1)`);
  });
  afterAll(() => duck.close());

  async function entities(rows: [string | null, number | null, string | null][]): Promise<void> {
    await duck.run('DROP TABLE IF EXISTS labels');
    await duck.run('CREATE TABLE labels (customer_id VARCHAR, merchant_id INTEGER, ts TIMESTAMP, label INTEGER)');
    const lit = (v: unknown) => (v === null ? 'NULL' : typeof v === 'string' ? `'${v}'` : String(v));
    await duck.run(`INSERT INTO labels VALUES ${rows.map((r, i) => `(${lit(r[0])}, ${lit(r[1])}, ${lit(r[2])}, ${i})`).join(', ')}`);
  }

  const customerView = { name: 'cust', joinKeys: ['customer_id'], table: 'customer_feats', features: ['spend', 'n'] };

  it('takes the latest feature row at or before the entity time: ties visible, future rows never', async () => {
    await entities([
      ['a', null, day(7)], // between day 5 and day 10 → day 5
      ['a', null, day(5)], // exact tie → day 5 is visible
      ['a', null, day(5 - 1 / 86_400)], // one second before day 5 → day 1
      ['a', null, day(0)], // before any history → NULL (day 1, 5, 10 are all in its future)
      ['a', null, day(30)], // after everything → day 10
    ]);
    const rows = await duck.all(historicalJoinSql({ entityTable: 'labels', entityTimestamp: 'ts', views: [customerView] }));
    expect(rows.map((r) => [r.label, r.cust__spend, r.cust__n])).toEqual([
      [0, 5, 2],
      [1, 5, 2],
      [2, 1, 1],
      [3, null, null],
      [4, 10, 3],
    ]);
  });

  it('never shows a feature row from after the entity time (leakage)', async () => {
    // For every entity time, the served value must come from a feature row at or before it.
    const times = [0, 0.5, 1, 1.5, 4.99, 5, 5.01, 9.99, 10, 11].map(day);
    await entities(times.map((t) => ['a', null, t] as [string, null, string]));
    const sql = historicalJoinSql({ entityTable: 'labels', entityTimestamp: 'ts', views: [customerView] });
    const rows = await duck.all(sql);
    const featureDay: Record<number, number> = { 1: 1, 5: 5, 10: 10 }; // spend equals the day of its row
    for (const row of rows) {
      const entityDay = (Date.parse(`${String(row.ts).replace(' ', 'T')}Z`) - Date.UTC(2024, 0, 1)) / 86_400_000;
      if (row.cust__spend === null) expect(entityDay).toBeLessThan(1);
      else {
        expect(featureDay[row.cust__spend as number]).toBeLessThanOrEqual(entityDay);
        // and it is the latest such row
        expect(Object.values(featureDay).filter((d) => d <= entityDay && d > (row.cust__spend as number))).toEqual([]);
      }
    }
    expect(rows.map((r) => r.cust__spend)).toEqual([null, null, 1, 1, 1, 5, 5, 5, 10, 10]);
  });

  it('gives NULL for features older than the TTL; exactly TTL old is still served', async () => {
    await entities([
      ['a', null, day(7)], // day 5 row is 2d old: served
      ['a', null, day(7 + 1 / 86_400)], // 2d + 1s old: NULL
      ['a', null, day(9)], // 4d old: NULL
      ['a', null, day(10)], // fresh again
    ]);
    const rows = await duck.all(historicalJoinSql({ entityTable: 'labels', entityTimestamp: 'ts', views: [{ ...customerView, ttlSeconds: 2 * DAY }] }));
    expect(rows.map((r) => [r.cust__spend, r.cust__n])).toEqual([
      [5, 2],
      [null, null],
      [null, null],
      [10, 3],
    ]);
  });

  it('gives NULL to entities without history and keeps every entity row and column', async () => {
    await entities([
      ['zz', null, day(9)],
      [null, null, day(9)],
      ['b', null, null],
      ['b', null, day(9)],
    ]);
    const rows = await duck.all(historicalJoinSql({ entityTable: 'labels', entityTimestamp: 'ts', views: [customerView] }));
    expect(rows).toEqual([
      { customer_id: 'zz', merchant_id: null, ts: day(9), label: 0, cust__spend: null, cust__n: null },
      { customer_id: null, merchant_id: null, ts: day(9), label: 1, cust__spend: null, cust__n: null },
      { customer_id: 'b', merchant_id: null, ts: null, label: 2, cust__spend: null, cust__n: null },
      { customer_id: 'b', merchant_id: null, ts: day(9), label: 3, cust__spend: 200, cust__n: 1 },
    ]);
  });

  it('joins several views with different entities, each on its own keys and TTL', async () => {
    await entities([
      ['a', 7, day(6)],
      ['b', 8, day(3)],
      ['a', 8, day(0.5)],
      ['b', 7, day(20)],
    ]);
    const sql = historicalJoinSql({
      entityTable: 'labels',
      entityTimestamp: 'ts',
      views: [
        { ...customerView, features: ['spend'] },
        { name: 'merch', joinKeys: ['merchant_id'], table: 'merchant_feats', features: ['risk'], ttlSeconds: 7 * DAY },
      ],
    });
    const rows = await duck.all(sql);
    expect(Object.keys(rows[0])).toEqual(['customer_id', 'merchant_id', 'ts', 'label', 'cust__spend', 'merch__risk']);
    expect(rows.map((r) => [r.label, r.cust__spend, r.merch__risk])).toEqual([
      [0, 5, 0.9], // merchant 7 at day 6: tie with its day 6 row
      [1, 200, 0.1],
      [2, null, null], // merchant 8's first row is at day 3
      [3, 200, null], // merchant 7's day 6 row is 14 days old: past the 7d TTL
    ]);
  });

  it('accepts a DATE entity timestamp (midnight)', async () => {
    await duck.run('CREATE OR REPLACE TABLE dated AS SELECT * FROM (VALUES (\'a\', DATE \'2024-01-06\'), (\'a\', DATE \'2024-01-02\')) v(customer_id, d)');
    const rows = await duck.all(historicalJoinSql({ entityTable: 'dated', entityTimestamp: 'd', views: [customerView] }));
    expect(rows.map((r) => [r.d, r.cust__spend])).toEqual([
      ['2024-01-06', 5], // day 5 = 2024-01-06 00:00: a tie
      ['2024-01-02', 1],
    ]);
  });

  it('works end to end on the output of featureViewSql, without leaking later transactions', async () => {
    const repo = parseFeatureViewsYaml(`entities: [{name: customer, joinKeys: [customer_id]}]
featureViews:
  - name: customer_stats
    entity: customer
    source: {dataset: transactions}
    timestamp: ts
    ttl: 30d
    features:
      - {name: amount_mean_7d, agg: mean, column: amount, window: 7d}
      - {name: txn_count_30d, agg: count, window: 30d}
`);
    await duck.run('CREATE OR REPLACE TABLE txns (customer_id VARCHAR, ts TIMESTAMP, amount DOUBLE)');
    await duck.run(`INSERT INTO txns VALUES ('a', '${day(0)}', 10), ('a', '${day(3)}', 20), ('a', '${day(8)}', 60), ('a', '${day(8)}', 100)`);
    const view = repo.featureViews[0];
    await duck.run(`CREATE OR REPLACE TABLE stats AS ${featureViewSql(view, repo.entities[0], { sourceTable: 'txns' })}`);
    await entities([
      ['a', null, day(7.5)],
      ['a', null, day(8)],
      ['a', null, day(60)],
    ]);
    const rows = await duck.all(
      historicalJoinSql({
        entityTable: 'labels',
        entityTimestamp: 'ts',
        views: [{ name: view.name, joinKeys: ['customer_id'], table: 'stats', features: view.features.map((f) => f.name), ttlSeconds: view.ttlSeconds }],
      }),
    );
    expect(rows.map((r) => [r.customer_stats__amount_mean_7d, r.customer_stats__txn_count_30d])).toEqual([
      [15, 2], // as of day 3: the day 8 transactions are in the future
      [60, 4], // day 8: mean of day 3 and both same-time rows (day 0 is 8 days old, but within 30d)
      [null, null], // 52 days after the last row: past the 30d TTL
    ]);
  });

  it('rejects bad options with field-level details', () => {
    const call = () =>
      historicalJoinSql({
        entityTable: 'labels',
        entityTimestamp: 'ts; DROP TABLE x',
        views: [
          { name: 'a__b', joinKeys: ['k'], table: 't', features: ['c'] },
          { name: 'a', joinKeys: [], table: 't', features: ['b__c'], ttlSeconds: 0 },
        ],
      });
    expect(call).toThrow(ValidationError);
    try {
      call();
    } catch (err) {
      expect((err as ValidationError).details).toEqual([
        { path: 'entityTimestamp', message: 'must be an identifier, received "ts; DROP TABLE x"' },
        { path: 'views.1.joinKeys', message: 'list at least one join key' },
        { path: 'views.1.features.0', message: 'output column a__b__c is produced twice (also by views.0.features.0)' },
        { path: 'views.1.ttlSeconds', message: 'must be a positive whole number of seconds, received 0' },
      ]);
    }
  });
});
