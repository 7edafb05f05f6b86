import { diffViews, isBreaking, viewHash } from './feature-view-diff';
import { FeatureViewSpec, parseFeatureViewsYaml } from './feature-view-spec';

const base = `entities: [{name: customer, joinKeys: [customer_id]}, {name: account, joinKeys: [account_id]}]
featureViews:
  - name: customer_stats
    entity: customer
    source: {dataset: transactions}
    timestamp: ts
    ttl: 30d
    online: true
    features:
      - {name: amount_mean_7d, agg: mean, column: amount, window: 7d}
      - {name: txn_count_30d, agg: count, window: 30d}
      - {name: amount_log, expr: log1p, column: amount}
`;

function viewOf(text: string): FeatureViewSpec {
  return parseFeatureViewsYaml(text).featureViews[0];
}
const original = viewOf(base);

describe('viewHash', () => {
  it('is a sha256 hex digest, equal for the same definition', () => {
    expect(viewHash(original)).toMatch(/^[0-9a-f]{64}$/);
    expect(viewHash(viewOf(base))).toBe(viewHash(original));
  });

  it('ignores spelling: 7d = 1w, 30d = 720h, feature order', () => {
    const respelled = base.replace('window: 7d', 'window: 1w').replace('ttl: 30d', 'ttl: 720h');
    const lines = respelled.split('\n');
    const reordered = [...lines.slice(0, 9), lines[11], lines[9], lines[10], ...lines.slice(12)].join('\n');
    expect(viewHash(viewOf(reordered))).toBe(viewHash(original));
  });

  it.each([
    ['a window', base.replace('window: 7d', 'window: 8d')],
    ['the ttl', base.replace('ttl: 30d', 'ttl: 31d')],
    ['online', base.replace('online: true', 'online: false')],
    ['the source version', base.replace('{dataset: transactions}', '{dataset: transactions, version: 2}')],
    ['an aggregation', base.replace('agg: mean', 'agg: max')],
  ])('changes with %s', (_what, text) => {
    expect(viewHash(viewOf(text))).not.toBe(viewHash(original));
  });
});

describe('diffViews and isBreaking', () => {
  it('finds nothing between equal definitions', () => {
    expect(diffViews(original, viewOf(base.replace('window: 7d', 'window: 1w')))).toEqual([]);
    expect(isBreaking([])).toBe(false);
  });

  it('adding a feature and changing ttl or online is not breaking', () => {
    const next = viewOf(
      base.replace('ttl: 30d', 'ttl: 60d').replace('online: true', 'online: false').concat('      - {name: country, column: country}\n'),
    );
    const changes = diffViews(original, next);
    expect(changes.map((c) => c.message)).toEqual(['ttl 4w2d → 8w4d', 'online true → false', 'feature country added']);
    expect(changes.map((c) => c.type)).toEqual(['ttl_changed', 'online_changed', 'feature_added']);
    expect(isBreaking(changes)).toBe(false);
  });

  it('dropping the ttl is a ttl change to none', () => {
    const changes = diffViews(original, viewOf(base.replace('    ttl: 30d\n', '')));
    expect(changes).toEqual([{ type: 'ttl_changed', from: 2_592_000, to: null, breaking: false, message: 'ttl 4w2d → none' }]);
  });

  it.each([
    ['removing a feature', base.replace('      - {name: amount_log, expr: log1p, column: amount}\n', ''), 'feature_removed', 'feature amount_log removed'],
    ['changing a window', base.replace('window: 7d', 'window: 14d'), 'feature_changed', 'feature amount_mean_7d changed'],
    ['changing a transform', base.replace('expr: log1p, column: amount', 'expr: poly, column: amount, degree: 2'), 'feature_changed', 'feature amount_log changed'],
    ['changing the entity', base.replace('entity: customer', 'entity: account'), 'entity_changed', 'entity customer → account'],
    ['changing the timestamp', base.replace('timestamp: ts', 'timestamp: created_at'), 'timestamp_changed', 'timestamp ts → created_at'],
    ['changing the source dataset', base.replace('{dataset: transactions}', '{dataset: payments}'), 'source_changed', 'source transactions (latest) → payments (latest)'],
    ['pinning the source version', base.replace('{dataset: transactions}', '{dataset: transactions, version: 3}'), 'source_changed', 'source transactions (latest) → transactions v3'],
  ])('%s is breaking', (_what, text, type, message) => {
    const changes = diffViews(original, viewOf(text));
    expect(changes).toEqual([expect.objectContaining({ type, message, breaking: true })]);
    expect(isBreaking(changes)).toBe(true);
  });

  it('records the old and new feature of a change, as plain JSON', () => {
    const [change] = diffViews(original, viewOf(base.replace('window: 7d', 'window: 14d')));
    expect(JSON.parse(JSON.stringify(change))).toEqual({
      type: 'feature_changed',
      feature: 'amount_mean_7d',
      from: { kind: 'aggregation', name: 'amount_mean_7d', agg: 'mean', column: 'amount', window: '7d', windowSeconds: 604_800 },
      to: { kind: 'aggregation', name: 'amount_mean_7d', agg: 'mean', column: 'amount', window: '14d', windowSeconds: 1_209_600 },
      breaking: true,
      message: 'feature amount_mean_7d changed',
    });
  });

  it('classifies changes read back without their flag by type', () => {
    expect(isBreaking([{ type: 'feature_added' }, { type: 'ttl_changed' }])).toBe(false);
    expect(isBreaking([{ type: 'feature_added' }, { type: 'feature_removed' }])).toBe(true);
  });
});
