import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FsArtifactStore } from '@mlp/artifacts';
import { MemoryEventStore, verifyProjection } from '@mlp/eventstore';
import { eventually } from '@mlp/testing';
import { assignAlias, registerVersion, storeTinyModel, type StoredTinyModel } from '../testing/model.fixture';
import { loadVersion } from './loaded-version';
import { ModelManager, ModelNotReadyError, type LoadFn } from './model-manager';
import { ServedModelsProjection } from './served-models';

/**
 * ModelManager readiness with each version's load held until the test lets
 * it go (real artifacts, real tfjs): what readiness waits for, what requests
 * get meanwhile, that a failed load does not hold it, and that it latches.
 */
describe('ModelManager readiness', () => {
  jest.setTimeout(120_000);
  let dir: string;
  let artifacts: FsArtifactStore;
  let stored: StoredTinyModel;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'mlp-readiness-'));
    artifacts = new FsArtifactStore({ root: dir });
    stored = await storeTinyModel(artifacts, { epochs: 3 });
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  /** A load that waits until `release(name)`; `fail(name)` makes it throw. */
  function heldLoads(store: MemoryEventStore) {
    const waiting = new Map<string, { go: () => void; no: (err: Error) => void }>();
    const started = new Set<string>();
    const failing = new Set<string>();
    let open = false;
    const load: LoadFn = async (info, backend) => {
      started.add(info.name);
      // Every reconcile tries a failed alias again: it fails again at once.
      if (failing.has(info.name)) throw new Error(`${info.name}: weights unreadable`);
      if (!open) await new Promise<void>((go, no) => waiting.set(info.name, { go, no }));
      return loadVersion(store, artifacts, info, backend);
    };
    const gate = async (name: string) => eventually(async () => waiting.get(name), 10_000, `load of ${name} started`);
    return {
      load,
      started,
      /** Lets every held load go (so stop() does not wait on one after a failed expectation). */
      releaseAll: () => {
        open = true;
        for (const w of waiting.values()) w.go();
      },
      release: async (name: string) => (await gate(name)).go(),
      fail: async (name: string) => {
        const held = await gate(name);
        failing.add(name);
        held.no(new Error(`${name}: weights unreadable`));
      },
    };
  }

  const config = { served: '*' as const, batching: () => ({ maxBatchSize: 8, maxLatencyMs: 1 }), maxQueueRows: 1000, instance: 'spec', warmupRows: 2 };
  const code = (run: () => unknown) => {
    try {
      run();
      return 'answered';
    } catch (err) {
      return err instanceof ModelNotReadyError ? `${err.status} ${err.code} retry ${err.retryAfterSeconds}` : `${(err as { code?: string }).code}`;
    }
  };

  it('is not ready until every served alias loaded or failed; meanwhile requests are 503 NOT_READY, never 404; then it latches', async () => {
    const store = new MemoryEventStore();
    for (const name of ['churn', 'fraud', 'broken']) {
      await registerVersion(store, name, 1, stored);
      await assignAlias(store, name, 'production', 1);
    }
    const loads = heldLoads(store);
    const models = new ModelManager(store, artifacts, config, {}, loads.load);
    const starting = models.start();
    try {
      await eventually(async () => loads.started.has('churn'), 10_000, 'churn loading');
      expect(models.readiness()).toEqual({ ready: false, waiting: ['churn@production (version 1)', 'fraud@production (version 1)', 'broken@production (version 1)'] });
      expect(code(() => models.resolve({ name: 'churn', alias: 'production' }))).toBe('503 NOT_READY retry 1');
      expect(code(() => models.resolve({ name: 'unknown', alias: 'production' }))).toBe('503 NOT_READY retry 1');

      await loads.release('churn');
      await eventually(async () => models.list().length === 1, 10_000, 'churn loaded');
      // churn answers already; the server is not ready while fraud and broken are pending.
      expect(code(() => models.resolve({ name: 'churn', alias: 'production' }))).toBe('answered');
      expect(models.readiness()).toEqual({ ready: false, waiting: ['fraud@production (version 1)', 'broken@production (version 1)'] });

      await loads.release('fraud');
      await loads.fail('broken');
      await starting;
      // The failed load does not hold readiness: it is recorded, and its alias says why.
      expect(models.readiness()).toEqual({ ready: true, waiting: [] });
      expect(code(() => models.resolve({ name: 'broken', alias: 'production' }))).toBe('503 MODEL_LOAD_FAILED retry 5');
      expect((await store.readStream('serving-broken')).map((e) => e.type)).toEqual(['ModelLoadFailed']);
      expect((await store.readStream('serving-broken'))[0].data).toMatchObject({ name: 'broken', version: 1, code: 'LOAD_FAILED', reason: 'broken: weights unreadable' });
      // Ready, a name the log does not serve is a 404.
      expect(code(() => models.resolve({ name: 'unknown', alias: 'production' }))).toBe('MODEL_NOT_FOUND');

      // A newly served alias loads while the instance stays ready: 503 MODEL_LOADING for it meanwhile.
      await registerVersion(store, 'upsell', 1, stored);
      await assignAlias(store, 'upsell', 'production', 1);
      await eventually(async () => loads.started.has('upsell'), 10_000, 'upsell loading');
      expect(models.isReady()).toBe(true);
      expect(code(() => models.resolve({ name: 'upsell', alias: 'production' }))).toBe('503 MODEL_LOADING retry 1');
      expect(code(() => models.resolve({ name: 'upsell' }))).toBe('503 MODEL_LOADING retry 1');
      await loads.release('upsell');
      await models.settled();
      expect(code(() => models.resolve({ name: 'upsell', alias: 'production' }))).toBe('answered');
    } finally {
      loads.releaseAll();
      await models.stop();
    }
    expect(models.readiness()).toEqual({ ready: false, waiting: ['shutdown'] });
  });

  it('its alias table is the read model serving.models: equal to a rebuild, a tampered alias reported', async () => {
    const store = new MemoryEventStore();
    await registerVersion(store, 'churn', 1, stored);
    await registerVersion(store, 'churn', 2, stored);
    await assignAlias(store, 'churn', 'production', 1);
    await assignAlias(store, 'churn', 'production', 2, 1);
    await assignAlias(store, 'churn', 'staging', 1);
    const models = new ModelManager(store, artifacts, config, {}, (info, backend) => loadVersion(store, artifacts, info, backend));
    await models.start();
    try {
      const live = models.liveReadModel();
      expect(live.position).toBe((await store.readAll({ filter: { category: 'model' } })).at(-1)!.position);
      expect(await verifyProjection(live, new ServedModelsProjection())).toMatchObject({ name: 'serving.models', equal: true });
      const aliases = (live.projection.served as unknown as { models: Map<string, { aliases: Map<string, number> }> }).models.get('churn')!.aliases;
      aliases.set('staging', 7);
      const check = await verifyProjection(live, new ServedModelsProjection(), { attempts: 1 });
      expect(check).toMatchObject({ equal: false, diff: [{ path: 'models.churn.aliases.staging', live: '7', rebuilt: '1' }] });
    } finally {
      await models.stop();
    }
  });
});
