import { existsSync, mkdtempSync, renameSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FsArtifactStore } from '@mlp/artifacts';
import { streams } from '@mlp/contracts';
import { SqliteEventStore } from '@mlp/eventstore';
import { eventually, spawnTs, waitForHttp, type SpawnedProcess } from '@mlp/testing';
import { assignAlias, churnRows, registerVersion, storeTinyModel } from '../testing/model.fixture';
import { servingProcessEnv } from '../testing/serving-process.fixture';

/**
 * A serving process starts while its artifact directory is gone (moved
 * away): churn@production's load fails, the instance is ready, and the alias
 * answers 503 MODEL_LOAD_FAILED with Retry-After. The directory is moved
 * back, and with no alias change and no operator action the retries
 * (MLP_SERVING_LOAD_RETRY_MS) load it: the model's readiness turns 200 and
 * predictions answer from version 1.
 */
describe('serving process: a model whose artifacts were unreachable loads once they are back', () => {
  jest.setTimeout(180_000);
  let dir: string;
  let env: NodeJS.ProcessEnv;
  let url: string;
  let proc: SpawnedProcess | undefined;
  const { rows } = churnRows(3, 5);

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'mlp-load-retry-process-'));
    ({ env, url } = await servingProcessEnv(dir, { MLP_SERVING_LOAD_RETRY_MS: '100', MLP_SERVING_LOAD_RETRY_MAX_MS: '1000' }));
    const store = new SqliteEventStore(join(dir, 'events.db'));
    const artifacts = new FsArtifactStore({ root: join(dir, 'artifacts') });
    const stored = await storeTinyModel(artifacts, { epochs: 3 });
    await registerVersion(store, 'churn', 1, stored);
    await assignAlias(store, 'churn', 'production', 1);
    await store.close();
  });

  afterAll(async () => {
    await proc?.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  });

  const predict = () => fetch(`${url}/v1/models/churn@production:predict`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ instances: rows }) });

  it('answers 503 MODEL_LOAD_FAILED while the artifacts are gone, then serves once they are back', async () => {
    renameSync(join(dir, 'artifacts'), join(dir, 'artifacts.away'));
    proc = spawnTs('services/serving/src/main.ts', [], env);
    await waitForHttp(`${url}/v2/health/ready`, { process: proc, timeoutMs: 120_000 });

    const failed = await predict();
    expect({ status: failed.status, retryAfter: failed.headers.get('retry-after'), code: ((await failed.json()) as { code: string }).code }).toEqual({ status: 503, retryAfter: '5', code: 'MODEL_LOAD_FAILED' });
    expect((await fetch(`${url}/v2/models/churn@production/ready`)).status).toBe(503);

    // Serving may have created an empty artifact root meanwhile: put the real one back in its place.
    if (existsSync(join(dir, 'artifacts'))) rmSync(join(dir, 'artifacts'), { recursive: true, force: true });
    renameSync(join(dir, 'artifacts.away'), join(dir, 'artifacts'));

    await eventually(async () => (await fetch(`${url}/v2/models/churn@production/ready`)).status === 200, 60_000, 'churn@production ready once its artifacts are back');
    const res = await predict();
    expect(res.status).toBe(200);
    expect(((await res.json()) as { version: string }).version).toBe('1');
    expect((await fetch(`${url}/v2/health/ready`)).status).toBe(200);

    const store = new SqliteEventStore(join(dir, 'events.db'));
    try {
      const events = await store.readStream(streams.serving('churn'));
      // One failure recorded for the streak of retries, then the load.
      expect(events.map((e) => e.type)).toEqual(['ModelLoadFailed', 'ModelLoaded']);
      expect(events[0].data).toMatchObject({ code: 'ARTIFACT_UNAVAILABLE' });
    } finally {
      await store.close();
    }
  });
});
