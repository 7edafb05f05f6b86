import { upcasters, validateEventData } from '@mlp/contracts';

describe('registry event upcasters', () => {
  it('upcasts ModelVersionRegistered v1 to a valid v2 that keeps the feature views the feature store reads', () => {
    const v1 = { name: 'churn', version: 1, runId: 'r1', artifacts: { model: 'sha256/x' }, signature: { anything: true }, metrics: { auc: 0.9 }, lineage: { featureViews: ['spend@1'] } };
    const up = upcasters.upcast({ type: 'ModelVersionRegistered', schemaVersion: 1, data: v1 });
    expect(up.schemaVersion).toBe(2);
    expect(validateEventData('ModelVersionRegistered', up.data)).toEqual(up.data);
    expect(up.data).toMatchObject({ source: 'manual', blessed: null, metrics: { auc: 0.9 }, lineage: { inputs: [], featureViews: ['spend@1'] }, signature: { inputs: [], outputs: [] } });
  });

  it('upcasts alias events v1: an assignment with a previous version was a move', () => {
    const moved = upcasters.upcast({ type: 'ModelAliasAssigned', schemaVersion: 1, data: { name: 'churn', alias: 'production', version: 2, previousVersion: 1 } });
    expect(moved).toEqual({ type: 'ModelAliasAssigned', schemaVersion: 2, data: { name: 'churn', alias: 'production', version: 2, previousVersion: 1, kind: 'moved', reason: '', actor: 'unknown' } });
    const first = upcasters.upcast({ type: 'ModelAliasAssigned', schemaVersion: 1, data: { name: 'churn', alias: 'production', version: 1, previousVersion: null } });
    expect(first.data).toMatchObject({ kind: 'assigned' });
    const removed = upcasters.upcast({ type: 'ModelAliasRemoved', schemaVersion: 1, data: { name: 'churn', alias: 'production', version: 1 } });
    expect(validateEventData('ModelAliasRemoved', removed.data)).toEqual({ name: 'churn', alias: 'production', version: 1, reason: '', actor: 'unknown' });
  });
});
