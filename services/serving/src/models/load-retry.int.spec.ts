import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { S3ArtifactStore } from '@mlp/artifacts';
import { streams } from '@mlp/contracts';
import { MemoryEventStore } from '@mlp/eventstore';
import { eventually, freePort } from '@mlp/testing';
import { assignAlias, churnRows, registerVersion, storeTinyModel, toFrame, type StoredTinyModel } from '../testing/model.fixture';
import { loadVersion } from './loaded-version';
import { ModelManager, ModelNotReadyError, type LoadFn } from './model-manager';

/** The part of s3rver's (untyped, CommonJS) API used here. */
type S3rver = new (options: { address: string; port: number; directory: string; silent: boolean; configureBuckets: { name: string }[] }) => { run(): Promise<unknown>; close(): Promise<void> };

/**
 * A real artifact store outage: s3rver holds the models' artifacts, is
 * stopped before serving starts, and started again on the same port and
 * directory. The load that failed while it was down is retried on a timer
 * (exponential backoff) until the model loads, with no alias change and no
 * operator action; meanwhile the alias answers 503 MODEL_LOAD_FAILED.
 */
describe('ModelManager: a load failed on an unreachable artifact store is retried until it loads', () => {
  jest.setTimeout(120_000);
  let dir: string;
  let port: number;
  let server: InstanceType<S3rver> | undefined;
  let artifacts: S3ArtifactStore;
  let stored: StoredTinyModel;

  const startS3 = async () => {
    const S3rverClass = require('s3rver') as S3rver;
    server = new S3rverClass({ address: '127.0.0.1', port, directory: dir, silent: true, configureBuckets: [{ name: 'models' }] });
    await server.run();
  };
  const stopS3 = async () => {
    await server?.close();
    server = undefined;
  };

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'mlp-load-retry-'));
    port = await freePort();
    await startS3();
    artifacts = new S3ArtifactStore({ endPoint: '127.0.0.1', port, useSSL: false, accessKey: 'S3RVER', secretKey: 'S3RVER', bucket: 'models' });
    stored = await storeTinyModel(artifacts, { epochs: 3 });
  });
  afterAll(async () => {
    await stopS3();
    rmSync(dir, { recursive: true, force: true });
  });

  const outcome = (models: ModelManager, alias: string) => {
    try {
      return `answered version ${models.resolve({ name: 'churn', alias }).served.loaded.version}`;
    } catch (err) {
      return err instanceof ModelNotReadyError ? `${err.status} ${err.code} retry ${err.retryAfterSeconds}` : `${(err as { code?: string }).code}`;
    }
  };

  it('answers 503 MODEL_LOAD_FAILED while the store is down, retries on its own, and serves once the store is back', async () => {
    const store = new MemoryEventStore();
    await registerVersion(store, 'churn', 1, stored);
    await assignAlias(store, 'churn', 'production', 1);
    // An alias on a version the log never registered: a deterministic failure, not retried on the timer.
    await registerVersion(store, 'broken', 1, stored);
    await assignAlias(store, 'broken', 'production', 2);

    // Counts the real loads per model (the manager is not mocked: every attempt reads the real store).
    const attempts = new Map<string, number>();
    const load: LoadFn = (info, backend) => {
      attempts.set(info.name, (attempts.get(info.name) ?? 0) + 1);
      return loadVersion(store, artifacts, info, backend);
    };
    const config = { served: '*' as const, batching: () => ({ maxBatchSize: 8, maxLatencyMs: 1 }), maxQueueRows: 1000, instance: 'spec', warmupRows: 2, loadRetry: { initialMs: 50, maxMs: 400 } };

    // The store goes down before churn was ever loaded here.
    await stopS3();
    const models = new ModelManager(store, artifacts, config, {}, load);
    try {
      await models.start();
      // The failed loads do not hold readiness; the alias says why, and that it is retrying.
      expect(models.readiness()).toEqual({ ready: true, waiting: [] });
      expect(outcome(models, 'production')).toBe('503 MODEL_LOAD_FAILED retry 5');
      expect(models.routesView().find((r) => r.name === 'churn')).toMatchObject({ version: null, error: expect.stringMatching(/^loading version 1 failed \(ARTIFACT_UNAVAILABLE\): .*; retrying in 1 s \(failure \d+\)$/) });

      // Retried on the timer while the store stays down, each a real read of the store that fails again.
      await eventually(async () => (attempts.get('churn') ?? 0) >= 4, 30_000, 'churn retried 3 times');
      expect(outcome(models, 'production')).toBe('503 MODEL_LOAD_FAILED retry 5');
      // One ModelLoadFailed for the streak, not one per retry.
      const failedWhileDown = (await store.readStream(streams.serving('churn'))).map((e) => e.type);
      expect(failedWhileDown).toEqual(['ModelLoadFailed']);

      await startS3();
      await eventually(async () => outcome(models, 'production') === 'answered version 1', 30_000, 'churn loaded once the store is back');
      const events = await store.readStream(streams.serving('churn'));
      expect(events.map((e) => e.type)).toEqual(['ModelLoadFailed', 'ModelLoaded']);
      expect(events[0].data).toMatchObject({ name: 'churn', version: 1, code: 'ARTIFACT_UNAVAILABLE', keptVersion: null });
      expect(events[1].data).toMatchObject({ name: 'churn', version: 1, weightsSha256: stored.weightsSha256 });
      // The loaded version predicts what the model computes offline.
      const { rows } = churnRows(5, 3);
      const served = models.resolve({ name: 'churn', alias: 'production' }).served;
      expect(Array.from(served.loaded.predictFrames([toFrame(rows)], rows.length))).toEqual(Array.from(stored.offline(rows)));
      expect(models.routesView().find((r) => r.name === 'churn')).toEqual({ name: 'churn', alias: 'production', version: 1 });

      // broken's failure is deterministic: no timed retry (it never reached the store), one event.
      await models.settled();
      expect(attempts.get('broken')).toBeUndefined();
      expect((await store.readStream(streams.serving('broken'))).map((e) => [e.type, (e.data as { code: string }).code])).toEqual([['ModelLoadFailed', 'VERSION_NOT_FOUND']]);
      expect(models.routesView().find((r) => r.name === 'broken')!.error).not.toContain('retrying');
    } finally {
      await models.stop();
    }
  });
});
