import type { RecordedEvent } from '@mlp/contracts';
import { testEvent } from './contract/event-store.contract';
import { MemoryEventStore } from './memory/memory-event-store';
import { ProjectionRunner } from './projection';
import { canonical, diffSnapshots, snapshotHash, verifyProjection, type VerifiableProjection } from './projection-verify';

describe('canonical', () => {
  it('sorts keys, turns maps into objects and sets into sorted arrays, drops undefined, keeps array order', () => {
    const value = { b: 1, a: new Map<unknown, unknown>([[2, 'two'], ['1', new Set(['z', 'y'])]]), c: undefined, d: [3, 1, 2], e: NaN, f: new Date(0) };
    expect(JSON.stringify(canonical(value))).toBe('{"a":{"1":["y","z"],"2":"two"},"b":1,"d":[3,1,2],"e":"NaN","f":"1970-01-01T00:00:00.000Z"}');
  });

  it('hashes insertion-order variants of the same data alike', () => {
    const one = new Map([['x', { p: 1, q: 2 }], ['y', { q: 3, p: 4 }]]);
    const two = new Map([['y', { p: 4, q: 3 }], ['x', { q: 2, p: 1 }]]);
    expect(snapshotHash(one)).toBe(snapshotHash(two));
    expect(snapshotHash(one)).not.toBe(snapshotHash(new Map([['x', { p: 1, q: 2 }]])));
  });
});

describe('diffSnapshots', () => {
  it('is empty for equal snapshots', () => {
    expect(diffSnapshots({ a: [1, { b: 'x' }] }, { a: [1, { b: 'x' }] })).toEqual([]);
  });

  it('names the path of a changed value, a missing key and an extra array element', () => {
    const live = { models: [{ name: 'credit', aliases: { production: 2 }, versions: [1, 2] }], 'odd key': 1 };
    const rebuilt = { models: [{ name: 'credit', aliases: { production: 1, staging: 2 }, versions: [1, 2, 3] }] };
    expect(diffSnapshots(live, rebuilt)).toEqual([
      { path: 'models[0].aliases.production', live: '2', rebuilt: '1' },
      { path: 'models[0].aliases.staging', live: '(absent)', rebuilt: '2' },
      { path: 'models[0].versions[2]', live: '(absent)', rebuilt: '3' },
      { path: '["odd key"]', live: '1', rebuilt: '(absent)' },
    ]);
  });

  it('reports a type change at its path and stops at the limit', () => {
    expect(diffSnapshots({ a: { b: 1 } }, { a: [1] })).toEqual([{ path: 'a', live: '{"b":1}', rebuilt: '[1]' }]);
    expect(diffSnapshots(1, 2)).toEqual([{ path: '(root)', live: '1', rebuilt: '2' }]);
    const many = (n: number) => Object.fromEntries(Array.from({ length: 20 }, (_, i) => [`k${String(i).padStart(2, '0')}`, n]));
    expect(diffSnapshots(many(1), many(2), 3).map((d) => d.path)).toEqual(['k00', 'k01', 'k02']);
  });
});

/** Models and their descriptions, from `model-*` streams. */
class ModelsProjection implements VerifiableProjection {
  readonly name = 'test.models';
  readonly version = 1;
  readonly filter = { category: 'model' };
  readonly models = new Map<string, { description: string; revision: number }>();
  canHandle(e: RecordedEvent): boolean {
    return e.type === 'RegisteredModelCreated';
  }
  handle(e: RecordedEvent): void {
    const d = e.data as { name: string; description: string };
    this.models.set(d.name, { description: d.description, revision: e.revision });
  }
  reset(): void {
    this.models.clear();
  }
  snapshot(): unknown {
    return { models: this.models };
  }
}

const created = (name: string, description = '') => testEvent('RegisteredModelCreated', { name, description, tags: {} }, { schemaVersion: 2 });

describe('verifyProjection', () => {
  async function liveRunner(store: MemoryEventStore): Promise<ProjectionRunner<ModelsProjection>> {
    const runner = new ProjectionRunner(store, new ModelsProjection());
    await runner.start();
    return runner;
  }

  it('finds a live read model equal to its rebuild, fed only up to the live position', async () => {
    const store = new MemoryEventStore({ pollIntervalMs: 10 });
    await store.appendToStream('model-churn', [created('churn')]);
    await store.appendToStream('dataset-x', [testEvent('DatasetRegistered', { dataset: 'x', description: '' })]);
    await store.appendToStream('model-fraud', [created('fraud', 'cards')]);
    const runner = await liveRunner(store);
    const check = await verifyProjection(runner, new ModelsProjection(), { attempts: 1 });
    expect(check).toMatchObject({ name: 'test.models', version: 1, position: 3, events: 2, equal: true });
    expect(check.liveHash).toBe(check.rebuiltHash);
    expect(check.diff).toBeUndefined();

    // A live side that stopped at position 1 is compared with a rebuild that stopped there too.
    const behind = { store, position: 1, projection: { ...runner.projection, name: 'behind', snapshot: () => ({ models: { churn: { description: '', revision: 0 } } }) } };
    expect(await verifyProjection(behind, new ModelsProjection(), { attempts: 1 })).toMatchObject({ position: 1, events: 1, equal: true });
    await runner.stop();
  });

  it('reports a corrupted live read model with the differing path, after retrying', async () => {
    const store = new MemoryEventStore({ pollIntervalMs: 10 });
    await store.appendToStream('model-churn', [created('churn', 'telco')]);
    const runner = await liveRunner(store);
    runner.projection.models.get('churn')!.description = 'tampered';
    const check = await verifyProjection(runner, new ModelsProjection(), { attempts: 2, retryDelayMs: 5 });
    expect(check.equal).toBe(false);
    expect(check.liveHash).not.toBe(check.rebuiltHash);
    expect(check.diff).toEqual([{ path: 'models.churn.description', live: '"tampered"', rebuilt: '"telco"' }]);
    await runner.stop();
  });

  it('keeps feeding the rebuild while the live side moves on between attempts', async () => {
    const store = new MemoryEventStore({ pollIntervalMs: 10 });
    await store.appendToStream('model-a', [created('a')]);
    const runner = await liveRunner(store);
    const projection = runner.projection;
    let calls = 0;
    // The first snapshot is taken mid-change (the live side not settled yet); the next attempt agrees.
    const racing = {
      store,
      get position() {
        return runner.position;
      },
      projection: {
        name: projection.name,
        version: projection.version,
        filter: projection.filter,
        snapshot: () => (calls++ === 0 ? { models: { ...Object.fromEntries(projection.models), b: { description: 'half-applied', revision: 0 } } } : projection.snapshot()),
      },
    };
    await store.appendToStream('model-b', [created('b')]);
    await runner.waitFor(2);
    const check = await verifyProjection(racing, new ModelsProjection(), { attempts: 3, retryDelayMs: 5 });
    expect(check).toMatchObject({ equal: true, position: 2, events: 2 });
    expect(calls).toBe(2);
    await runner.stop();
  });
});
