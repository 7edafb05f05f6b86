import { streams, type EventData } from '@mlp/contracts';
import { eventually, ingestPenguins, penguinsSpec, startNatsServer, type NatsServerHandle } from '@mlp/testing';
import { JetStreamTrialQueue } from './queue/jetstream-trial-queue';
import type { TrialMessage } from './queue/trial-queue';
import type { RunView } from './runs/runs.projection';
import { startTrainingPlatform, type TrainingPlatform } from './testing/platform.fixture';

const SPEC = penguinsSpec({ experiment: 'penguins-hang', model: '{type: mlp, layers: [8], epochs: 5, batchSize: 32, learningRate: 0.01}' });

/**
 * Runs whose trials hang on a JetStream work queue: the training service
 * here only coordinates (MLP_TRAINING_WORKERS=0), and the only worker on the
 * queue takes each trial and stalls, keeping it alive with heartbeats and
 * never acking it, as a worker stuck before it records anything does. The
 * trial and run deadlines end such runs, recorded as TrialFailed and
 * TrainingRunFailed with their reasons.
 */
describe('training deadlines (JetStream trial queue, a worker that takes trials and stalls)', () => {
  jest.setTimeout(180_000);
  let nats: NatsServerHandle;
  let p: TrainingPlatform;
  let stalled: JetStreamTrialQueue;
  const taken: TrialMessage[] = [];
  let release: () => void = () => undefined;
  const stall = new Promise<void>((resolve) => (release = resolve));

  const train = (path: string, init?: RequestInit) => fetch(`${p.training.url}${path}`, init);
  async function runToEnd(yaml: string): Promise<RunView> {
    const res = await train('/runs', { method: 'POST', headers: { 'content-type': 'text/yaml' }, body: yaml });
    expect(res.status).toBe(202);
    const { runId } = (await res.json()) as { runId: string };
    return eventually(async () => {
      const r = (await (await train(`/runs/${runId}`)).json()) as RunView;
      return r.status !== 'Running' && r.status !== 'Cancelling' ? r : undefined;
    }, 120_000, `run ${runId} to end`);
  }
  const runEvents = async (runId: string) => {
    const events = await p.store.readStream(streams.run(runId));
    return {
      started: events.filter((e) => e.type === 'TrialStarted').length,
      failed: events.filter((e) => e.type === 'TrialFailed').map((e) => e.data as EventData<'TrialFailed'>),
      runFailed: events.find((e) => e.type === 'TrainingRunFailed')?.data as EventData<'TrainingRunFailed'> | undefined,
    };
  };

  beforeAll(async () => {
    nats = await startNatsServer();
    p = await startTrainingPlatform({ NATS_URL: nats.url }, { MLP_TRIAL_QUEUE: 'jetstream', MLP_TRAINING_WORKERS: '0', MLP_TRIAL_ACK_WAIT_MS: '2000' });
    stalled = await JetStreamTrialQueue.connect(nats.url, { ackWaitMs: 2000, name: 'stalled-worker' });
    await stalled.work(async (delivery) => {
      taken.push(delivery.message);
      await stall;
    }, 4);
    await ingestPenguins(p.ingestion.url);
  });

  afterAll(async () => {
    release();
    await stalled?.close();
    await p?.close();
    await nats?.stop();
  });

  it('fails a trial that a worker took but never started within the trial deadline, and then the run (all trials failed)', async () => {
    const run = await runToEnd(`${SPEC}timeoutMinutes: {trial: 0.05}\n`);
    expect(run.status).toBe('Failed');
    expect(taken).toContainEqual({ runId: run.runId, trial: 0, params: {} });
    const { started, failed, runFailed } = await runEvents(run.runId);
    expect(started).toBe(0);
    expect(failed).toEqual([
      { runId: run.runId, trial: 0, params: {}, reason: 'timeout', attempts: 0, error: { class: 'TrialTimeoutError', message: expect.stringMatching(/^no worker started trial 0 within the trial deadline of 0.05 min/) } },
    ]);
    expect(runFailed).toMatchObject({ reason: 'all_trials_failed', code: 'ALL_TRIALS_FAILED', error: expect.stringMatching(/^all 1 trial failed; trial 0 \(timeout\): TrialTimeoutError/) });
    expect(run.failureReason).toBe('all_trials_failed');
    expect(run.trials).toEqual([expect.objectContaining({ trial: 0, status: 'failed', reason: 'timeout', errorClass: 'TrialTimeoutError' })]);
  });

  it('ends a run that passes its run deadline with TrainingRunFailed (run_deadline_exceeded), failing its open trials', async () => {
    const run = await runToEnd(`${SPEC}timeoutMinutes: {run: 0.1}\n`);
    expect(run.status).toBe('Failed');
    expect(taken.some((m) => m.runId === run.runId)).toBe(true);
    const { failed, runFailed } = await runEvents(run.runId);
    expect(failed).toEqual([expect.objectContaining({ trial: 0, reason: 'run_deadline', error: { class: 'RunDeadlineExceeded', message: expect.stringMatching(/deadline of 0.1 min/) } })]);
    expect(runFailed).toMatchObject({ reason: 'run_deadline_exceeded', code: 'RUN_DEADLINE_EXCEEDED', error: expect.stringMatching(/^the run passed its deadline of 0.1 min \(timeoutMinutes.run\); trial 0 had not ended/) });
  });
});
