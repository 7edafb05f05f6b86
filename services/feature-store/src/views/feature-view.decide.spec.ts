import { IllegalStateError } from '@mlp/contracts';
import { deciderSpec } from '@mlp/testing';
import { featureViewDecider, type FeatureViewCommand } from './feature-view.decide';
import type { FeatureViewEvent } from './feature-view';

const spec = deciderSpec(featureViewDecider);
const hash = (c: string) => c.repeat(64);

const definition = (specHash: string) => ({
  name: 'customer_stats',
  entity: { name: 'customer', joinKeys: ['customer_id'] },
  timestampColumn: 'ts',
  source: { dataset: 'transactions', mode: 'snapshot' as const },
  spec: { features: [] },
  specHash,
  ttlSeconds: null,
  online: true,
});
const define = (specHash: string, extra: Partial<Extract<FeatureViewCommand, { type: 'DefineFeatureView' }>> = {}): FeatureViewCommand => ({
  type: 'DefineFeatureView',
  definition: definition(specHash),
  diff: [{ type: 'feature_removed', feature: 'x' }],
  breaking: false,
  dependents: [],
  force: false,
  ...extra,
});
const v1: FeatureViewEvent = { type: 'FeatureViewDefined', data: { ...definition(hash('a')), version: 1, diff: [], breaking: false } };

describe('FeatureView decider', () => {
  it('defines version 1 without a diff', () => {
    spec.given([]).when(define(hash('a'))).then([{ type: 'FeatureViewDefined', data: { ...definition(hash('a')), version: 1, diff: [], breaking: false } }]);
  });

  it('is a no-op for an unchanged definition', () => {
    spec.given([v1]).when(define(hash('a'))).then([]);
  });

  it('versions a change, carrying the diff', () => {
    spec
      .given([v1])
      .when(define(hash('b'), { breaking: true }))
      .then([{ type: 'FeatureViewDefined', data: { ...definition(hash('b')), version: 2, diff: [{ type: 'feature_removed', feature: 'x' }], breaking: true } }]);
  });

  it('refuses a breaking change while models depend on the current version, naming them, unless forced', () => {
    spec.given([v1]).when(define(hash('b'), { breaking: true, dependents: ['churn@3 (production)'] })).then(IllegalStateError, /churn@3 \(production\)/);
    spec.given([v1]).when(define(hash('b'), { breaking: false, dependents: ['churn@3 (production)'] })).thenState((s) => expect(s.status === 'Defined' && s.versions.length).toBe(2));
    spec.given([v1]).when(define(hash('b'), { breaking: true, dependents: ['churn@3 (production)'], force: true })).thenState((s) => expect(s.status === 'Defined' && s.versions.length).toBe(2));
  });

  it('records a materialization once per view version and dataset bytes', () => {
    const m = {
      name: 'customer_stats', version: 1, materializationId: 'm1', dataset: 'transactions', datasetVersion: 2, datasetSha256: hash('c'), datasetVersions: [2],
      offlineArtifactKey: `sha256/${hash('d')}`, offlineSha256: hash('d'), rows: 10, onlineRows: 3, statsArtifactKey: `sha256/${hash('e')}`, watermark: null, computedRows: 10,
    };
    spec.given([v1]).when({ type: 'RecordMaterialization', materialization: m }).then([{ type: 'FeatureViewMaterialized', data: m }]);
    spec.given([v1, { type: 'FeatureViewMaterialized', data: m }]).when({ type: 'RecordMaterialization', materialization: { ...m, materializationId: 'm2' } }).then([]);
    spec.given([]).when({ type: 'RecordMaterialization', materialization: m }).then(IllegalStateError);
  });
});
