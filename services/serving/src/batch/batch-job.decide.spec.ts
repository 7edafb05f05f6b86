import { IllegalStateError, type EventData } from '@mlp/contracts';
import { deciderSpec } from '@mlp/testing';
import { batchJobDecider, batchJobView, type BatchJobEvent } from './batch-job';

const sha = (c: string) => c.repeat(64);
const started: EventData<'BatchInferenceStarted'> = {
  jobId: 'job1',
  model: { name: 'churn', version: 2, alias: 'production', weightsSha256: sha('a') },
  input: { kind: 'upload', artifactKey: `sha256/${sha('b')}`, sha256: sha('b'), format: 'csv', rows: 25, passthrough: ['id'] },
  output: { format: 'parquet' },
  chunkRows: 10,
  chunks: 3,
  instance: 'i1',
};
const file = (c: string, rows: number) => ({ artifactKey: `sha256/${sha(c)}`, sha256: sha(c), bytes: 100, rows });
const chunk = (i: number, rows: number, rejected = 0): EventData<'BatchInferenceProgressed'> => ({
  jobId: 'job1',
  chunk: i,
  rows,
  predicted: rows - rejected,
  rejected,
  part: file(String(i), rows - rejected),
  rejects: rejected ? file('f', rejected) : null,
  instance: 'i1',
});
const ev = {
  started: { type: 'BatchInferenceStarted', data: started } as BatchJobEvent,
  progressed: (d: EventData<'BatchInferenceProgressed'>) => ({ type: 'BatchInferenceProgressed', data: d }) as BatchJobEvent,
};
const completed: EventData<'BatchInferenceCompleted'> = {
  jobId: 'job1',
  model: { name: 'churn', version: 2 },
  inputSha256: sha('b'),
  rows: 25,
  predicted: 23,
  rejected: 2,
  output: { ...file('c', 23), format: 'parquet' },
  rejects: { ...file('d', 2), format: 'parquet' },
  resumedFromChunk: 1,
};
const spec = deciderSpec(batchJobDecider);
const allChunks = [ev.started, ev.progressed(chunk(0, 10)), ev.progressed(chunk(1, 10, 2)), ev.progressed(chunk(2, 5))];

describe('batch job decider', () => {
  it('starts a job once', () => {
    spec.given([]).when({ type: 'StartBatchInference', data: started }).then([ev.started]);
    spec.given([ev.started]).when({ type: 'StartBatchInference', data: started }).then(IllegalStateError, /already exists/);
  });

  it('records chunks strictly in order, each once', () => {
    spec.given([ev.started]).when({ type: 'RecordBatchChunk', data: chunk(0, 10) }).then([ev.progressed(chunk(0, 10))]);
    spec.given([ev.started]).when({ type: 'RecordBatchChunk', data: chunk(1, 10) }).then(IllegalStateError, /not the next chunk \(0\)/);
    spec.given([ev.started, ev.progressed(chunk(0, 10))]).when({ type: 'RecordBatchChunk', data: chunk(0, 10) }).then(IllegalStateError, /not the next chunk \(1\)/);
  });

  it('refuses a chunk whose predicted and rejected rows do not add up', () => {
    spec.given([ev.started]).when({ type: 'RecordBatchChunk', data: { ...chunk(0, 10), predicted: 9 } }).then(IllegalStateError, /predicted \+ rejected/);
  });

  it('completes only with every chunk recorded and the assembled rows matching them', () => {
    spec.given(allChunks).when({ type: 'CompleteBatchInference', data: completed }).then([{ type: 'BatchInferenceCompleted', data: completed }]);
    spec.given(allChunks.slice(0, 3)).when({ type: 'CompleteBatchInference', data: completed }).then(IllegalStateError, /2 of 3 chunks/);
    spec.given(allChunks).when({ type: 'CompleteBatchInference', data: { ...completed, output: { ...completed.output, rows: 22 } } }).then(IllegalStateError, /do not hold/);
    spec.given(allChunks).when({ type: 'CompleteBatchInference', data: { ...completed, rejects: null } }).then(IllegalStateError, /do not hold/);
  });

  it('takes nothing after the job ended', () => {
    const done = [...allChunks, { type: 'BatchInferenceCompleted', data: completed } as BatchJobEvent];
    spec.given(done).when({ type: 'FailBatchInference', data: { jobId: 'job1', code: 'X', reason: 'x', chunksDone: 3 } }).then(IllegalStateError, /is completed/);
    spec.given([]).when({ type: 'RecordBatchChunk', data: chunk(0, 10) }).then(IllegalStateError, /does not exist/);
  });

  it('shows progress summed over the recorded chunks', () => {
    spec.given(allChunks.slice(0, 3)).when({ type: 'FailBatchInference', data: { jobId: 'job1', code: 'BOOM', reason: 'disk full', chunksDone: 2 } }).thenState((state) => {
      if (state.status === 'Empty') throw new Error('empty');
      expect(batchJobView(state, { startedAt: 't0', updatedAt: 't1' })).toMatchObject({ status: 'failed', chunksDone: 2, rowsDone: 20, predicted: 18, rejected: 2, error: { code: 'BOOM', reason: 'disk full' } });
    });
  });
});
