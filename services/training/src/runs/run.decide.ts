import { IllegalStateError, NotFoundError, type EventData, type EventInput } from '@mlp/contracts';
import type { Decider } from '@mlp/eventstore';
import { evolveRun, initialRunState, trialEnded, type RunEvent, type RunState } from './run';

export type RunCommand =
  | { type: 'RequestRun'; data: EventInput<'TrainingRunRequested'> }
  | { type: 'RecordPreparation'; prepared: EventInput<'TrainingDataPrepared'>; split: EventInput<'TrainingSetSplit'> }
  | { type: 'StartTrial'; data: EventInput<'TrialStarted'> }
  | { type: 'RecordEpochs'; data: EventInput<'EpochCompleted'> }
  | { type: 'CompleteTrial'; data: EventInput<'TrialCompleted'> }
  | { type: 'FailTrial'; data: EventInput<'TrialFailed'> }
  | { type: 'CompleteRun'; evaluation: EventInput<'ModelEvaluated'>; baseline?: EventInput<'BaselineRecorded'>; completed: EventInput<'TrainingRunCompleted'> }
  | { type: 'FailRun'; error: string; code?: string; reason?: EventData<'TrainingRunFailed'>['reason'] }
  | { type: 'RequestCancel'; reason?: string }
  | { type: 'ConfirmCancel'; reason?: string }
  | { type: 'RecordReplay'; data: EventInput<'TrainingRunReplayed'> };

type Active = Exclude<RunState, { status: 'None' }>;

function requireRun(state: RunState): Exclude<RunState, { status: 'None' }> {
  if (state.status === 'None') throw new NotFoundError('no such training run', { code: 'RUN_NOT_FOUND' });
  return state;
}

/** Work on a run is only accepted while it runs and no cancel is pending. */
function requireActive(state: RunState): Active {
  const s = requireRun(state);
  if (s.status !== 'Running') throw new IllegalStateError(`run ${s.request.runId} has ended (${s.status})`, { code: 'RUN_ENDED' });
  if (s.cancelRequested) throw new IllegalStateError(`run ${s.request.runId} is being cancelled`, { code: 'RUN_CANCELLING' });
  return s as Active;
}

const ev = <T extends RunEvent['type']>(type: T, data: unknown) => ({ type, data }) as RunEvent;

export function decideRun(command: RunCommand, state: RunState): RunEvent[] {
  switch (command.type) {
    case 'RequestRun':
      if (state.status !== 'None') {
        if (state.request.runId === command.data.runId) return []; // a retried request
        throw new IllegalStateError(`run ${command.data.runId} already exists`, { code: 'RUN_EXISTS' });
      }
      return [ev('TrainingRunRequested', command.data)];
    case 'RecordPreparation': {
      const s = requireActive(state);
      if (s.prepared) return [];
      return [ev('TrainingDataPrepared', command.prepared), ev('TrainingSetSplit', command.split)];
    }
    case 'StartTrial': {
      const s = requireActive(state);
      if (!s.split) throw new IllegalStateError('the run has not split its data yet', { code: 'RUN_NOT_PREPARED' });
      if (trialEnded(s.trials[command.data.trial])) throw new IllegalStateError(`trial ${command.data.trial} has already ended`, { code: 'TRIAL_DONE' });
      return [ev('TrialStarted', command.data)];
    }
    case 'RecordEpochs':
      requireActive(state);
      return [ev('EpochCompleted', command.data)];
    case 'CompleteTrial': {
      const s = requireActive(state);
      if (trialEnded(s.trials[command.data.trial])) return []; // exactly once: a redelivered (or timed-out) trial's result is dropped
      return [ev('TrialCompleted', command.data)];
    }
    case 'FailTrial': {
      const s = requireActive(state);
      if (trialEnded(s.trials[command.data.trial])) return []; // a trial ends once: completed, or failed by its worker or the coordinator
      return [ev('TrialFailed', command.data)];
    }
    case 'CompleteRun':
      requireActive(state);
      return [ev('ModelEvaluated', command.evaluation), ...(command.baseline ? [ev('BaselineRecorded', command.baseline)] : []), ev('TrainingRunCompleted', command.completed)];
    case 'FailRun': {
      const s = requireRun(state);
      if (s.status !== 'Running') return [];
      return [ev('TrainingRunFailed', { runId: s.request.runId, error: command.error, ...(command.code ? { code: command.code } : {}), reason: command.reason ?? 'error' })];
    }
    case 'RequestCancel': {
      const s = requireRun(state);
      if (s.status !== 'Running') throw new IllegalStateError(`run ${s.request.runId} has already ended (${s.status})`, { code: 'RUN_ENDED' });
      if (s.cancelRequested) return [];
      return [ev('TrainingRunCancelRequested', { runId: s.request.runId, ...(command.reason ? { reason: command.reason } : {}) })];
    }
    case 'ConfirmCancel': {
      const s = requireRun(state);
      if (s.status !== 'Running') return [];
      return [ev('TrainingRunCancelled', { runId: s.request.runId, ...(command.reason ? { reason: command.reason } : {}) })];
    }
    case 'RecordReplay': {
      const s = requireRun(state);
      if (s.status !== 'Completed') throw new IllegalStateError(`run ${s.request.runId} has not completed; only completed runs can be replayed`, { code: 'RUN_NOT_COMPLETED' });
      return [ev('TrainingRunReplayed', command.data)];
    }
    default: {
      const unreachable: never = command;
      return unreachable;
    }
  }
}

export const runDecider: Decider<RunCommand, RunState, RunEvent> = { decide: decideRun, evolve: evolveRun, initialState: initialRunState };

export type RunRequest = EventData<'TrainingRunRequested'>;
