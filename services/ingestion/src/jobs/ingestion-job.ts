import { IllegalStateError, type DomainEvent, type EventData, type EventInput } from '@mlp/contracts';
import type { Decider } from '@mlp/eventstore';

export type IngestionJobEvent = DomainEvent<'IngestionStarted' | 'IngestionRetried' | 'IngestionFailed' | 'IngestionCompleted'>;

export type IngestionJobState =
  | { status: 'Empty' }
  | { status: 'Running'; started: EventData<'IngestionStarted'>; attempts: number }
  | { status: 'Completed'; started: EventData<'IngestionStarted'>; version: number | null; duplicateOf: number | null }
  | { status: 'Failed'; started: EventData<'IngestionStarted'>; error: string };

export type IngestionJobCommand =
  | { type: 'StartIngestion'; started: EventInput<'IngestionStarted'> }
  | { type: 'RecordIngestionRetry'; attempt: number; error: string; delayMs: number }
  | { type: 'CompleteIngestion'; version: number | null; duplicateOf: number | null }
  | { type: 'FailIngestion'; error: string; code: string };

export const initialJobState = (): IngestionJobState => ({ status: 'Empty' });

export function evolveJob(state: IngestionJobState, event: IngestionJobEvent): IngestionJobState {
  switch (event.type) {
    case 'IngestionStarted':
      return { status: 'Running', started: event.data, attempts: 1 };
    case 'IngestionRetried':
      return state.status === 'Running' ? { ...state, attempts: state.attempts + 1 } : state;
    case 'IngestionCompleted':
      return state.status === 'Running' ? { status: 'Completed', started: state.started, version: event.data.version, duplicateOf: event.data.duplicateOf } : state;
    case 'IngestionFailed':
      return state.status === 'Running' ? { status: 'Failed', started: state.started, error: event.data.error } : state;
    default: {
      const unreachable: never = event;
      return unreachable;
    }
  }
}

export function decideJob(command: IngestionJobCommand, state: IngestionJobState): IngestionJobEvent[] {
  if (command.type === 'StartIngestion') {
    if (state.status !== 'Empty') throw new IllegalStateError('ingestion job already started', { code: 'JOB_EXISTS' });
    return [{ type: 'IngestionStarted', data: command.started } as IngestionJobEvent];
  }
  if (state.status !== 'Running') {
    throw new IllegalStateError(`ingestion job is ${state.status.toLowerCase()}`, { code: 'JOB_NOT_RUNNING' });
  }
  const jobId = state.started.jobId;
  switch (command.type) {
    case 'RecordIngestionRetry':
      return [{ type: 'IngestionRetried', data: { jobId, attempt: command.attempt, error: command.error, delayMs: command.delayMs } }];
    case 'CompleteIngestion':
      return [{ type: 'IngestionCompleted', data: { jobId, dataset: state.started.dataset, version: command.version, duplicateOf: command.duplicateOf } }];
    case 'FailIngestion':
      return [{ type: 'IngestionFailed', data: { jobId, dataset: state.started.dataset, error: command.error, code: command.code, attempts: state.attempts } }];
    default: {
      const unreachable: never = command;
      return unreachable;
    }
  }
}

export const ingestionJobDecider: Decider<IngestionJobCommand, IngestionJobState, IngestionJobEvent> = {
  decide: decideJob,
  evolve: evolveJob,
  initialState: initialJobState,
};
