import type { DomainEvent, EventData } from '@mlp/contracts';

export type RunEvent = DomainEvent<
  | 'TrainingRunRequested'
  | 'TrainingDataPrepared'
  | 'TrainingSetSplit'
  | 'TrialStarted'
  | 'EpochCompleted'
  | 'TrialCompleted'
  | 'TrialFailed'
  | 'ModelEvaluated'
  | 'BaselineRecorded'
  | 'TrainingRunCompleted'
  | 'TrainingRunFailed'
  | 'TrainingRunCancelRequested'
  | 'TrainingRunCancelled'
  | 'TrainingRunReplayed'
>;

export type RunStatus = 'Running' | 'Completed' | 'Failed' | 'Cancelled';
export type TrialRecord = { trial: number; params: Record<string, unknown>; attempts: number; completed?: EventData<'TrialCompleted'>; failed?: EventData<'TrialFailed'> };

/** A trial has ended once it completed (complete or pruned) or failed: it is never run again. */
export const trialEnded = (t: TrialRecord | undefined): boolean => !!(t?.completed || t?.failed);

export type RunState =
  | { status: 'None' }
  | {
      status: RunStatus;
      request: EventData<'TrainingRunRequested'>;
      prepared?: EventData<'TrainingDataPrepared'>;
      split?: EventData<'TrainingSetSplit'>;
      trials: Record<number, TrialRecord>;
      cancelRequested: boolean;
      evaluated?: EventData<'ModelEvaluated'>;
      completed?: EventData<'TrainingRunCompleted'>;
      failure?: string;
    };

export const initialRunState = (): RunState => ({ status: 'None' });

export function evolveRun(state: RunState, event: RunEvent): RunState {
  if (event.type === 'TrainingRunRequested') {
    return { status: 'Running', request: event.data, trials: {}, cancelRequested: false };
  }
  if (state.status === 'None') return state;
  switch (event.type) {
    case 'TrainingDataPrepared':
      return { ...state, prepared: event.data };
    case 'TrainingSetSplit':
      return { ...state, split: event.data };
    case 'TrialStarted': {
      const prev = state.trials[event.data.trial];
      return { ...state, trials: { ...state.trials, [event.data.trial]: { ...prev, trial: event.data.trial, params: event.data.params, attempts: (prev?.attempts ?? 0) + 1 } } };
    }
    case 'TrialCompleted': {
      const prev = state.trials[event.data.trial];
      return { ...state, trials: { ...state.trials, [event.data.trial]: { trial: event.data.trial, params: event.data.params, attempts: prev?.attempts ?? 1, completed: event.data } } };
    }
    case 'TrialFailed': {
      const prev = state.trials[event.data.trial];
      return { ...state, trials: { ...state.trials, [event.data.trial]: { trial: event.data.trial, params: event.data.params, attempts: prev?.attempts ?? event.data.attempts, failed: event.data } } };
    }
    case 'ModelEvaluated':
      return { ...state, evaluated: event.data };
    case 'TrainingRunCompleted':
      return { ...state, status: 'Completed', completed: event.data };
    case 'TrainingRunFailed':
      return { ...state, status: 'Failed', failure: event.data.error };
    case 'TrainingRunCancelRequested':
      return { ...state, cancelRequested: true };
    case 'TrainingRunCancelled':
      return { ...state, status: 'Cancelled' };
    case 'EpochCompleted':
    case 'BaselineRecorded':
    case 'TrainingRunReplayed':
      return state;
    default: {
      const unreachable: never = event;
      return unreachable;
    }
  }
}

/** Failed trials (TrialFailed) in trial order. */
export function failedTrials(state: RunState): EventData<'TrialFailed'>[] {
  if (state.status === 'None') return [];
  return Object.values(state.trials)
    .filter((t) => t.failed)
    .map((t) => t.failed!)
    .sort((a, b) => a.trial - b.trial);
}

/** Completed trials in trial order. */
export function completedTrials(state: RunState): EventData<'TrialCompleted'>[] {
  if (state.status === 'None') return [];
  return Object.values(state.trials)
    .filter((t) => t.completed)
    .map((t) => t.completed!)
    .sort((a, b) => a.trial - b.trial);
}
