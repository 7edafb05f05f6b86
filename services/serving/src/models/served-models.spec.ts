import type { RecordedEvent } from '@mlp/contracts';
import { ServedModels } from './served-models';

let position = 0;
const ev = (type: string, data: Record<string, unknown>) => ({ type, data, position: ++position }) as unknown as RecordedEvent;
const registered = (name: string, version: number) => ev('ModelVersionRegistered', { name, version, runId: `r${version}`, artifacts: { model: 'm', preprocessing: 'p' }, backend: 'wasm' });

describe('ServedModels', () => {
  it('follows assignments, moves and removals; only the configured aliases are desired', () => {
    const s = new ServedModels();
    expect(s.apply(registered('churn', 1))).toBe(false);
    expect(s.apply(registered('churn', 2))).toBe(false);
    expect(s.apply(ev('ModelAliasAssigned', { name: 'churn', alias: 'production', version: 1 }))).toBe(true);
    expect(s.apply(ev('ModelAliasAssigned', { name: 'churn', alias: 'staging', version: 2 }))).toBe(true);
    // Re-delivery of the same assignment changes nothing.
    expect(s.apply(ev('ModelAliasAssigned', { name: 'churn', alias: 'staging', version: 2 }))).toBe(false);
    expect([...s.desired('*').values()]).toEqual([
      { name: 'churn', alias: 'production', version: 1 },
      { name: 'churn', alias: 'staging', version: 2 },
    ]);
    expect([...s.desired([{ name: 'churn', alias: 'production' }]).keys()]).toEqual(['churn@production']);
    expect([...s.desired([{ name: 'churn', alias: '*' }]).keys()]).toEqual(['churn@production', 'churn@staging']);
    expect([...s.desired([{ name: 'fraud', alias: '*' }]).keys()]).toEqual([]);
    expect(s.apply(ev('ModelAliasAssigned', { name: 'churn', alias: 'production', version: 2 }))).toBe(true);
    expect(s.apply(ev('ModelAliasRemoved', { name: 'churn', alias: 'staging', version: 2 }))).toBe(true);
    expect([...s.desired('*').values()]).toEqual([{ name: 'churn', alias: 'production', version: 2 }]);
    expect(s.version('churn', 2)).toMatchObject({ runId: 'r2', artifacts: { model: 'm', preprocessing: 'p' }, signature: null, featureViews: [] });
  });
});
