import { subjects, ValidationError, type BatchJobView } from '@mlp/contracts';
import type { MlpClient } from '@mlp/messaging';
import { startInProcessServicesOverNats, type InProcessServicesOverNats } from '@mlp/service-kit/testing';
import { eventually } from '@mlp/testing';
import { servingService } from '../index';
import { churnRows, promoteTinyModel } from '../testing/model.fixture';

/** Batch inference started and followed over a real nats-server, as another service (or a worker pool) would. */
describe('batch inference over NATS', () => {
  jest.setTimeout(120_000);
  let p: InProcessServicesOverNats;
  let client: MlpClient;

  beforeAll(async () => {
    p = await startInProcessServicesOverNats([servingService], {
      prefix: 'serving-batch-nats',
      caller: 'training',
      processEnv: () => ({ MLP_SERVING_GRPC_PORT: '-1', MLP_SERVING_TELEMETRY: 'off' }),
    });
    await promoteTinyModel(p);
    client = p.client;
  });
  afterAll(async () => {
    await p?.close();
  });

  it('starts a job with a command and follows it with a query until it completes', async () => {
    const { rows } = churnRows(1_200, 5);
    const csv = ['tenure,monthly,plan', ...rows.map((r, i) => `${r.tenure ?? ''},${r.monthly},${i === 3 ? 'gold' : r.plan}`)].join('\n');
    const { key } = await p.artifacts.put(Buffer.from(csv));
    const started = await client.send<BatchJobView>(subjects.cmd.serving.startBatchInference, { model: 'churn@production', input: { upload: key }, format: 'csv', chunkRows: 500 });
    expect(started).toMatchObject({ status: 'running', chunks: 3, input: { rows: 1_200 } });
    const done = await eventually(async () => {
      const v = await client.send<BatchJobView>(subjects.qry.serving.getBatchInference, { jobId: started.jobId });
      return v.status !== 'running' && v;
    }, 60_000, 'the job');
    expect(done).toMatchObject({ status: 'completed', predicted: 1_199, rejected: 1, output: { rows: 1_199, format: 'csv' } });
  });

  it('answers a bad command with a typed validation error naming the field', async () => {
    const err = await client.send(subjects.cmd.serving.startBatchInference, { model: 'churn', input: { upload: 'x' }, format: 'xlsx' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ValidationError);
    expect((err as ValidationError).details).toEqual(expect.arrayContaining([expect.objectContaining({ path: 'format' })]));
  });
});
