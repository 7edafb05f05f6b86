import { DomainError, IllegalStateError, NotFoundError, type EventData } from '@mlp/contracts';
import { deciderSpec } from '@mlp/testing';
import { completedTrials, failedTrials, type RunEvent } from './run';
import { runDecider, type RunCommand } from './run.decide';

const spec = deciderSpec(runDecider);
const hex = (c: string) => c.repeat(64);
const runId = 'run-1';

const request: EventData<'TrainingRunRequested'> = {
  runId,
  experiment: 'churn',
  spec: { task: 'binary' },
  seed: 42,
  inputs: [{ ref: 'dataset:customers@3', sha256: hex('a') }],
  data: { artifactKey: `sha256/${hex('a')}`, sha256: hex('a'), rows: 100 },
  featureViews: [],
  backend: 'wasm',
  simd: true,
  libraries: { '@tensorflow/tfjs': '4.22.0' },
  codeVersion: 'abc123',
  coordinator: 'training-1',
};
const preparedData: EventData<'TrainingDataPrepared'> = { runId, rows: 98, droppedMissingLabel: 2, features: ['usage'], dropped: [], warnings: [], classes: [0, 1] };
const splitData: EventData<'TrainingSetSplit'> = { runId, method: 'random', sizes: { train: 78, test: 20 }, indicesSha256: hex('b'), cv: { method: 'kfold', folds: 5 } };
const trialStarted = (trial: number, attempt = 1): EventData<'TrialStarted'> => ({ runId, trial, params: { lr: 0.01 }, attempt, worker: 'w1' });
const trialResult = (trial: number, accuracy: number): EventData<'TrialCompleted'> => ({
  runId,
  trial,
  params: { lr: 0.01 },
  status: 'complete',
  metrics: { accuracy },
  std: { accuracy: 0 },
  folds: [{ accuracy }],
  pruned: false,
  worker: 'w1',
});
const trialFailure = (trial: number, reason: EventData<'TrialFailed'>['reason'] = 'error', attempts = 1): EventData<'TrialFailed'> => ({
  runId,
  trial,
  params: { lr: 0.01 },
  reason,
  error: reason === 'timeout' ? { class: 'TrialTimeoutError', message: `trial ${trial} ran past its deadline` } : { class: 'ValidationError', message: 'model spec: dropout must be < 1', code: 'VALIDATION_FAILED' },
  attempts,
  worker: 'w1',
});
const evaluation: EventData<'ModelEvaluated'> = {
  runId,
  metrics: { accuracy: 0.9 },
  slices: {},
  fairness: {},
  baseline: { kind: 'none', metrics: {} },
  comparison: {},
  blessed: true,
};
const completion: EventData<'TrainingRunCompleted'> = {
  runId,
  bestTrial: 0,
  params: { lr: 0.01 },
  metrics: { accuracy: 0.9 },
  modelArtifactKey: 'm',
  weightsArtifactKey: 'w',
  weightsSha256: hex('c'),
  preprocessingArtifactKey: 'p',
  reportArtifactKey: 'r',
  modelCardArtifactKey: 'mc',
  blessed: true,
};
const replay: EventData<'TrainingRunReplayed'> = { runId, identical: true, original: hex('c'), replayed: hex('c'), backend: 'wasm', simd: true };

const requested: RunEvent = { type: 'TrainingRunRequested', data: request };
const prepared: RunEvent[] = [
  { type: 'TrainingDataPrepared', data: preparedData },
  { type: 'TrainingSetSplit', data: splitData },
];
const running: RunEvent[] = [requested, ...prepared];
const started0: RunEvent = { type: 'TrialStarted', data: trialStarted(0) };
const completed0: RunEvent = { type: 'TrialCompleted', data: trialResult(0, 0.8) };
const runCompleted: RunEvent[] = [
  { type: 'ModelEvaluated', data: evaluation },
  { type: 'TrainingRunCompleted', data: completion },
];
const ended: Record<'Completed' | 'Failed' | 'Cancelled', RunEvent[]> = {
  Completed: [...running, started0, completed0, ...runCompleted],
  Failed: [...running, { type: 'TrainingRunFailed', data: { runId, error: 'out of memory' } }],
  Cancelled: [...running, { type: 'TrainingRunCancelRequested', data: { runId } }, { type: 'TrainingRunCancelled', data: { runId } }],
};

/** The error `decide` throws for the command after `history`; fails the test when it throws none. */
function rejection(history: RunEvent[], command: RunCommand): DomainError {
  const state = history.reduce(runDecider.evolve, runDecider.initialState());
  try {
    runDecider.decide(command, state);
  } catch (err) {
    expect(err).toBeInstanceOf(DomainError);
    return err as DomainError;
  }
  throw new Error(`expected ${command.type} to be rejected`);
}

const work: RunCommand[] = [
  { type: 'RecordPreparation', prepared: preparedData, split: splitData },
  { type: 'StartTrial', data: trialStarted(1) },
  { type: 'RecordEpochs', data: { runId, trial: 1, fold: 0, attempt: 1, epochs: [{ epoch: 0, metrics: { loss: 0.5 } }] } },
  { type: 'CompleteTrial', data: trialResult(1, 0.7) },
  { type: 'FailTrial', data: trialFailure(1) },
  { type: 'CompleteRun', evaluation, completed: completion },
];

describe('training run decider', () => {
  it('records a request', () => {
    spec.given([]).when({ type: 'RequestRun', data: request }).then([requested]);
  });

  it('treats a repeated request of the same run as a no-op and refuses another run on the same stream', () => {
    spec.given([requested]).when({ type: 'RequestRun', data: request }).then([]);
    spec.given([requested]).when({ type: 'RequestRun', data: { ...request, runId: 'run-2' } }).then(IllegalStateError, /run-2 already exists/);
    expect(rejection([requested], { type: 'RequestRun', data: { ...request, runId: 'run-2' } }).code).toBe('RUN_EXISTS');
  });

  it('records the preparation and the split together, once', () => {
    spec.given([requested]).when({ type: 'RecordPreparation', prepared: preparedData, split: splitData }).then(prepared);
    spec.given(running).when({ type: 'RecordPreparation', prepared: preparedData, split: splitData }).then([]);
  });

  it('rejects a command on a run that does not exist', () => {
    spec.given([]).when({ type: 'StartTrial', data: trialStarted(0) }).then(NotFoundError);
    expect(rejection([], { type: 'FailRun', error: 'x' }).code).toBe('RUN_NOT_FOUND');
  });

  it('rejects starting a trial before the data is prepared and split', () => {
    spec.given([requested]).when({ type: 'StartTrial', data: trialStarted(0) }).then(IllegalStateError, /not split its data/);
    expect(rejection([requested], { type: 'StartTrial', data: trialStarted(0) }).code).toBe('RUN_NOT_PREPARED');
  });

  it('starts a trial, counts a restart as another attempt, and refuses to restart a completed trial', () => {
    spec.given(running).when({ type: 'StartTrial', data: trialStarted(0) }).then([started0]);
    spec
      .given([...running, started0])
      .when({ type: 'StartTrial', data: trialStarted(0, 2) })
      .thenState((s) => expect(s.status !== 'None' && s.trials[0].attempts).toBe(2));
    expect(rejection([...running, started0, completed0], { type: 'StartTrial', data: trialStarted(0, 2) }).code).toBe('TRIAL_DONE');
  });

  it('appends a trial result exactly once: a redelivered result is dropped and the first one kept', () => {
    spec.given([...running, started0]).when({ type: 'CompleteTrial', data: trialResult(0, 0.8) }).then([completed0]);
    spec.given([...running, started0, completed0]).when({ type: 'CompleteTrial', data: trialResult(0, 0.8) }).then([]);
    // A second worker's result for the same trial, with other metrics, is dropped too.
    spec
      .given([...running, started0, completed0])
      .when({ type: 'CompleteTrial', data: { ...trialResult(0, 0.6), worker: 'w2' } })
      .thenState((s) => expect(completedTrials(s)).toEqual([trialResult(0, 0.8)]));
    // Other trials still complete.
    spec.given([...running, started0, completed0]).when({ type: 'CompleteTrial', data: trialResult(1, 0.7) }).then([{ type: 'TrialCompleted', data: trialResult(1, 0.7) }]);
  });

  it('completes a run with its evaluation', () => {
    spec
      .given([...running, started0, completed0])
      .when({ type: 'CompleteRun', evaluation, completed: completion })
      .then(runCompleted);
  });

  describe.each(Object.keys(ended) as (keyof typeof ended)[])('after the run is %s', (status) => {
    const history = ended[status];

    it('rejects all further work with RUN_ENDED', () => {
      expect(history.reduce(runDecider.evolve, runDecider.initialState()).status).toBe(status);
      for (const command of work) {
        const err = rejection(history, command);
        expect([command.type, err]).toEqual([command.type, expect.any(IllegalStateError)]);
        expect([command.type, err.code]).toEqual([command.type, 'RUN_ENDED']);
      }
      expect(rejection(history, { type: 'RequestCancel' }).code).toBe('RUN_ENDED');
    });

    it('treats FailRun and ConfirmCancel as no-ops', () => {
      spec.given(history).when({ type: 'FailRun', error: 'late failure' }).then([]);
      spec.given(history).when({ type: 'ConfirmCancel' }).then([]);
    });
  });

  it('fails a running run, keeping the error code', () => {
    spec
      .given(running)
      .when({ type: 'FailRun', error: 'no space left', code: 'ENOSPC' })
      .then([{ type: 'TrainingRunFailed', data: { runId, error: 'no space left', code: 'ENOSPC', reason: 'error' } }]);
  });

  describe('trial failures and deadlines', () => {
    const failed0: RunEvent = { type: 'TrialFailed', data: trialFailure(0) };

    it('records a trial that failed, with its error class, message and attempts', () => {
      spec.given([...running, started0]).when({ type: 'FailTrial', data: trialFailure(0) }).then([failed0]);
      spec
        .given([...running, started0])
        .when({ type: 'FailTrial', data: trialFailure(0) })
        .thenState((s) => expect(failedTrials(s)).toEqual([trialFailure(0)]));
    });

    it('records a trial that timed out, even one that no worker ever started', () => {
      const timedOut = { ...trialFailure(3, 'timeout', 0), worker: undefined };
      spec.given(running).when({ type: 'FailTrial', data: timedOut }).then([{ type: 'TrialFailed', data: timedOut }]);
    });

    it('ends a trial once: a second failure, or a late result after a timeout, is dropped', () => {
      const timedOut: RunEvent = { type: 'TrialFailed', data: trialFailure(0, 'timeout') };
      spec.given([...running, started0, timedOut]).when({ type: 'FailTrial', data: trialFailure(0) }).then([]);
      spec.given([...running, started0, timedOut]).when({ type: 'CompleteTrial', data: trialResult(0, 0.9) }).then([]);
      spec
        .given([...running, started0, timedOut])
        .when({ type: 'CompleteTrial', data: trialResult(0, 0.9) })
        .thenState((s) => expect([completedTrials(s), failedTrials(s).map((t) => t.reason)]).toEqual([[], ['timeout']]));
      // …and a completed trial does not fail afterwards (the coordinator's deadline raced its result).
      spec.given([...running, started0, completed0]).when({ type: 'FailTrial', data: trialFailure(0, 'timeout') }).then([]);
    });

    it('never restarts a failed trial (a redelivery after a timeout is refused)', () => {
      expect(rejection([...running, started0, failed0], { type: 'StartTrial', data: trialStarted(0, 2) }).code).toBe('TRIAL_DONE');
    });

    it('refuses trial failures while a cancel is pending (the cancel ends the run instead)', () => {
      const cancelRequested: RunEvent = { type: 'TrainingRunCancelRequested', data: { runId } };
      expect(rejection([...running, started0, cancelRequested], { type: 'FailTrial', data: trialFailure(0) }).code).toBe('RUN_CANCELLING');
    });

    it('ends the run with a reason when every trial failed or the run deadline passed', () => {
      spec
        .given([...running, started0, failed0])
        .when({ type: 'FailRun', error: 'all 1 trials failed; trial 0: ValidationError: model spec: dropout must be < 1', code: 'ALL_TRIALS_FAILED', reason: 'all_trials_failed' })
        .then([{ type: 'TrainingRunFailed', data: { runId, error: 'all 1 trials failed; trial 0: ValidationError: model spec: dropout must be < 1', code: 'ALL_TRIALS_FAILED', reason: 'all_trials_failed' } }]);
      spec
        .given([...running, started0, { type: 'TrialFailed', data: trialFailure(0, 'run_deadline') }])
        .when({ type: 'FailRun', error: 'the run passed its deadline of 240 minutes', code: 'RUN_DEADLINE_EXCEEDED', reason: 'run_deadline_exceeded' })
        .thenState((s) => expect([s.status, s.status !== 'None' && s.failure]).toEqual(['Failed', 'the run passed its deadline of 240 minutes']));
    });
  });

  it('after a cancel request, rejects new work with RUN_CANCELLING until the cancel is confirmed', () => {
    const cancelRequested: RunEvent = { type: 'TrainingRunCancelRequested', data: { runId, reason: 'user' } };
    spec.given(running).when({ type: 'RequestCancel', reason: 'user' }).then([cancelRequested]);
    spec.given([...running, cancelRequested]).when({ type: 'RequestCancel' }).then([]);
    expect(rejection([...running, cancelRequested], { type: 'StartTrial', data: trialStarted(0) }).code).toBe('RUN_CANCELLING');
    spec.given([...running, cancelRequested]).when({ type: 'StartTrial', data: trialStarted(0) }).then(IllegalStateError, /being cancelled/);
    spec
      .given([...running, cancelRequested])
      .when({ type: 'ConfirmCancel', reason: 'user' })
      .then([{ type: 'TrainingRunCancelled', data: { runId, reason: 'user' } }]);
    // A failure while cancelling still ends the run as failed.
    spec.given([...running, cancelRequested]).when({ type: 'FailRun', error: 'crash' }).then([{ type: 'TrainingRunFailed', data: { runId, error: 'crash', reason: 'error' } }]);
  });

  it('records a replay only for a completed run', () => {
    spec.given(ended.Completed).when({ type: 'RecordReplay', data: replay }).then([{ type: 'TrainingRunReplayed', data: replay }]);
    for (const history of [running, ended.Failed, ended.Cancelled]) {
      expect(rejection(history, { type: 'RecordReplay', data: replay }).code).toBe('RUN_NOT_COMPLETED');
    }
    spec.given([]).when({ type: 'RecordReplay', data: replay }).then(NotFoundError);
  });
});
