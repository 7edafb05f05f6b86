import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FsArtifactStore } from '@mlp/artifacts';
import { InfrastructureError, streams, type EventData } from '@mlp/contracts';
import { handleCommand, MemoryEventStore } from '@mlp/eventstore';
import { loadVersion } from '../models/loaded-version';
import { churnRows, registerVersion, storeTinyModel } from '../testing/model.fixture';
import { batchJobDecider } from './batch-job';
import { BatchRunner, type BatchRunnerDeps } from './batch-runner';

/** The runner on its own (memory events, file artifacts): failures become BatchInferenceFailed, a second runner on a job stands down. */
describe('BatchRunner', () => {
  jest.setTimeout(60_000);
  let dir: string;
  let store: MemoryEventStore;
  let artifacts: FsArtifactStore;
  let started: EventData<'BatchInferenceStarted'>;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'mlp-batch-runner-'));
    store = new MemoryEventStore();
    artifacts = new FsArtifactStore({ root: join(dir, 'artifacts') });
    const stored = await storeTinyModel(artifacts);
    await registerVersion(store, 'churn', 1, stored);
    const { rows } = churnRows(100, 9);
    const put = await artifacts.put(Buffer.from(['tenure,monthly,plan', ...rows.map((r) => `${r.tenure ?? ''},${r.monthly},${r.plan}`)].join('\n')));
    started = {
      jobId: 'x',
      model: { name: 'churn', version: 1, alias: null, weightsSha256: stored.weightsSha256 },
      input: { kind: 'upload', artifactKey: put.key, sha256: put.sha256, format: 'csv', rows: 100, passthrough: [] },
      output: { format: 'csv' },
      chunkRows: 30,
      chunks: 4,
      instance: 'test',
    };
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const start = async (jobId: string) =>
    handleCommand(store, streams.batch(jobId), batchJobDecider, { type: 'StartBatchInference', data: { ...started, jobId } }, { now: new Date().toISOString(), correlationId: 'c', causationId: null, actor: 'test' });
  const runner = (load?: BatchRunnerDeps['load'], onChunk?: BatchRunnerDeps['onChunk']) =>
    new BatchRunner({ store, artifacts, instance: 'test', tmpDir: join(dir, 'tmp'), load: load ?? ((info) => loadVersion(store, artifacts, info, 'wasm')), onChunk });

  it('records a failure as BatchInferenceFailed with its code and message, no stack', async () => {
    await start('fails');
    const state = await runner(async () => {
      throw new InfrastructureError('cannot read the weights artifact: disk gone', { code: 'ARTIFACT_UNAVAILABLE' });
    }).run('fails');
    expect(state.status).toBe('Failed');
    const events = await store.readStream(streams.batch('fails'));
    expect(events.map((e) => e.type)).toEqual(['BatchInferenceStarted', 'BatchInferenceFailed']);
    expect(events[1].data).toEqual({ jobId: 'fails', code: 'ARTIFACT_UNAVAILABLE', reason: 'cannot read the weights artifact: disk gone', chunksDone: 0 });
  });

  it('stands down when another runner records the chunk first, leaving every chunk recorded once', async () => {
    await start('race');
    const other = runner();
    let raced: Promise<unknown> | undefined;
    // As soon as the first runner checkpoints chunk 0, a second one starts on the same job from the log.
    const first = runner(undefined, (jobId, chunk) => {
      if (chunk === 0) raced ??= other.run(jobId);
    });
    await first.run('race');
    expect(raced).toBeDefined();
    await raced;
    const events = await store.readStream(streams.batch('race'));
    const chunks = events.filter((e) => e.type === 'BatchInferenceProgressed').map((e) => (e.data as EventData<'BatchInferenceProgressed'>).chunk);
    expect(chunks).toEqual([0, 1, 2, 3]);
    expect(events.filter((e) => e.type === 'BatchInferenceCompleted')).toHaveLength(1);
    expect(events.filter((e) => e.type === 'BatchInferenceFailed')).toHaveLength(0);
  });
});
