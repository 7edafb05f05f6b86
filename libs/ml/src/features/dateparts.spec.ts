import { ValidationError } from '@mlp/contracts';
import { dateParts, parseDateCell } from '../preprocessing/dates';
import { TestDuck, openTestDuck } from '../testing/duck';
import { featureColumns, featureViewSql } from './feature-sql';
import { checkViewAgainstSchema } from './feature-view-schema-check';
import { parseFeatureViewsYaml } from './feature-view-spec';

/** A repo with one view over `sales` (timestamp ts) whose feature list is `features` (lines start at line 9). */
function repo(...features: string[]): string {
  return `entities:
  - {name: shop, joinKeys: [shop_id]}
featureViews:
  - name: sales
    entity: shop
    source: {dataset: sales}
    timestamp: ts
    features:
${features.map((f) => `      - ${f}`).join('\n')}
`;
}

function yamlError(text: string): ValidationError {
  try {
    parseFeatureViewsYaml(text);
  } catch (err) {
    if (err instanceof ValidationError) return err;
    throw err;
  }
  throw new Error('expected a ValidationError');
}

describe('dateparts in a feature view', () => {
  it('stands for one date-part feature per part, named <column>_<part> or <name>_<part>', () => {
    const view = parseFeatureViewsYaml(repo('{expr: dateparts, column: ts, parts: [year, dayofweek, epoch]}', '{name: sold, expr: dateparts, column: sold_at, parts: [hour]}', '{name: n, column: n}')).featureViews[0];
    expect(view.features).toEqual([
      { kind: 'transform', name: 'ts_year', expr: 'year', column: 'ts' },
      { kind: 'transform', name: 'ts_dayofweek', expr: 'weekday', column: 'ts' },
      { kind: 'transform', name: 'ts_epoch', expr: 'epoch', column: 'ts' },
      { kind: 'transform', name: 'sold_hour', expr: 'hour', column: 'sold_at' },
      { kind: 'passthrough', name: 'n', column: 'n' },
    ]);
  });

  it('names unknown parts and clashing outputs with their line', () => {
    const err = yamlError(repo('{expr: dateparts, column: ts, parts: [month, week]}', '{name: ts_month, column: m}', '{name: shop, expr: dateparts, column: ts, parts: [id]}'));
    // In line order: the clash and the unknown part of line 9, then line 11's unknown part and join-key clash.
    expect(err.details).toEqual([
      { path: 'featureViews.sales.features.0.parts.0', message: 'output "ts_month" is produced twice (also by features[1]) (line 9, column 47)' },
      { path: 'featureViews.sales.features.0.parts.1', message: 'expected one of year, month, day, dayofweek, dayofyear, hour, minute, is_weekend, epoch, received "week" (line 9, column 54)' },
      { path: 'featureViews.sales.features.shop.parts.0', message: expect.stringMatching(/^expected one of year, .*received "id" \(line 11, /) },
      { path: 'featureViews.sales.features.shop.parts.0', message: expect.stringMatching(/^"shop_id" is a join key; join keys are always in the output \(line 11, /) },
    ]);
    expect(yamlError(repo('{expr: dateparts, column: ts, parts: []}')).details[0].message).toMatch(/^list at least one part/);
  });

  it('checks the column type per part: hour and minute need a datetime', () => {
    const view = parseFeatureViewsYaml(repo('{expr: dateparts, column: day, parts: [month, minute]}')).featureViews[0];
    expect(checkViewAgainstSchema(view, { shop_id: 'string', ts: 'datetime', day: 'date' })).toEqual([
      { path: 'featureViews.sales.features.day_minute.column', message: 'feature day_minute of view sales: minute needs a datetime column (the hour and minute of a date are always 0); "day" is date' },
    ]);
    expect(checkViewAgainstSchema(view, { shop_id: 'string', ts: 'datetime', day: 'string' })).toHaveLength(2);
  });

  describe('executed by DuckDB', () => {
    let duck: TestDuck;
    beforeAll(async () => {
      duck = await openTestDuck();
    });
    afterAll(() => duck.close());

    it('gives the same parts as the training transformer, typed as featureColumns says', async () => {
      // 2024-02-29T23:30:00+02:00 is 21:30 UTC, day 60, a Thursday; 2023-12-31 18:45 a Sunday; 1969-12-31 23:59 before the epoch.
      const instants = ['2024-02-29T23:30:00+02:00', '2023-12-31T18:45:00Z', '1969-12-31T23:59:00Z', '2000-12-31T00:00:00.250Z'];
      await duck.run('CREATE TABLE src (shop_id VARCHAR, ts TIMESTAMP)');
      const utc = instants.map((t) => new Date(parseDateCell(t)!).toISOString().replace('T', ' ').replace('Z', ''));
      await duck.run(`INSERT INTO src VALUES ${utc.map((t, i) => `('s${i}', TIMESTAMP '${t}')`).join(', ')}`);
      const view = parseFeatureViewsYaml(repo('{expr: dateparts, column: ts, parts: [year, month, day, dayofweek, dayofyear, hour, minute, is_weekend, epoch]}')).featureViews[0];
      const sql = featureViewSql(view, { name: 'shop', joinKeys: ['shop_id'] }, { sourceTable: 'src' });
      const described = await duck.describe(sql);
      expect(featureColumns(view, { shop_id: 'string', ts: 'datetime' })).toEqual(described.slice(2).map((c) => ({ name: c.name, type: c.type })));
      const rows = await duck.all(sql);
      expect(rows[0]).toMatchObject({ ts_year: 2024, ts_month: 2, ts_day: 29, ts_dayofweek: 3, ts_dayofyear: 60, ts_hour: 21, ts_minute: 30, ts_is_weekend: 0, ts_epoch: 1_709_242_200 });
      rows.forEach((row, i) => {
        const parts = dateParts(parseDateCell(instants[i])!);
        expect(row).toEqual({ shop_id: `s${i}`, event_timestamp: expect.any(String), ...Object.fromEntries(Object.entries(parts).map(([p, v]) => [`ts_${p}`, v])) });
      });
    });
  });
});
