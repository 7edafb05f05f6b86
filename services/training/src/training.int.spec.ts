import * as tf from '@tensorflow/tfjs';
import { streams, toNewEvent, type EventData, type EventInput } from '@mlp/contracts';
import { eventually, ingestPenguins, penguinsSpec } from '@mlp/testing';
import { startTrainingPlatform, type TrainingPlatform } from './testing/platform.fixture';
import type { RunView } from './runs/runs.projection';

const SPEC = penguinsSpec({
  sensitive: true,
  extra: 'cv: {folds: 3, method: stratified}\nsearch: {method: random, trials: 3, parallelism: 2, metric: accuracy, space: {lr: {loguniform: [0.003, 0.03]}, layers: {choice: [[8], [16]]}}}',
  model: '{type: mlp, layers: [16], epochs: 40, batchSize: 32, learningRate: 0.01, earlyStopping: {patience: 5}}',
  seed: 7,
  evaluation: '{baseline: production, gate: {accuracy: {min: 0.8}}}',
});

describe('training service (in process, embedded queue)', () => {
  jest.setTimeout(240_000);
  let p: TrainingPlatform;
  const train = (path: string, init?: RequestInit) => fetch(`${p.training.url}${path}`, init);

  async function runToEnd(yaml: string): Promise<RunView> {
    const res = await train('/runs', { method: 'POST', headers: { 'content-type': 'text/yaml' }, body: yaml });
    expect(res.status).toBe(202);
    const { runId } = (await res.json()) as { runId: string };
    return waitRun(runId, (r) => r.status !== 'Running' && r.status !== 'Cancelling');
  }

  const getRun = async (runId: string) => (await (await train(`/runs/${runId}`)).json()) as RunView;
  const waitRun = (runId: string, done: (r: RunView) => boolean, timeoutMs = 200_000) =>
    eventually(async () => {
      const r = await getRun(runId);
      return done(r) ? r : undefined;
    }, timeoutMs, `run ${runId}`);

  beforeAll(async () => {
    p = await startTrainingPlatform();
    await ingestPenguins(p.ingestion.url);
  });
  afterAll(async () => p?.close());

  it('rejects an invalid spec with every wrong field named', async () => {
    const bad = SPEC.replace('task: multiclass', 'task: clustering').replace('folds: 3', 'folds: 1').replace("label: species", 'label: species\n  colour: red');
    const res = await train('/runs', { method: 'POST', headers: { 'content-type': 'text/yaml' }, body: bad });
    expect(res.status).toBe(400);
    const body = (await res.json()) as { details: { path: string; message: string }[] };
    expect(body.details.map((d) => d.path).sort()).toEqual(['cv.folds', 'data.colour', 'task']);
    expect(JSON.stringify(body)).not.toMatch(/at .*\.ts:\d+/);
  });

  it('names columns that do not exist', async () => {
    const run = await runToEnd(SPEC.replace('sensitive: [sex]', 'sensitive: [gender]\n  exclude: [nickname]'));
    expect(run.status).toBe('Failed');
    expect(run.error).toMatch(/gender/);
    expect(run.error).toMatch(/nickname/);
  });

  let first: RunView;
  it('trains, searches, evaluates and stores a loadable tfjs model with its card', async () => {
    first = await runToEnd(SPEC);
    expect(first.error).toBeUndefined();
    expect(first.status).toBe('Completed');
    expect(first.rows).toBe(342); // 344 penguins; the 2 without measurements are quarantined at ingestion
    expect(first.trials).toHaveLength(3);
    expect(first.trials.every((t) => t.status === 'complete' || t.status === 'pruned')).toBe(true);
    expect(first.metrics!.accuracy).toBeGreaterThan(0.9);
    // The spec asks for the production baseline; there is no registered model yet, so the naive one is used, and the run says so.
    expect(first.evaluation!.baseline).toMatchObject({ kind: 'naive', requested: 'production', fallbackReason: expect.stringMatching(/no registered model named 'penguins'/) });
    expect(first.evaluation!.baseline.metrics.accuracy).toBeLessThan(0.5);
    expect(first.blessed).toBe(true);
    expect(first.evaluation!.gateFailures).toBeUndefined();
    const fairness = first.evaluation!.fairness as { attributes: { sex: { slices: Record<string, { count: number }> } } };
    expect(Object.keys(fairness.attributes.sex.slices).sort()).toEqual(expect.arrayContaining(['female', 'male']));

    // The model is a standard tfjs layers model: model.json + weights named by the manifest.
    const modelJson = JSON.parse((await p.artifacts.getBuffer(first.artifacts!.model)).toString('utf8'));
    expect(modelJson.format).toBe('layers-model');
    const weights = await p.artifacts.getBuffer(`sha256/${modelJson.weightsManifest[0].paths[0]}`);
    const model = await tf.loadLayersModel(tf.io.fromMemory({ modelTopology: modelJson.modelTopology, weightSpecs: modelJson.weightsManifest[0].weights, weightData: new Uint8Array(weights).buffer }));
    const pre = JSON.parse((await p.artifacts.getBuffer(first.artifacts!.preprocessing)).toString('utf8'));
    expect(model.inputs[0].shape[1]).toBe(pre.featureNames.length);
    expect(pre.classes).toEqual(['Adelie', 'Chinstrap', 'Gentoo']);
    model.dispose();

    // Monitoring's drift reference: statistics of the training rows and a sample of them with the model's outputs.
    const baseline = (await p.store.readStream(streams.run(first.runId))).find((e) => e.type === 'BaselineRecorded')?.data as EventData<'BaselineRecorded'>;
    expect(baseline).toMatchObject({ runId: first.runId, experiment: 'penguins', task: 'multiclass', classes: ['Adelie', 'Chinstrap', 'Gentoo'] });
    expect(baseline.rows).toBe(baseline.sampleRows); // fewer training rows than the sample cap: all of them
    const sample = JSON.parse((await p.artifacts.getBuffer(baseline.sampleArtifactKey)).toString('utf8')) as { columns: Record<string, unknown[]> };
    expect(Object.keys(sample.columns).sort()).toEqual([...Object.keys(baseline.columns), 'prediction'].sort());
    expect(sample.columns.prediction.every((c) => ['Adelie', 'Chinstrap', 'Gentoo'].includes(c as string))).toBe(true);

    const card = await (await train(`/runs/${first.runId}/artifacts/model-card`)).text();
    expect(card).toMatch(/# Model card: penguins/);
    expect(card).toMatch(/## Fairness/);
    expect(card).toContain(first.weightsSha256!);
    expect(card).toMatch(/asked for the production baseline; the naive baseline was used instead because no registered model named 'penguins'/);
    const curves = (await (await train(`/runs/${first.runId}/curves`)).json()) as { curves: Record<string, { epoch: number; metrics: { loss: number } }[]> };
    expect(curves.curves.final.length).toBeGreaterThan(0);
    expect(curves.curves['0/0'][0].metrics.loss).toBeGreaterThan(0);
  });

  it('is deterministic: the same spec gives the same weights, and a replay says identical; it compares with the production model', async () => {
    // Register the first run's model as version 1 of 'penguins' with the production alias, as the registry does.
    const meta = { now: new Date().toISOString(), correlationId: 'int-test', causationId: null, actor: 'registry' };
    const registered: EventInput<'ModelVersionRegistered'> = {
      name: 'penguins',
      version: 1,
      runId: first.runId,
      artifacts: { model: first.artifacts!.model, preprocessing: first.artifacts!.preprocessing },
      signature: {},
      metrics: first.metrics!,
      lineage: {},
    };
    await p.store.appendToStream(
      streams.model('penguins'),
      [
        toNewEvent({ type: 'RegisteredModelCreated', data: { name: 'penguins' } }, meta, { codeVersion: 'test' }),
        toNewEvent({ type: 'ModelVersionRegistered', data: registered }, meta, { codeVersion: 'test' }),
        toNewEvent({ type: 'ModelAliasAssigned', data: { name: 'penguins', alias: 'production', version: 1, previousVersion: null } }, meta, { codeVersion: 'test' }),
      ],
    );

    const second = await runToEnd(SPEC);
    expect(second.status).toBe('Completed');
    // The production model (the first run's, the same weights) scored on the same holdout rows.
    const baseline = second.evaluation!.baseline;
    expect(baseline).toMatchObject({ kind: 'production', model: 'penguins', version: 1 });
    expect(baseline.requested).toBeUndefined();
    expect(baseline.fallbackReason).toBeUndefined();
    expect(baseline.metrics.accuracy).toBeCloseTo(first.metrics!.accuracy, 10);
    expect(second.evaluation!.comparison.accuracy).toMatchObject({ baseline: baseline.metrics.accuracy, passed: true });
    const secondCard = await (await train(`/runs/${second.runId}/artifacts/model-card`)).text();
    expect(secondCard).toContain('Baseline: production (penguins v1).');
    expect(second.trials.map((t) => t.params)).toEqual(first.trials.map((t) => t.params));
    expect(second.weightsSha256).toBe(first.weightsSha256);
    const replay = (await (await train(`/runs/${first.runId}/replay`, { method: 'POST' })).json()) as { identical: boolean; original: string; replayed: string };
    expect(replay).toMatchObject({ identical: true, original: first.weightsSha256, replayed: first.weightsSha256 });
    const compare = (await (await train(`/runs/compare?ids=${first.runId},${second.runId}`)).json()) as { metrics: { metric: string; deltas: (number | null)[] }[] };
    expect(compare.metrics.find((m) => m.metric === 'accuracy')!.deltas).toEqual([0, 0]);
    const listed = (await (await train('/runs?experiment=penguins&orderBy=accuracy')).json()) as { runs: RunView[] };
    expect(listed.runs.map((r) => r.runId)).toEqual(expect.arrayContaining([first.runId, second.runId]));
  });

  const QUICK = penguinsSpec({ experiment: 'penguins-quick', model: '{type: mlp, layers: [8], epochs: 5, batchSize: 32, learningRate: 0.01}', seed: 3 });
  const trialEvents = async (runId: string) => {
    const events = await p.store.readStream(streams.run(runId));
    return {
      failed: events.filter((e) => e.type === 'TrialFailed').map((e) => e.data as EventData<'TrialFailed'>),
      completed: events.filter((e) => e.type === 'TrialCompleted').map((e) => e.data as EventData<'TrialCompleted'>),
      runFailed: events.find((e) => e.type === 'TrainingRunFailed')?.data as EventData<'TrainingRunFailed'> | undefined,
    };
  };

  it('records a failing trial as TrialFailed (error class, message, attempts) and goes on with the others', async () => {
    const run = await runToEnd(QUICK.replace('seed: 3', 'seed: 3\nsearch: {method: grid, trials: 2, parallelism: 2, metric: accuracy, space: {dropout: {choice: [0.1, 1.5]}}, pruning: false}'));
    expect(run.error).toBeUndefined();
    expect(run.status).toBe('Completed');
    const { failed, completed } = await trialEvents(run.runId);
    expect(failed).toHaveLength(1);
    expect(failed[0]).toMatchObject({ params: { dropout: 1.5 }, reason: 'error', attempts: 1, error: { class: 'ValidationError', code: 'VALIDATION_FAILED', message: expect.stringMatching(/dropout/) } });
    expect(completed.map((t) => t.params)).toEqual([{ dropout: 0.1 }]);
    expect(run.bestTrial).toBe(completed[0].trial);
    const view = run.trials.find((t) => t.trial === failed[0].trial)!;
    expect(view).toMatchObject({ status: 'failed', reason: 'error', errorClass: 'ValidationError', error: expect.stringMatching(/dropout/) });
    const card = await (await train(`/runs/${run.runId}/artifacts/model-card`)).text();
    expect(card).toMatch(/2 trials \(1 complete, 0 pruned, 1 failed\)/);
    expect(card).toMatch(new RegExp(`trial ${failed[0].trial} failed \\(error, 1 attempt\\): ValidationError: .*dropout`));
  });

  it('ends the run as failed, with the reason, when every trial fails', async () => {
    const run = await runToEnd(QUICK.replace('seed: 3', 'seed: 3\nsearch: {method: grid, trials: 2, parallelism: 2, metric: accuracy, space: {dropout: {choice: [1.5, 2]}}, pruning: false}'));
    expect(run.status).toBe('Failed');
    expect(run.error).toMatch(/^all 2 trials failed; trial 0 \(error\): ValidationError: .*dropout/);
    const { failed, runFailed } = await trialEvents(run.runId);
    expect(failed.map((t) => t.trial).sort()).toEqual([0, 1]);
    expect(runFailed).toMatchObject({ reason: 'all_trials_failed', code: 'ALL_TRIALS_FAILED' });
  });

  it('fails a trial that runs past its deadline (TrialFailed timeout) and completes the run with the others', async () => {
    const run = await runToEnd(
      QUICK.replace('batchSize: 32', 'batchSize: 8').replace(
        'seed: 3',
        'seed: 3\ntimeoutMinutes: {trial: 0.2}\nsearch: {method: grid, trials: 2, parallelism: 2, metric: accuracy, space: {epochs: {choice: [1, 100000]}}, pruning: false}',
      ),
    );
    expect(run.error).toBeUndefined();
    expect(run.status).toBe('Completed');
    const { failed, completed } = await trialEvents(run.runId);
    expect(completed.map((t) => t.params)).toEqual([{ epochs: 1 }]);
    expect(failed).toHaveLength(1);
    expect(failed[0]).toMatchObject({ params: { epochs: 100000 }, reason: 'timeout', attempts: 1, error: { class: 'TrialTimeoutError', message: expect.stringMatching(/ran past the trial deadline of 0.2 min/) } });
  });

  it('gives blessed: false with the reasons when the gate fails; fairness counts the spec positive label', async () => {
    const spec = QUICK.replace('experiment: penguins-quick\ntask: multiclass', 'experiment: penguins-sex\ntask: binary')
      .replace('label: species', 'label: sex\n  sensitive: [island]')
      .replace('evaluation: {baseline: naive}', 'evaluation: {baseline: naive, positiveLabel: female, gate: {accuracy: {min: 0.3}, log_loss: {max: 0.001}}}');
    const run = await runToEnd(spec);
    expect(run.error).toBeUndefined();
    expect(run.status).toBe('Completed');
    expect(run.blessed).toBe(false);
    const evaluation = run.evaluation!;
    expect(evaluation.blessed).toBe(false);
    expect(evaluation.comparison.accuracy.passed).toBe(true);
    expect(evaluation.comparison.log_loss).toMatchObject({ passed: false, rule: '≤ 0.001' });
    expect(evaluation.gateFailures).toEqual([expect.stringMatching(/^log_loss \d\.\d{4} .*fails "≤ 0.001"$/)]);
    expect((evaluation.fairness as { positiveLabel?: unknown }).positiveLabel).toBe('female');
    const card = await (await train(`/runs/${run.runId}/artifacts/model-card`)).text();
    expect(card).toMatch(/\*\*blessed:\*\* no\s+Not blessed because:\n- log_loss /);
    expect(card).toContain('count `female` as the positive class');
  });

  it('cancels a run', async () => {
    const res = await train('/runs', { method: 'POST', headers: { 'content-type': 'text/yaml' }, body: SPEC.replace('trials: 3', 'trials: 30').replace('epochs: 40', 'epochs: 200') });
    const { runId } = (await res.json()) as { runId: string };
    await waitRun(runId, (r) => r.trials.length > 0, 60_000);
    expect((await train(`/runs/${runId}/cancel`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' })).status).toBe(202);
    const run = await waitRun(runId, (r) => r.status === 'Cancelled', 60_000);
    expect(run.trials.length).toBeLessThan(30);
  });
});
