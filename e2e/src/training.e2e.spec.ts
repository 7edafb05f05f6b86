import { streams, type EventData } from '@mlp/contracts';
import { JetStreamEventStore } from '@mlp/eventstore';
import { SeededRng } from '@mlp/ml';
import { eventually, startDistributedPlatform, type DistributedPlatform } from '@mlp/testing';

/** Card transactions of 60 customers in January 2024; even customers spend ~10× more. Labels on 1 and 8 February. */
function data(): { transactions: string; labels: string } {
  const rng = new SeededRng(5);
  const txns = ['txn_id,customer_id,amount,ts'];
  const labels = ['customer_id,ts,big_spender'];
  for (let c = 0; c < 60; c++) {
    const id = `c${String(c).padStart(2, '0')}`;
    const scale = c % 2 === 0 ? 100 : 10;
    for (let k = 0; k < 6; k++) {
      const day = 1 + Math.floor(rng.next() * 28);
      txns.push(`t${c}_${k},${id},${(scale * (0.5 + rng.next())).toFixed(2)},2024-01-${String(day).padStart(2, '0')} 12:00:00`);
    }
    labels.push(`${id},2024-02-01 00:00:00,${c % 2 === 0 ? 1 : 0}`, `${id},2024-02-08 00:00:00,${c % 2 === 0 ? 1 : 0}`);
  }
  return { transactions: txns.join('\n'), labels: labels.join('\n') };
}

const VIEWS = `entities:
  - {name: customer, joinKeys: [customer_id]}
featureViews:
  - name: spend
    entity: customer
    source: {dataset: txns}
    timestamp: ts
    ttl: 90d
    features:
      - {name: amount_mean_30d, agg: mean, column: amount, window: 30d}
      - {name: amount_max_30d, agg: max, column: amount, window: 30d}
      - {name: txn_count_30d, agg: count, window: 30d}
`;

const SPEC = `experiment: spenders
task: binary
data:
  trainingSet: {entities: {dataset: labels}, timestampColumn: ts, features: [spend]}
  label: big_spender
preprocessing:
  - {impute: median, columns: numeric}
  - {scale: standard, columns: numeric}
split: {method: stratified, test: 0.25}
cv: {folds: 3, method: stratified}
model: {type: mlp, layers: [8], epochs: 80, batchSize: 16, learningRate: 0.01}
search: {method: random, trials: 6, parallelism: 2, metric: roc_auc, space: {lr: {loguniform: [0.003, 0.03]}, layers: {choice: [[8], [16]]}}, pruning: false}
seed: 11
`;

/**
 * Training across processes: ingestion and the feature store build a
 * point-in-time training set, and two training services share one search
 * through the JetStream work queue. One worker is killed with -9 while it
 * holds a trial; the trial is delivered again, and every trial completes
 * exactly once.
 */
describe('distributed training (two workers on a JetStream work queue)', () => {
  jest.setTimeout(240_000);
  let platform: DistributedPlatform;
  let events: JetStreamEventStore;
  const fetch = (name: string, path: string, init?: RequestInit) => platform.fetch(name, path, init);
  const start = (name: string, instance: string) => platform.start(name, 'training', { MLP_TRAINING_INSTANCE: instance });

  beforeAll(async () => {
    platform = await startDistributedPlatform({ prefix: 'e2e-train', env: { MLP_TRIAL_ACK_WAIT_MS: '3000', MLP_TRAINING_WORKERS: '1' } });
    await Promise.all([
      platform.start('ingestion', 'ingestion'),
      platform.start('feature-store', 'feature-store', { MLP_AUTO_MATERIALIZE: 'off' }),
      start('trainer-a', 'trainer-a'),
      start('trainer-b', 'trainer-b'),
    ]);
    events = await JetStreamEventStore.connect({ servers: platform.nats.url });
  });

  afterAll(async () => {
    await events?.close();
    await platform?.stop();
  });

  it('trains from feature-store data while a worker is killed mid-search; every trial completes exactly once', async () => {
    const { transactions, labels } = data();
    for (const [dataset, csv] of [['txns', transactions], ['labels', labels]]) {
      const res = await fetch('ingestion', `/datasets/${dataset}/upload?format=csv`, { method: 'PUT', body: csv });
      expect(((await res.json()) as { status: string }).status).toBe('accepted');
    }
    expect((await fetch('feature-store', '/feature-views', { method: 'PUT', headers: { 'content-type': 'text/yaml' }, body: VIEWS })).status).toBe(200);
    expect((await fetch('feature-store', '/feature-views/spend/materialize', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' })).status).toBe(200);

    const started = await fetch('trainer-a', '/runs', { method: 'POST', headers: { 'content-type': 'text/yaml' }, body: SPEC });
    expect(started.status).toBe(202);
    const { runId } = (await started.json()) as { runId: string };
    const stream = streams.run(runId);

    // Kill trainer-b while it holds a trial it has started but not finished.
    const held = await eventually(async () => {
      const evts = await events.readStream(stream);
      const done = new Set(evts.filter((e) => e.type === 'TrialCompleted').map((e) => (e.data as EventData<'TrialCompleted'>).trial));
      const mine = evts.filter((e) => e.type === 'TrialStarted' && (e.data as EventData<'TrialStarted'>).worker === 'trainer-b').map((e) => (e.data as EventData<'TrialStarted'>).trial);
      const open = mine.find((t) => !done.has(t));
      return open === undefined ? undefined : { trial: open };
    }, 120_000, 'trainer-b holding a trial');
    await platform.processes['trainer-b'].kill('SIGKILL');

    const run = await eventually(async () => {
      const r = (await (await fetch('trainer-a', `/runs/${runId}`)).json()) as { status: string; metrics?: Record<string, number>; error?: string; trials: { trial: number; attempts: number; worker: string }[] };
      return r.status !== 'Running' && r;
    }, 180_000, 'the run to end');
    expect(run.error).toBeUndefined();
    expect(run.status).toBe('Completed');
    expect(run.metrics!.roc_auc).toBeGreaterThan(0.9);

    const evts = await events.readStream(stream);
    const completions = evts.filter((e) => e.type === 'TrialCompleted').map((e) => (e.data as EventData<'TrialCompleted'>).trial);
    expect([...completions].sort((a, b) => a - b)).toEqual([0, 1, 2, 3, 4, 5]);
    // The held trial was started again (by trainer-a) after trainer-b died, and finished there.
    const retried = run.trials.find((t) => t.trial === held.trial)!;
    expect(retried.attempts).toBeGreaterThanOrEqual(2);
    expect(retried.worker).toBe('trainer-a');
    const requested = evts.find((e) => e.type === 'TrainingRunRequested')!.data as EventData<'TrainingRunRequested'>;
    expect(requested.featureViews).toEqual([{ name: 'spend', version: 1 }]);
    expect(requested.inputs.map((i) => i.ref)).toEqual(expect.arrayContaining([expect.stringMatching(/^dataset:labels@1$/), expect.stringMatching(/^featureview:spend@1/)]));
  });

  it('resumes a run when its coordinator is killed mid-search and restarted under the same name', async () => {
    // A worker again (trainer-b died in the test above), then a run coordinated by trainer-a.
    await start('trainer-b', 'trainer-b');
    const started = await fetch('trainer-a', '/runs', { method: 'POST', headers: { 'content-type': 'text/yaml' }, body: SPEC.replace('seed: 11', 'seed: 12') });
    expect(started.status).toBe(202);
    const { runId } = (await started.json()) as { runId: string };
    const stream = streams.run(runId);
    const completedTrials = async () => (await events.readStream(stream)).filter((e) => e.type === 'TrialCompleted').map((e) => (e.data as EventData<'TrialCompleted'>).trial);

    // Kill the coordinator once the search is under way but not over.
    await eventually(async () => (await completedTrials()).length >= 2, 120_000, 'two trials of the run to complete');
    await platform.processes['trainer-a'].kill('SIGKILL');
    const beforeRestart = await completedTrials();
    expect(beforeRestart.length).toBeLessThan(6);
    expect((await events.readStream(stream)).some((e) => e.type === 'TrainingRunCompleted')).toBe(false);

    await start('trainer-a', 'trainer-a');
    const run = await eventually(async () => {
      const r = (await (await fetch('trainer-a', `/runs/${runId}`)).json()) as { status: string; coordinator: string; error?: string; metrics?: Record<string, number> };
      return r.status !== 'Running' && r;
    }, 180_000, 'the resumed run to end');
    expect(run.error).toBeUndefined();
    expect(run.status).toBe('Completed');
    expect(run.coordinator).toBe('trainer-a');
    expect(run.metrics!.roc_auc).toBeGreaterThan(0.9);
    // Every trial has exactly one result, those recorded before the kill and those after the restart.
    expect([...(await completedTrials())].sort((a, b) => a - b)).toEqual([0, 1, 2, 3, 4, 5]);
    const all = await events.readStream(stream);
    expect(all.filter((e) => e.type === 'TrainingRunCompleted')).toHaveLength(1);
    expect(all.filter((e) => e.type === 'TrialFailed')).toEqual([]);
  });
});
