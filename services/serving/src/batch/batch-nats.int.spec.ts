import type { INestApplicationContext } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { subjects, ValidationError, type BatchJobView } from '@mlp/contracts';
import { MLP_CLIENT, MessagingModule, type MlpClient } from '@mlp/messaging';
import { startInProcessServices, type InProcessServices } from '@mlp/service-kit/testing';
import { eventually, startNatsServer, type NatsServerHandle } from '@mlp/testing';
import { servingService } from '../index';
import { assignAlias, churnRows, registerVersion, storeTinyModel } from '../testing/model.fixture';

/** Batch inference started and followed over a real nats-server, as another service (or a worker pool) would. */
describe('batch inference over NATS', () => {
  jest.setTimeout(120_000);
  let nats: NatsServerHandle;
  let p: InProcessServices;
  let context: INestApplicationContext;
  let client: MlpClient;

  beforeAll(async () => {
    nats = await startNatsServer();
    p = await startInProcessServices([servingService], {
      prefix: 'serving-batch-nats',
      env: { MLP_TRANSPORT: 'nats', NATS_URL: nats.url, MLP_AUTH: 'off' },
      processEnv: () => ({ MLP_SERVING_GRPC_PORT: '-1', MLP_SERVING_TELEMETRY: 'off' }),
    });
    const stored = await storeTinyModel(p.artifacts);
    await registerVersion(p.store, 'churn', 1, stored);
    await assignAlias(p.store, 'churn', 'production', 1);
    context = await NestFactory.createApplicationContext(MessagingModule.forService('training', { MLP_TRANSPORT: 'nats', NATS_URL: nats.url }), { logger: false });
    client = context.get(MLP_CLIENT);
  });
  afterAll(async () => {
    await context?.close();
    await p?.close();
    await nats?.stop();
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
