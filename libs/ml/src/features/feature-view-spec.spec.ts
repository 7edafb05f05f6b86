import { ValidationError } from '@mlp/contracts';
import { featureRepoSchema, parseFeatureRepo, parseFeatureViewsYaml, validateFeatureRepo } from './feature-view-spec';

const example = `entities:
  - name: customer
    joinKeys: [customer_id]
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
      - {name: country, column: country}
`;

/** The example with feature lines replaced (features start on line 13). */
function withFeatures(...lines: string[]): string {
  return example.replace(/ {4}features:\n[\s\S]*$/, `    features:\n${lines.map((l) => `      - ${l}`).join('\n')}\n`);
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

describe('parseFeatureViewsYaml', () => {
  it('parses the example into typed entities, views and features', () => {
    const repo = parseFeatureViewsYaml(example);
    expect(repo.entities).toEqual([{ name: 'customer', joinKeys: ['customer_id'] }]);
    expect(repo.featureViews).toHaveLength(1);
    const view = repo.featureViews[0];
    expect(view).toMatchObject({ name: 'customer_stats', entity: 'customer', source: { dataset: 'transactions' }, timestamp: 'ts', ttl: '30d', ttlSeconds: 30 * 86_400, online: true });
    expect(view.source.version).toBeUndefined();
    expect(view.features).toEqual([
      { kind: 'aggregation', name: 'amount_mean_7d', agg: 'mean', column: 'amount', window: '7d', windowSeconds: 604_800 },
      { kind: 'aggregation', name: 'txn_count_30d', agg: 'count', window: '30d', windowSeconds: 2_592_000 },
      { kind: 'transform', name: 'amount_log', expr: 'log1p', column: 'amount' },
      { kind: 'passthrough', name: 'country', column: 'country' },
    ]);
  });

  it('parses every transform, a pinned source and defaults online to false', () => {
    const text = example
      .replace('source: {dataset: transactions}', 'source: {dataset: transactions, version: 3}')
      .replace('    online: true\n', '')
      .replace(/ {4}features:\n[\s\S]*$/, '');
    const repo = parseFeatureViewsYaml(
      `${text}    features:
      - {name: a_clip, expr: clip, column: amount, min: 0}
      - {name: a_bucket, expr: bucketize, column: amount, boundaries: [0, 10, 100]}
      - {name: h, expr: hour, column: ts}
      - {name: wd, expr: weekday, column: ts}
      - {name: m, expr: month, column: ts}
      - {name: a_cube, expr: poly, column: amount, degree: 3}
      - {name: a_x_q, expr: interaction, columns: [amount, qty]}
      - {name: a_per_q, expr: ratio, columns: [amount, qty]}
      - {name: n_countries, agg: distinct_count, column: country, window: 1h30m}
`,
    );
    const view = repo.featureViews[0];
    expect(view.source).toEqual({ dataset: 'transactions', version: 3 });
    expect(view.online).toBe(false);
    expect(view.features).toEqual([
      { kind: 'transform', name: 'a_clip', expr: 'clip', column: 'amount', min: 0 },
      { kind: 'transform', name: 'a_bucket', expr: 'bucketize', column: 'amount', boundaries: [0, 10, 100] },
      { kind: 'transform', name: 'h', expr: 'hour', column: 'ts' },
      { kind: 'transform', name: 'wd', expr: 'weekday', column: 'ts' },
      { kind: 'transform', name: 'm', expr: 'month', column: 'ts' },
      { kind: 'transform', name: 'a_cube', expr: 'poly', column: 'amount', degree: 3 },
      { kind: 'transform', name: 'a_x_q', expr: 'interaction', columns: ['amount', 'qty'] },
      { kind: 'transform', name: 'a_per_q', expr: 'ratio', columns: ['amount', 'qty'] },
      { kind: 'aggregation', name: 'n_countries', agg: 'distinct_count', column: 'country', window: '1h30m', windowSeconds: 5_400 },
    ]);
  });

  it('names file, line, column and the view and feature by name for a bad window', () => {
    const err = yamlError(withFeatures('{name: amount_mean_7d, agg: mean, column: amount, window: 0d}'));
    expect(err.message).toBe('featureviews.yaml:12:67 featureViews.customer_stats.features.amount_mean_7d.window: must be positive, received "0d"');
    expect(err.details).toEqual([
      { path: 'featureViews.customer_stats.features.amount_mean_7d.window', message: 'must be positive, received "0d" (line 12, column 67)' },
    ]);
  });

  it('uses the given source name', () => {
    expect(() => parseFeatureViewsYaml(withFeatures('{name: x, agg: sum, column: amount, window: 7 days}'), 'repo/fv.yaml')).toThrow(
      /^repo\/fv\.yaml:12:53 featureViews\.customer_stats\.features\.x\.window: expected a duration such as 30m, 12h, 7d or 2w/,
    );
  });

  it.each([
    ['an unknown key, at the key', '{name: x, column: amount, windw: 7d}', 12, 35, 'featureViews.customer_stats.features.x.windw', 'unknown key "windw"; expected one of name, column (add agg: or expr: for a computed feature)'],
    ['an unknown aggregation', '{name: x, agg: median, column: amount, window: 7d}', 12, 24, 'featureViews.customer_stats.features.x.agg', 'expected one of count, sum, mean, min, max, std, distinct_count, received "median"'],
    ['an unknown transform', '{name: x, expr: sqrt, column: amount}', 12, 25, 'featureViews.customer_stats.features.x.expr', 'expected one of log1p, clip, bucketize, year, month, day, weekday, dayofyear, hour, minute, is_weekend, epoch, dateparts, poly, interaction, ratio, received "sqrt"'],
    ['an aggregation without a column', '{name: x, agg: mean, window: 7d}', 12, 9, 'featureViews.customer_stats.features.x.column', 'required: agg mean needs a column'],
    ['clip without bounds', '{name: x, expr: clip, column: amount}', 12, 25, 'featureViews.customer_stats.features.x.expr', 'clip needs min, max or both'],
    ['clip with min above max', '{name: x, expr: clip, column: amount, min: 5, max: 1}', 12, 60, 'featureViews.customer_stats.features.x.max', 'max (1) is less than min (5)'],
    ['unsorted boundaries', '{name: x, expr: bucketize, column: amount, boundaries: [0, 10, 5]}', 12, 72, 'featureViews.customer_stats.features.x.boundaries.2', 'boundaries must be strictly ascending: 5 follows 10'],
    ['a repeated boundary', '{name: x, expr: bucketize, column: amount, boundaries: [1, 1]}', 12, 68, 'featureViews.customer_stats.features.x.boundaries.1', 'boundaries must be strictly ascending: 1 follows 1'],
    ['degree 5', '{name: x, expr: poly, column: amount, degree: 5}', 12, 55, 'featureViews.customer_stats.features.x.degree', 'degree must be 2, 3 or 4'],
    ['degree 1', '{name: x, expr: poly, column: amount, degree: 1}', 12, 55, 'featureViews.customer_stats.features.x.degree', 'degree must be 2, 3 or 4'],
    ['a fractional degree', '{name: x, expr: poly, column: amount, degree: 2.5}', 12, 55, 'featureViews.customer_stats.features.x.degree', 'degree must be 2, 3 or 4'],
    ['three columns for ratio', '{name: x, expr: ratio, columns: [a, b, c]}', 12, 41, 'featureViews.customer_stats.features.x.columns', 'expected two columns: [a, b]'],
    ['a name that is not an identifier', '{name: 2fast, column: amount}', 12, 16, 'featureViews.customer_stats.features.0.name', 'must be an identifier: a letter or _, then letters, digits or _, received "2fast"'],
    ['a feature named like a join key', '{name: customer_id, column: customer_id}', 12, 16, 'featureViews.customer_stats.features.customer_id.name', '"customer_id" is a join key of entity customer; join keys are always in the output'],
    ['a feature named event_timestamp', '{name: event_timestamp, column: ts}', 12, 16, 'featureViews.customer_stats.features.event_timestamp.name', '"event_timestamp" is reserved for the output\'s event time; rename the feature'],
  ])('rejects %s', (_what, feature, line, col, path, message) => {
    const err = yamlError(withFeatures(feature));
    expect(err.details).toEqual([{ path, message: `${message} (line ${line}, column ${col})` }]);
    expect(err.message).toBe(`featureviews.yaml:${line}:${col} ${path}: ${message}`);
  });

  it('rejects an unknown entity and names the declared ones', () => {
    const err = yamlError(example.replace('entity: customer', 'entity: client'));
    expect(err.message).toBe('featureviews.yaml:6:13 featureViews.customer_stats.entity: unknown entity "client"; declared: customer');
  });

  it('rejects duplicate view and feature names', () => {
    const view = example.slice(example.indexOf('  - name: customer_stats'));
    const text = `${example}${view}`.replace('{name: txn_count_30d', '{name: amount_mean_7d');
    const err = yamlError(text);
    expect(err.details.map((d) => `${d.path}: ${d.message}`)).toEqual([
      'featureViews.customer_stats.features.amount_mean_7d.name: feature "amount_mean_7d" is defined twice in view customer_stats (first at featureViews.0.features.0) (line 13, column 16)',
      'featureViews.customer_stats.name: feature view "customer_stats" is defined twice (first at featureViews.0) (line 16, column 11)',
    ]);
  });

  it('rejects an unknown key on a view and on an entity, and a malformed ttl', () => {
    const err = yamlError(example.replace('    online: true', '    onlin: true').replace('joinKeys: [customer_id]', 'joinKeys: [customer_id]\n    key: x').replace('ttl: 30d', 'ttl: 30'));
    expect(err.message).toBe(
      [
        '3 problems in featureviews.yaml:',
        '  featureviews.yaml:4:5 entities.customer.key: unknown key "key"; expected one of name, joinKeys',
        '  featureviews.yaml:10:10 featureViews.customer_stats.ttl: expected a duration such as 30m, 12h, 7d or 2w, received 30',
        '  featureviews.yaml:11:5 featureViews.customer_stats.onlin: unknown key "onlin"; expected one of name, entity, source, timestamp, ttl, online, features',
      ].join('\n'),
    );
  });

  it('says what is missing and where its parent is', () => {
    const err = yamlError(example.replace('    timestamp: ts\n', '').replace('source: {dataset: transactions}', 'source: {version: 2}'));
    expect(err.details.map((d) => `${d.path}: ${d.message}`)).toEqual([
      'featureViews.customer_stats.timestamp: required (line 5, column 5)',
      'featureViews.customer_stats.source.dataset: required (line 7, column 5)',
    ]);
  });

  it('reports YAML syntax errors with their line', () => {
    const err = yamlError('entities:\n  - name: customer\n    joinKeys: [customer_id\nfeatureViews: []\n');
    expect(err.message).toMatch(/^featureviews\.yaml:\d+:\d+ YAML syntax error: /);
    expect(err.details[0].path).toBe('');
  });

  it('rejects a document that is not a mapping, and an empty one', () => {
    expect(yamlError('- a\n- b\n').message).toBe('featureviews.yaml:1:1 expected a mapping with entities and featureViews');
    expect(yamlError('{}\n').message).toBe('featureviews.yaml:1:1 define at least one entity and one feature view');
  });

  it('still reports cross-reference problems when a feature is malformed', () => {
    const err = yamlError(withFeatures('{name: a, column: amount}', '{name: a, agg: mean, column: amount, window: -1d}'));
    expect(err.details.map((d) => d.path)).toEqual(['featureViews.customer_stats.features.a.name', 'featureViews.customer_stats.features.a.window']);
  });
});

describe('parseFeatureRepo and featureRepoSchema (plain values)', () => {
  const value = {
    entities: [{ name: 'customer', joinKeys: ['customer_id'] }],
    featureViews: [{ name: 'v', entity: 'customer', source: { dataset: 'd' }, timestamp: 'ts', features: [{ name: 'n', agg: 'count', window: '1d' }] }],
  };

  it('accepts a valid value with both entry points', () => {
    expect(parseFeatureRepo(value).featureViews[0].features[0]).toEqual({ kind: 'aggregation', name: 'n', agg: 'count', window: '1d', windowSeconds: 86_400 });
    expect(featureRepoSchema.parse(value)).toEqual(parseFeatureRepo(value));
  });

  it('throws a ValidationError with named paths and no line numbers', () => {
    const bad = { ...value, featureViews: [{ ...value.featureViews[0], entity: 'nobody' }] };
    expect(() => parseFeatureRepo(bad)).toThrow(ValidationError);
    expect(() => parseFeatureRepo(bad)).toThrow('invalid feature views: featureViews.v.entity: unknown entity "nobody"; declared: customer');
    expect(featureRepoSchema.safeParse(bad).success).toBe(false);
    expect(validateFeatureRepo(bad)).toEqual({ ok: false, issues: [{ path: ['featureViews', 0, 'entity'], message: 'unknown entity "nobody"; declared: customer' }] });
  });
});
