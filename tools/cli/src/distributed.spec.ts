import { resolve } from 'node:path';
import { planDistributed } from './distributed';

describe('planDistributed: what mlp up --distributed starts and what it is given', () => {
  const key = () => 'generated-key-generated-key-0001';

  it('starts everything itself on an empty environment, with a generated admin key', () => {
    expect(planDistributed({ MLP_HOME: '/data/mlp' }, key)).toEqual({
      home: '/data/mlp',
      natsUrl: undefined,
      eventStoreUrl: undefined,
      artifacts: 'start-s3rver',
      adminKey: 'generated-key-generated-key-0001',
      generatedKey: true,
    });
    expect(planDistributed({}, key).home).toBe(resolve('.mlp'));
  });

  it('uses what it is given: NATS_URL, EVENTSTORE_URL, S3_ENDPOINT (bucket s3://mlp unless ARTIFACTS_URL names one), MLP_ADMIN_KEY', () => {
    const plan = planDistributed({ NATS_URL: 'nats://broker:4222', EVENTSTORE_URL: 'esdb://es:2113?tls=false', S3_ENDPOINT: 'http://minio:9000', MLP_ADMIN_KEY: 'k'.repeat(32) }, key);
    expect(plan).toMatchObject({ natsUrl: 'nats://broker:4222', eventStoreUrl: 'esdb://es:2113?tls=false', artifacts: { url: 's3://mlp' }, adminKey: 'k'.repeat(32), generatedKey: false });
    expect(planDistributed({ S3_ENDPOINT: 'http://minio:9000', ARTIFACTS_URL: 's3://team/a' }, key).artifacts).toEqual({ url: 's3://team/a' });
    expect(planDistributed({ ARTIFACTS_URL: 'file:///shared/artifacts' }, key).artifacts).toEqual({ url: 'file:///shared/artifacts' });
  });

  it('counts empty variables as unset', () => {
    expect(planDistributed({ NATS_URL: '', EVENTSTORE_URL: ' ', S3_ENDPOINT: '', ARTIFACTS_URL: '', MLP_ADMIN_KEY: '' }, key)).toMatchObject({
      natsUrl: undefined,
      eventStoreUrl: undefined,
      artifacts: 'start-s3rver',
      generatedKey: true,
    });
  });
});
