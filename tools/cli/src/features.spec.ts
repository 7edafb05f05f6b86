import type { SkewReport } from '@mlp/contracts';
import type { FeatureSpec } from '@mlp/ml';
import { CliError, UsageError } from './api';
import {
  checkFeatureViewsYaml,
  describeFeature,
  describeTtl,
  entitiesDatasetName,
  formatApplied,
  formatExact,
  formatInstant,
  formatMaterialization,
  formatOnline,
  formatSkew,
  formatTrainingSet,
  formatViewDetail,
  formatViewList,
  parseEntitiesSource,
  parseEntityFlags,
  parseFeaturesArgs,
  type Materialization,
  type TrainingSetOutput,
} from './commands/features';
import { coveringMaterialization, demoFeaturesLines, type DemoFeaturesResult } from './commands/demo-features';

describe('parseFeaturesArgs', () => {
  it('reads every command', () => {
    expect(parseFeaturesArgs(['apply', 'fv.yaml'])).toEqual({ command: 'apply', file: 'fv.yaml', force: false });
    expect(parseFeaturesArgs(['apply', '--force', 'fv.yaml'])).toEqual({ command: 'apply', file: 'fv.yaml', force: true });
    expect(parseFeaturesArgs(['list'])).toEqual({ command: 'list' });
    expect(parseFeaturesArgs(['describe', 'customer_spend'])).toEqual({ command: 'describe', view: 'customer_spend' });
    expect(parseFeaturesArgs(['materialize', 'v'])).toEqual({ command: 'materialize', view: 'v' });
    expect(parseFeaturesArgs(['materialize', 'v', '--dataset-version', '3'])).toEqual({ command: 'materialize', view: 'v', datasetVersion: 3 });
    expect(parseFeaturesArgs(['check-skew', 'v'])).toEqual({ command: 'check-skew', view: 'v' });
    expect(parseFeaturesArgs(['check-skew', 'v', '--sample=25'])).toEqual({ command: 'check-skew', view: 'v', sample: 25 });
  });

  it('reads entities and features of a lookup, lists comma-separated or repeated', () => {
    expect(parseFeaturesArgs(['get', 'v', '--entity', 'customer_id=C001', '-e', 'customer_id=C002', '--feature', 'a,b', '-f', 'c'])).toEqual({
      command: 'get',
      view: 'v',
      entities: { customer_id: ['C001', 'C002'] },
      features: ['a', 'b', 'c'],
    });
    expect(parseFeaturesArgs(['get', 'v', '--entity', 'k=a=b'])).toEqual({ command: 'get', view: 'v', entities: { k: ['a=b'] }, features: [] });
  });

  it('reads a training set request', () => {
    expect(
      parseFeaturesArgs(['training-set', '--entities', 'labels:2', '--timestamp', 'label_ts', '--features', 'customer_spend:amount_sum_30d, other', '--features', 'x:y', '--output', 'out.CSV']),
    ).toEqual({
      command: 'training-set',
      entities: { kind: 'dataset', dataset: 'labels', version: 2 },
      timestamp: 'label_ts',
      features: ['customer_spend:amount_sum_30d', 'other', 'x:y'],
      output: 'out.CSV',
      format: 'csv',
    });
    expect(parseFeaturesArgs(['training-set', '--entities', 'data/labels.csv', '--timestamp', 't', '--features', 'v', '-o', 'ts.parquet'])).toMatchObject({
      entities: { kind: 'file', path: 'data/labels.csv', dataset: 'labels-entities' },
      format: 'parquet',
    });
  });

  it.each([
    [[], 'mlp features needs a command'],
    [['push'], "unknown features command 'push'"],
    [['apply'], 'mlp features apply takes one feature views YAML file'],
    [['apply', 'a.yaml', 'b.yaml'], 'mlp features apply takes one feature views YAML file, got 2'],
    [['list', 'x'], 'mlp features list takes no arguments; for one view: mlp features describe <view>'],
    [['describe'], 'mlp features describe takes one view name'],
    [['materialize', 'v', '--dataset-version', '0'], "--dataset-version must be a positive integer, got '0'"],
    [['materialize', 'v', '--dataset-version', '1.5'], "--dataset-version must be a positive integer, got '1.5'"],
    [['get', 'v'], 'give at least one --entity key=value'],
    [['get', 'v', '--entity', 'C001'], "--entity must be key=value, got 'C001'"],
    [['get', 'v', '--entity', '=C001'], "--entity must be key=value, got '=C001'"],
    [['get', 'v', '--entity', 'a=1', '--entity', 'a=2', '--entity', 'b=1'], 'every join key needs the same number of --entity values: a 2, b 1'],
    [['check-skew', 'v', '--sample', 'all'], "--sample must be a positive integer, got 'all'"],
    [['check-skew', 'v', '--tolerance', '1'], "Unknown option '--tolerance'"],
    [['training-set', '--timestamp', 't', '--features', 'v', '--output', 'o.csv'], '--entities is required'],
    [['training-set', '--entities', 'd', '--features', 'v', '--output', 'o.csv'], '--timestamp is required'],
    [['training-set', '--entities', 'd', '--timestamp', 't', '--output', 'o.csv'], '--features is required: view or view:feature, comma-separated'],
    [['training-set', '--entities', 'd', '--timestamp', 't', '--features', ' , '], '--features is required'],
    [['training-set', '--entities', 'd', '--timestamp', 't', '--features', 'v'], '--output is required'],
    [['training-set', '--entities', 'd', '--timestamp', 't', '--features', 'v', '--output', 'o.json'], "--output must end in .parquet or .csv, got 'o.json'"],
    [['training-set', '--entities', 'labels.xlsx', '--timestamp', 't', '--features', 'v', '--output', 'o.csv'], "--entities must be dataset[:version] or a .parquet/.csv/.tsv/.ndjson/.json/.arrow file, got 'labels.xlsx'"],
    [['training-set', '--entities', 'labels:0', '--timestamp', 't', '--features', 'v', '--output', 'o.csv'], "--entities version must be a positive integer, got '0'"],
    [['training-set', 'extra', '--entities', 'd', '--timestamp', 't', '--features', 'v', '--output', 'o.csv'], "unexpected argument 'extra'"],
  ])('refuses %j with a usage error', (args, message) => {
    expect(() => parseFeaturesArgs(args)).toThrow(UsageError);
    expect(() => parseFeaturesArgs(args)).toThrow(message);
  });
});

describe('entities', () => {
  it('pairs the i-th value of every key into the i-th entity', () => {
    expect(parseEntityFlags(['store=s1', 'sku=a', 'store=s2', 'sku=b'])).toEqual({ store: ['s1', 's2'], sku: ['a', 'b'] });
  });

  it('tells datasets from files, and names the dataset a file is ingested into', () => {
    expect(parseEntitiesSource('labels')).toEqual({ kind: 'dataset', dataset: 'labels' });
    expect(parseEntitiesSource('my-labels_2:12')).toEqual({ kind: 'dataset', dataset: 'my-labels_2', version: 12 });
    expect(parseEntitiesSource('./labels.parquet')).toEqual({ kind: 'file', path: './labels.parquet', dataset: 'labels-entities' });
    expect(entitiesDatasetName('/tmp/Churn labels (2024).CSV')).toBe('Churn-labels-2024-entities');
    expect(entitiesDatasetName('.csv')).toBe('csv-entities');
    expect(entitiesDatasetName('__.csv')).toBe('file-entities');
    expect(entitiesDatasetName(`${'x'.repeat(150)}.csv`)).toBe(`${'x'.repeat(91)}-entities`);
  });
});

describe('checkFeatureViewsYaml', () => {
  it('names the file, line and field of every problem before anything is sent', () => {
    const yaml = 'entities:\n  - {name: customer, joinKeys: [customer_id]}\nfeatureViews:\n  - name: v\n    entity: customer\n    source: {dataset: t}\n    timestamp: ts\n    features:\n      - {name: a, agg: mean, column: amount, window: 0d}\n';
    let error: unknown;
    try {
      checkFeatureViewsYaml(yaml, 'fv.yaml');
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(CliError);
    expect((error as Error).message).toBe('invalid feature views in fv.yaml:\n  fv.yaml:9:54 featureViews.v.features.a.window: must be positive, received "0d"');
  });
});

const materialization: Materialization = {
  name: 'customer_spend',
  version: 1,
  materializationId: 'm-1',
  dataset: 'transactions',
  datasetVersion: 1,
  datasetVersions: [1],
  offlineArtifactKey: 'sha256/off',
  offlineSha256: 'off',
  rows: 2000,
  onlineRows: 50,
  statsArtifactKey: 'sha256/stats',
  watermark: '2024-04-29 23:52:12',
  computedRows: 2000,
};

describe('feature view output', () => {
  it('says what apply did to each view', () => {
    expect(
      formatApplied([
        { name: 'a', version: 1, changed: true, breaking: false, diff: [] },
        { name: 'b', version: 3, changed: false, breaking: false, diff: [] },
        { name: 'c', version: 2, changed: true, breaking: true, diff: [{ type: 'feature_removed', message: 'feature x removed' }, { type: 'ttl_changed', message: 'ttl 1d → 2d' }] },
        { name: 'd', version: 4, changed: true, breaking: false, diff: [{ type: 'feature_added', message: 'feature y added' }] },
      ]),
    ).toEqual([
      'a: v1 created',
      'b: v3 unchanged',
      'c: v2 created (BREAKING change), 2 changes from v1:',
      '  - feature x removed',
      '  - ttl 1d → 2d',
      'd: v4 created, 1 change from v3:',
      '  - feature y added',
    ]);
    expect(formatApplied([])).toEqual(['(no feature views in the file)']);
  });

  it('lists views with their latest materialization', () => {
    expect(
      formatViewList([
        { name: 'customer_spend', version: 1, entity: { name: 'customer', joinKeys: ['customer_id'] }, source: { dataset: 'transactions' }, online: true, ttlSeconds: 90 * 86_400, features: ['a', 'b'], materialization },
        { name: 'pinned', version: 2, entity: { name: 'store', joinKeys: ['store', 'sku'] }, source: { dataset: 'sales', version: 3 }, online: false, ttlSeconds: null, features: ['c'], materialization: null },
      ]),
    ).toEqual([
      'NAME            VERSION  ENTITY                  SOURCE                 ONLINE  TTL  FEATURES  MATERIALIZED                WATERMARK',
      'customer_spend        1  customer (customer_id)  transactions (latest)  yes     90d         2  transactions v1: 2000 rows  2024-04-29 23:52:12',
      'pinned                2  store (store, sku)      sales v3               no      -           1  -                           -',
    ]);
  });

  it('spells TTLs in days when they are whole days', () => {
    expect([describeTtl(90 * 86_400), describeTtl(3600), describeTtl(86_400 + 3600), describeTtl(null)]).toEqual(['90d', '1h', '1d1h', '-']);
  });

  it('describes how each kind of feature is computed', () => {
    const features: FeatureSpec[] = [
      { kind: 'aggregation', name: 'a', agg: 'mean', column: 'amount', window: '7d', windowSeconds: 604_800 },
      { kind: 'aggregation', name: 'b', agg: 'count', window: '30d', windowSeconds: 2_592_000 },
      { kind: 'transform', name: 'c', expr: 'log1p', column: 'amount' },
      { kind: 'transform', name: 'd', expr: 'clip', column: 'amount', max: 100 },
      { kind: 'transform', name: 'e', expr: 'bucketize', column: 'amount', boundaries: [10, 50] },
      { kind: 'transform', name: 'f', expr: 'poly', column: 'amount', degree: 2 },
      { kind: 'transform', name: 'g', expr: 'ratio', columns: ['a', 'b'] },
      { kind: 'transform', name: 'h', expr: 'interaction', columns: ['a', 'b'] },
      { kind: 'transform', name: 'i', expr: 'weekday', column: 'ts' },
      { kind: 'passthrough', name: 'j', column: 'country' },
    ];
    expect(features.map(describeFeature)).toEqual([
      'mean(amount) over 7d',
      'count(*) over 30d',
      'log1p(amount)',
      'clip(amount, -inf, 100)',
      'bucketize(amount, [10, 50])',
      'amount^2',
      'a / b',
      'a * b',
      'weekday(ts)',
      'country',
    ]);
  });

  it('describes a view: definition, features, versions, materializations', () => {
    const version = {
      name: 'customer_spend',
      entity: { name: 'customer', joinKeys: ['customer_id'] },
      timestampColumn: 'ts',
      source: { dataset: 'transactions', mode: 'snapshot' },
      ttlSeconds: 90 * 86_400,
      online: true,
    };
    expect(
      formatViewDetail({
        status: 'Defined',
        name: 'customer_spend',
        versions: [
          { ...version, version: 1, diff: [], breaking: false, spec: { features: [{ kind: 'passthrough', name: 'country', column: 'country' }] } },
          {
            ...version,
            version: 2,
            diff: [{ message: 'feature amount_log added' }],
            breaking: false,
            spec: { features: [{ kind: 'passthrough', name: 'country', column: 'country' }, { kind: 'transform', name: 'amount_log', expr: 'log1p', column: 'amount' }] },
          },
        ],
        materializations: [materialization],
      }),
    ).toEqual([
      'feature view customer_spend v2: entity customer (customer_id), source transactions (latest), timestamp ts',
      '  online, ttl 90d',
      'FEATURE     DEFINITION',
      'country     country',
      'amount_log  log1p(amount)',
      'versions:',
      '  VERSION  BREAKING  CHANGES',
      '        1  -         (first version)',
      '        2  no        feature amount_log added',
      'materializations:',
      '  VIEW VERSION  DATASET          ROWS  ONLINE  WATERMARK            OFFLINE',
      '             1  transactions v1  2000      50  2024-04-29 23:52:12  sha256/off',
    ]);
  });

  it('summarizes a materialization, new or already there', () => {
    expect(formatMaterialization(materialization, true)).toEqual([
      'customer_spend v1: materialized from transactions v1: 2000 rows offline, 50 online, watermark 2024-04-29 23:52:12',
      '  materialization: m-1',
      '  offline:         sha256/off',
      '  stats:           sha256/stats',
    ]);
    expect(formatMaterialization({ ...materialization, watermark: null }, false)[0]).toBe(
      'customer_spend v1: already materialized from transactions v1 (the same dataset bytes: nothing recomputed): 2000 rows offline, 50 online, watermark -',
    );
  });
});

describe('online lookups', () => {
  it('prints one line per entity and feature with the value, event time and status', () => {
    expect(
      formatOnline('customer_spend', {
        results: [
          {
            entity: { customer_id: 'C001' },
            features: {
              'customer_spend:amount_mean_30d': { value: 45.123456, eventTimestamp: '2024-04-28T15:21:15.000Z', status: 'present' },
              'customer_spend:txn_count_30d': { value: 31, eventTimestamp: '2024-04-28T15:21:15.000Z', status: 'present' },
              'customer_spend:country': { value: 'US', eventTimestamp: '2024-04-28T15:21:15.250Z', status: 'present' },
            },
          },
          { entity: { customer_id: 'C002' }, features: { 'customer_spend:amount_mean_30d': { value: null, eventTimestamp: '2024-01-20T00:00:00.000Z', status: 'expired' } } },
          { entity: { customer_id: 'nobody' }, features: { 'customer_spend:amount_mean_30d': { value: null, eventTimestamp: null, status: 'missing' } } },
        ],
      }),
    ).toEqual([
      'CUSTOMER_ID  FEATURE          VALUE  EVENT TIME               STATUS',
      'C001         amount_mean_30d  45.12  2024-04-28 15:21:15      present',
      'C001         txn_count_30d    31     2024-04-28 15:21:15      present',
      'C001         country          US     2024-04-28 15:21:15.250  present',
      'C002         amount_mean_30d  -      2024-01-20 00:00:00      expired',
      'nobody       amount_mean_30d  -      -                        missing',
      "expired: the entity's latest row is older than the view's ttl, so its values are not served",
    ]);
  });

  it('shows instants in UTC without zero milliseconds, and leaves other text alone', () => {
    expect([formatInstant('2024-01-09T00:00:00.000Z'), formatInstant('2024-01-09T00:00:00.5Z'), formatInstant('2024-01-09T00:00:00+02:00'), formatInstant(null)]).toEqual([
      '2024-01-09 00:00:00',
      '2024-01-09 00:00:00.5',
      '2024-01-09T00:00:00+02:00',
      '-',
    ]);
  });
});

describe('skew report', () => {
  const report: SkewReport = {
    view: 'customer_spend',
    version: 1,
    materializationId: 'm-1',
    sampled: 50,
    tolerance: 1e-9,
    mismatches: [],
    missing: [],
    ok: true,
  };

  it('says when there is no skew', () => {
    expect(formatSkew(report)).toEqual(['customer_spend v1: 50 entities sampled from materialization m-1, tolerance 1e-9: no skew']);
  });

  it('lists mismatches with exact values and missing rows', () => {
    expect(
      formatSkew({
        ...report,
        sampled: 1,
        ok: false,
        mismatches: [
          { entity: { customer_id: 'C001' }, feature: 'amount_mean_7d', online: 26, offline: 25.000000001, eventTimestamp: '2024-04-28T15:21:15.000Z' },
          { entity: { customer_id: 'C001' }, feature: 'country', online: null, offline: 'US', eventTimestamp: '2024-04-28T15:21:15.000Z' },
        ],
        missing: [
          { entity: { customer_id: 'C002' }, reason: 'online_missing', onlineEventTimestamp: null, offlineEventTimestamp: '2024-04-28T18:03:05.000Z' },
          { entity: { customer_id: 'C003' }, reason: 'offline_missing', onlineEventTimestamp: '2024-05-01T00:00:00.000Z', offlineEventTimestamp: '2024-04-28T20:23:01.000Z' },
        ],
      }),
    ).toEqual([
      'customer_spend v1: 1 entity sampled from materialization m-1, tolerance 1e-9: SKEW: 2 mismatches, 2 missing',
      'ENTITY            FEATURE         ONLINE  OFFLINE       EVENT TIME',
      'customer_id=C001  amount_mean_7d  26      25.000000001  2024-04-28 15:21:15',
      'customer_id=C001  country         null    "US"          2024-04-28 15:21:15',
      'missing:',
      '  ENTITY            REASON                                   ONLINE EVENT TIME    LATEST OFFLINE EVENT TIME',
      '  customer_id=C002  no online row                            -                    2024-04-28 18:03:05',
      '  customer_id=C003  no offline row at the online event time  2024-05-01 00:00:00  2024-04-28 20:23:01',
    ]);
    expect([formatExact(undefined), formatExact(true), formatExact('a"b')]).toEqual(['null', 'true', '"a\\"b"']);
  });
});

describe('training set output', () => {
  const out: TrainingSetOutput = {
    trainingSetId: 'ts-1',
    rows: 3,
    columns: ['customer_id', 'label_ts', 'churned', 'customer_spend__amount_sum_30d', 'customer_spend__txn_count_7d', 'a', 'b'],
    sha256: 'abc',
    artifactKey: 'sha256/abc',
    inputs: [
      { ref: 'dataset:labels-entities@1', sha256: 'l' },
      { ref: 'featureview:customer_spend@1/materialization:m-1', sha256: 'off' },
    ],
    entities: { dataset: 'labels-entities', version: 1, file: 'labels.csv', ingestion: 'accepted' },
    output: 'out.csv',
    format: 'csv',
  };

  it('prints rows, sha256, inputs and the file written', () => {
    expect(formatTrainingSet(out)).toEqual([
      "entities: ingested labels.csv into dataset 'labels-entities': version 1",
      'training set ts-1: 3 rows, 7 columns (customer_id, label_ts, churned, customer_spend__amount_sum_30d, customer_spend__txn_count_7d, a, …)',
      '  sha256:   abc',
      '  artifact: sha256/abc',
      '  inputs:   dataset:labels-entities@1',
      '            featureview:customer_spend@1/materialization:m-1',
      'wrote out.csv (CSV converted from the Parquet artifact)',
    ]);
  });

  it('says which file it wrote, for Parquet as stored and for a dataset as entities', () => {
    const lines = formatTrainingSet({ ...out, output: 'out.parquet', format: 'parquet', entities: { dataset: 'labels', version: 2, file: null, ingestion: null }, columns: ['a'] });
    expect(lines[0]).toBe('training set ts-1: 3 rows, 1 columns (a)');
    expect(lines[lines.length - 1]).toBe('wrote out.parquet');
    expect(formatTrainingSet({ ...out, entities: { ...out.entities, ingestion: 'duplicate' } })[0]).toBe("entities: labels.csv is already version 1 of dataset 'labels-entities'");
  });
});

describe('the npm start demo', () => {
  const detail = (materializations: Materialization[], versions = [1]) => ({
    status: 'Defined',
    name: 'customer_spend',
    versions: versions.map((version) => ({ version }) as never),
    materializations,
  });

  it('waits for a materialization of the latest view version covering the dataset version', () => {
    expect(coveringMaterialization(detail([materialization]), 1)).toBe(materialization);
    expect(coveringMaterialization(detail([materialization]), 2)).toBeUndefined();
    expect(coveringMaterialization(detail([materialization], [1, 2]), 1)).toBeUndefined();
  });

  it('prints the ingestion, the views applied, the materialization and the lookups', () => {
    const result: DemoFeaturesResult = {
      outcome: {
        jobId: 'j',
        dataset: 'transactions',
        status: 'duplicate',
        version: null,
        duplicateOf: 1,
        rows: 2000,
        accepted: 2000,
        quarantined: 0,
        artifact: 'sha256/t',
        sha256: 't',
        quarantineArtifact: null,
        reportArtifact: 'sha256/r',
        reasons: {},
        failedChecks: [],
        schemaChanges: 0,
      },
      datasetVersion: 1,
      applied: [{ name: 'customer_spend', version: 1, changed: false, breaking: false, diff: [] }],
      materialization,
      source: 'existing',
      lookups: { results: [{ entity: { customer_id: 'C001' }, features: { 'customer_spend:txn_count_30d': { value: 31, eventTimestamp: '2024-04-28T15:21:15.000Z', status: 'present' } } }] },
    };
    expect(demoFeaturesLines(result, 'examples/features/transactions.csv', 'examples/features/featureviews.yaml')).toEqual([
      "examples/features/transactions.csv is already version 1 of dataset 'transactions' (duplicate: the same bytes, no new version)",
      'applied examples/features/featureviews.yaml: customer_spend: v1 unchanged',
      'customer_spend v1 from transactions v1: 2000 rows offline, 50 online, watermark 2024-04-29 23:52:12 (already materialized: no new materialization)',
      '  offline table sha256/off, dataset versions 1',
      'online lookups (mlp features get customer_spend --entity customer_id=C001 --entity customer_id=C002 --entity customer_id=C003 --feature txn_count_30d --feature amount_mean_30d --feature amount_max_30d --feature amount_sum_7d):',
      '  CUSTOMER_ID  FEATURE        VALUE  EVENT TIME           STATUS',
      '  C001         txn_count_30d  31     2024-04-28 15:21:15  present',
      'more: mlp features describe customer_spend, mlp features check-skew customer_spend',
    ]);
    expect(demoFeaturesLines({ ...result, source: 'requested', outcome: { ...result.outcome, status: 'accepted', version: 1, duplicateOf: null } }, 't.csv', 'fv.yaml').slice(0, 3)).toEqual([
      "ingested t.csv into dataset 'transactions' (declared schema): version 1 accepted, 2000 of 2000 rows accepted",
      'applied fv.yaml: customer_spend: v1 unchanged',
      'customer_spend v1 from transactions v1: 2000 rows offline, 50 online, watermark 2024-04-29 23:52:12 (requested now: the view was defined after this dataset version, and only new dataset versions are materialized automatically)',
    ]);
  });
});
