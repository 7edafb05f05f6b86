import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FsArtifactStore } from '@mlp/artifacts';
import { deterministicId, streams, toNewEvent, type EventData, type EventInput } from '@mlp/contracts';
import { MemoryEventStore, runProcessManager, type RunningProcessManager } from '@mlp/eventstore';
import { initBackend } from '@mlp/ml';
import { eventually } from '@mlp/testing';
import type { StoredModel } from '../engine/model-bundle';
import { ONLINE_EPOCHS, onlineLearningProcessManager } from './online-learning.process-manager';
import { artifactSha, baseTrainingSpec, putRows, shifted, storeBaseModel } from './online.fixture';

jest.setTimeout(120_000);

const meta = { now: '2026-12-05T00:00:00.000Z', correlationId: 'online-test', causationId: null, actor: 'test' };
const hex = (c: string) => c.repeat(64);

/**
 * The online-learning manager on the real runner and stores: an
 * OnlineUpdateRequested for the served version 1 → RetrainingRunStarted →
 * a run recorded through the run decider, continued from version 1's weights.
 * (Registration and the canary are the retraining manager's, tested in retraining.int.spec.)
 */
describe('online learning process manager', () => {
  let dir: string;
  let store: MemoryEventStore;
  let artifacts: FsArtifactStore;
  let base: StoredModel;
  let manager: RunningProcessManager | undefined;

  beforeAll(async () => {
    await initBackend('wasm');
    dir = mkdtempSync(join(tmpdir(), 'mlp-online-pm-'));
    artifacts = new FsArtifactStore({ root: dir });
    base = await storeBaseModel(artifacts);
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  beforeEach(async () => {
    store = new MemoryEventStore();
    const requested: EventInput<'TrainingRunRequested'> = {
      runId: 'r1', experiment: 'churn', spec: baseTrainingSpec, seed: 3, inputs: [{ ref: 'dataset:c@1', sha256: hex('1') }], data: { artifactKey: `sha256/${hex('1')}`, sha256: hex('1'), rows: 256 },
      featureViews: [], backend: 'wasm', simd: false, libraries: {}, codeVersion: 'test', coordinator: 'test',
    };
    const completed: EventInput<'TrainingRunCompleted'> = {
      runId: 'r1', params: {}, metrics: { accuracy: 0.97 }, modelArtifactKey: base.modelKey, weightsArtifactKey: base.weightsKey, weightsSha256: base.weightsSha256,
      preprocessingArtifactKey: base.preprocessingKey, reportArtifactKey: base.preprocessingKey, modelCardArtifactKey: base.preprocessingKey, blessed: true,
    };
    await store.appendToStream(streams.run('r1'), [toNewEvent({ type: 'TrainingRunRequested', data: requested }, meta, { codeVersion: 't' }), toNewEvent({ type: 'TrainingRunCompleted', data: completed }, meta, { codeVersion: 't' })]);
    const registered: EventInput<'ModelVersionRegistered'> = { name: 'churn', version: 1, runId: 'r1', artifacts: { model: base.modelKey, preprocessing: base.preprocessingKey }, signature: {}, metrics: { accuracy: 0.97 }, lineage: {} };
    await store.appendToStream(streams.model('churn'), [toNewEvent({ type: 'ModelVersionRegistered', data: registered }, meta, { codeVersion: 't' })]);
  });
  afterEach(async () => manager?.stop());

  async function requestUpdate(version = 1) {
    const rows = await putRows(artifacts, shifted(2, 300), version);
    const data: EventData<'OnlineUpdateRequested'> = { updateId: `v${version}-${rows.sha256.slice(0, 16)}`, model: 'churn', version, rowsArtifactKey: rows.key, rows: 300, sha256: rows.sha256, at: meta.now };
    await store.appendToStream(streams.monitor('churn'), [toNewEvent({ type: 'OnlineUpdateRequested', data }, meta, { codeVersion: 't' })]);
    return data;
  }

  it('records a run continued from the served weights, with its lineage, and leaves the served artifacts unchanged', async () => {
    const before = await Promise.all([base.modelKey, base.weightsKey, base.preprocessingKey].map((k) => artifactSha(artifacts, k)));
    const update = await requestUpdate();
    manager = await runProcessManager(store, onlineLearningProcessManager({ artifacts }));
    const triggerId = deterministicId('online-update', 'churn', update.updateId);
    const runId = deterministicId('online-run', triggerId);
    const run = await eventually(async () => {
      const events = await store.readStream(streams.run(runId));
      return events.some((e) => e.type === 'TrainingRunCompleted' || e.type === 'TrainingRunFailed') && events;
    }, 60_000, 'the online update run');

    expect((await store.readStream(streams.retraining(triggerId))).map((e) => [e.type, e.data])).toEqual([
      ['RetrainingRunStarted', { triggerId, model: 'churn', runId, sourceRunId: 'r1', reason: `online update ${update.updateId}: 300 labelled rows on version 1` }],
    ]);
    expect(run.map((e) => e.type)).toEqual(['TrainingRunRequested', 'ModelEvaluated', 'TrainingRunCompleted']);
    const requested = run[0].data as EventData<'TrainingRunRequested'>;
    expect(requested.inputs).toEqual([{ ref: 'dataset:c@1', sha256: hex('1') }, { ref: 'model:churn@1', sha256: base.weightsSha256 }, { ref: `online-rows:${update.updateId}`, sha256: update.sha256 }]);
    expect(requested.data).toEqual({ artifactKey: update.rowsArtifactKey, sha256: update.sha256, rows: 300 });
    const evaluated = run[1].data as EventData<'ModelEvaluated'>;
    expect(evaluated.baseline).toMatchObject({ kind: 'production', model: 'churn', version: 1 });
    expect(evaluated.comparison['roc_auc'].value).toBeGreaterThan(evaluated.comparison['roc_auc'].baseline as number);
    const completed = run[2].data as EventData<'TrainingRunCompleted'>;
    expect(completed.blessed).toBe(true);
    expect(completed.weightsSha256).not.toBe(base.weightsSha256);
    expect(completed.preprocessingArtifactKey).toBe(base.preprocessingKey);
    const report = JSON.parse((await artifacts.getBuffer(completed.reportArtifactKey)).toString('utf8')) as { baseWeightsSha256: string; loss: number[] };
    expect(report.baseWeightsSha256).toBe(base.weightsSha256);
    expect(report.loss).toHaveLength(ONLINE_EPOCHS);
    expect(await Promise.all([base.modelKey, base.weightsKey, base.preprocessingKey].map((k) => artifactSha(artifacts, k)))).toEqual(before);
  });

  it('ends the loop when the version has no run to continue from', async () => {
    const update = await requestUpdate(7);
    manager = await runProcessManager(store, onlineLearningProcessManager({ artifacts }));
    const triggerId = deterministicId('online-update', 'churn', update.updateId);
    const ended = await eventually(async () => (await store.readStream(streams.retraining(triggerId))).find((e) => e.type === 'RetrainingEnded'), 30_000, 'RetrainingEnded');
    expect(ended.data).toMatchObject({ outcome: 'no-spec' });
  });
});
