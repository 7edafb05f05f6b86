import type { ColumnType } from '@mlp/data';
import { checkViewAgainstSchema } from './feature-view-schema-check';
import { EntitySpec, FeatureSpec, FeatureViewSpec } from './feature-view-spec';

const columns: Record<string, ColumnType> = {
  customer_id: 'string',
  ts: 'datetime',
  day: 'date',
  amount: 'float',
  qty: 'int',
  country: 'category',
  note: 'string',
  flag: 'bool',
};
const customer: EntitySpec = { name: 'customer', joinKeys: ['customer_id'] };

function view(features: FeatureSpec[], overrides: Partial<FeatureViewSpec> = {}): FeatureViewSpec {
  return { name: 'stats', entity: 'customer', source: { dataset: 'transactions' }, timestamp: 'ts', online: false, features, ...overrides };
}
const agg = (name: string, fn: 'count' | 'sum' | 'mean' | 'min' | 'max' | 'std' | 'distinct_count', column?: string): FeatureSpec => ({
  kind: 'aggregation',
  name,
  agg: fn,
  ...(column ? { column } : {}),
  window: '7d',
  windowSeconds: 604_800,
});

describe('checkViewAgainstSchema', () => {
  it('accepts features that fit their columns', () => {
    const ok = view([
      { kind: 'passthrough', name: 'c', column: 'country' },
      { kind: 'transform', name: 'l', expr: 'log1p', column: 'amount' },
      { kind: 'transform', name: 'b', expr: 'bucketize', column: 'qty', boundaries: [1] },
      { kind: 'transform', name: 'h', expr: 'hour', column: 'ts' },
      { kind: 'transform', name: 'w', expr: 'weekday', column: 'day' },
      { kind: 'transform', name: 'r', expr: 'ratio', columns: ['amount', 'qty'] },
      agg('n', 'count'),
      agg('nn', 'count', 'note'),
      agg('d', 'distinct_count', 'country'),
      agg('s', 'std', 'qty'),
      agg('first_day', 'min', 'day'),
      agg('last_ts', 'max', 'ts'),
    ]);
    expect(checkViewAgainstSchema(ok, columns, customer)).toEqual([]);
  });

  it('names view, feature and field for each misfit', () => {
    const bad = view([
      { kind: 'passthrough', name: 'p', column: 'missing' },
      { kind: 'transform', name: 'l', expr: 'log1p', column: 'note' },
      { kind: 'transform', name: 'c', expr: 'clip', column: 'flag', min: 0 },
      { kind: 'transform', name: 'i', expr: 'interaction', columns: ['amount', 'country'] },
      { kind: 'transform', name: 'm', expr: 'month', column: 'amount' },
      { kind: 'transform', name: 'h', expr: 'hour', column: 'day' },
      agg('s', 'mean', 'country'),
      agg('lo', 'min', 'note'),
    ]);
    expect(checkViewAgainstSchema(bad, columns, customer)).toEqual([
      {
        path: 'featureViews.stats.features.p.column',
        message: 'feature p of view stats: unknown column "missing" in dataset transactions; its columns are customer_id, ts, day, amount, qty, country, note, flag',
      },
      { path: 'featureViews.stats.features.l.column', message: 'feature l of view stats: log1p needs a numeric column (int or float); "note" is string' },
      { path: 'featureViews.stats.features.c.column', message: 'feature c of view stats: clip needs a numeric column (int or float); "flag" is bool' },
      { path: 'featureViews.stats.features.i.columns.1', message: 'feature i of view stats: interaction needs a numeric column (int or float); "country" is category' },
      { path: 'featureViews.stats.features.m.column', message: 'feature m of view stats: month needs a date or datetime column; "amount" is float' },
      { path: 'featureViews.stats.features.h.column', message: 'feature h of view stats: hour needs a datetime column (the hour and minute of a date are always 0); "day" is date' },
      { path: 'featureViews.stats.features.s.column', message: 'feature s of view stats: agg mean needs a numeric column (int or float); "country" is category' },
      { path: 'featureViews.stats.features.lo.column', message: 'feature lo of view stats: agg min needs a numeric, date or datetime column; "note" is string' },
    ]);
  });

  it('checks the timestamp column and the join keys', () => {
    const features: FeatureSpec[] = [agg('n', 'count')];
    expect(checkViewAgainstSchema(view(features, { timestamp: 'note' }), columns, customer)).toEqual([
      { path: 'featureViews.stats.timestamp', message: 'view stats: timestamp column "note" is string; it must be a date or datetime column' },
    ]);
    expect(checkViewAgainstSchema(view(features, { timestamp: 'when' }), columns, customer)[0].message).toMatch(/^view stats: unknown column "when"/);
    expect(checkViewAgainstSchema(view(features, { timestamp: 'day' }), columns, { name: 'customer', joinKeys: ['customer_id', 'store_id'] })).toEqual([
      { path: 'featureViews.stats.entity', message: 'view stats: join key "store_id" of entity customer is not a column of dataset transactions' },
    ]);
  });
});
