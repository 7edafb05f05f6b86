import { IllegalStateError, type BatchJobView, type EventData, type RecordedEvent } from '@mlp/contracts';
import { aggregate, type Decider } from '@mlp/eventstore';

type Started = EventData<'BatchInferenceStarted'>;
type Progressed = EventData<'BatchInferenceProgressed'>;
type Completed = EventData<'BatchInferenceCompleted'>;
type Failed = EventData<'BatchInferenceFailed'>;

/** A batch job, folded from `batch-<id>`. */
export type BatchJob =
  | { status: 'Empty' }
  | { status: 'Running'; started: Started; parts: Progressed[] }
  | { status: 'Completed'; started: Started; parts: Progressed[]; completed: Completed }
  | { status: 'Failed'; started: Started; parts: Progressed[]; failed: Failed };

export type BatchJobEvent =
  | { type: 'BatchInferenceStarted'; data: Started }
  | { type: 'BatchInferenceProgressed'; data: Progressed }
  | { type: 'BatchInferenceCompleted'; data: Completed }
  | { type: 'BatchInferenceFailed'; data: Failed };

export type BatchJobCommand =
  | { type: 'StartBatchInference'; data: Started }
  | { type: 'RecordBatchChunk'; data: Progressed }
  | { type: 'CompleteBatchInference'; data: Completed }
  | { type: 'FailBatchInference'; data: Failed };

export const initialBatchJob = (): BatchJob => ({ status: 'Empty' });

export function evolveBatchJob(state: BatchJob, event: BatchJobEvent): BatchJob {
  switch (event.type) {
    case 'BatchInferenceStarted':
      return { status: 'Running', started: event.data, parts: [] };
    case 'BatchInferenceProgressed':
      return state.status === 'Running' ? { ...state, parts: [...state.parts, event.data] } : state;
    case 'BatchInferenceCompleted':
      return state.status === 'Running' ? { status: 'Completed', started: state.started, parts: state.parts, completed: event.data } : state;
    case 'BatchInferenceFailed':
      return state.status === 'Running' ? { status: 'Failed', started: state.started, parts: state.parts, failed: event.data } : state;
  }
}

const notRunning = (state: BatchJob, what: string) =>
  new IllegalStateError(`batch job ${state.status === 'Empty' ? 'does not exist' : `is ${state.status.toLowerCase()}`}: cannot ${what}`, { code: 'BATCH_JOB_NOT_RUNNING' });

/**
 * The rules of a job: started once; chunks recorded strictly in order, each
 * once (a chunk recorded again or skipped is refused, so the parts hold
 * every input row exactly once); completed only with every chunk recorded
 * and the row counts adding up; failed only while running.
 */
export function decideBatchJob(command: BatchJobCommand, state: BatchJob): BatchJobEvent[] {
  switch (command.type) {
    case 'StartBatchInference':
      if (state.status !== 'Empty') throw new IllegalStateError(`batch job ${command.data.jobId} already exists`, { code: 'BATCH_JOB_EXISTS' });
      return [{ type: 'BatchInferenceStarted', data: command.data }];
    case 'RecordBatchChunk': {
      if (state.status !== 'Running') throw notRunning(state, `record chunk ${command.data.chunk}`);
      const next = state.parts.length;
      if (command.data.chunk !== next) throw new IllegalStateError(`chunk ${command.data.chunk} is not the next chunk (${next}) of batch job ${state.started.jobId}`, { code: 'BATCH_CHUNK_OUT_OF_ORDER' });
      if (command.data.predicted + command.data.rejected !== command.data.rows) throw new IllegalStateError(`chunk ${command.data.chunk}: predicted + rejected ≠ rows`, { code: 'BATCH_COUNTS_MISMATCH' });
      return [{ type: 'BatchInferenceProgressed', data: command.data }];
    }
    case 'CompleteBatchInference': {
      if (state.status !== 'Running') throw notRunning(state, 'complete');
      if (state.parts.length !== state.started.chunks) throw new IllegalStateError(`batch job ${state.started.jobId} has ${state.parts.length} of ${state.started.chunks} chunks`, { code: 'BATCH_INCOMPLETE' });
      const predicted = state.parts.reduce((s, p) => s + p.predicted, 0);
      const rejected = state.parts.reduce((s, p) => s + p.rejected, 0);
      const c = command.data;
      if (c.rows !== state.started.input.rows || c.predicted !== predicted || c.rejected !== rejected || c.output.rows !== predicted || (c.rejects?.rows ?? 0) !== rejected) {
        throw new IllegalStateError(`batch job ${state.started.jobId}: the assembled files do not hold the recorded rows`, { code: 'BATCH_COUNTS_MISMATCH' });
      }
      return [{ type: 'BatchInferenceCompleted', data: c }];
    }
    case 'FailBatchInference':
      if (state.status !== 'Running') throw notRunning(state, 'fail');
      return [{ type: 'BatchInferenceFailed', data: command.data }];
    default: {
      const never: never = command;
      throw new Error(`unknown command ${(never as { type: string }).type}`);
    }
  }
}

export function foldBatchJob(events: readonly RecordedEvent[]): BatchJob {
  return aggregate(batchJobDecider, events);
}

/** The job as the API shows it; `times` are the first and last event's occurredAt. */
export function batchJobView(state: Exclude<BatchJob, { status: 'Empty' }>, times: { startedAt: string; updatedAt: string }): BatchJobView {
  const s = state.started;
  const done = state.parts;
  const view: BatchJobView = {
    jobId: s.jobId,
    status: state.status === 'Running' ? 'running' : state.status === 'Completed' ? 'completed' : 'failed',
    model: { name: s.model.name, version: s.model.version, alias: s.model.alias },
    input: { kind: s.input.kind, sha256: s.input.sha256, rows: s.input.rows, format: s.input.format, ...(s.input.dataset ? { dataset: s.input.dataset } : {}) },
    chunks: s.chunks,
    chunksDone: done.length,
    rowsDone: done.reduce((n, p) => n + p.rows, 0),
    predicted: done.reduce((n, p) => n + p.predicted, 0),
    rejected: done.reduce((n, p) => n + p.rejected, 0),
    ...times,
  };
  if (state.status === 'Completed') {
    view.output = state.completed.output;
    view.rejects = state.completed.rejects;
  }
  if (state.status === 'Failed') view.error = { code: state.failed.code, reason: state.failed.reason };
  return view;
}

export const batchJobDecider: Decider<BatchJobCommand, BatchJob, BatchJobEvent> = {
  decide: decideBatchJob,
  evolve: evolveBatchJob,
  initialState: initialBatchJob,
};
