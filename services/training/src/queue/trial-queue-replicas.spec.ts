import { RetentionPolicy } from 'nats';
import { ValidationError } from '@mlp/contracts';
import { loadTrainingConfig } from '../training-config';
import { trialStreamConfig } from './jetstream-trial-queue';

const base = { MLP_TRANSPORT: 'nats', NATS_URL: 'nats://127.0.0.1:4222' } as const;

/** MLP_TRIAL_QUEUE_REPLICAS → the training config → the work queue's stream config. */
describe('trial work queue replicas', () => {
  it('defaults to one replica', () => {
    const config = loadTrainingConfig({}, base, 7103);
    expect(config.MLP_TRIAL_QUEUE_REPLICAS).toBe(1);
    expect(trialStreamConfig(config.MLP_TRIAL_QUEUE_REPLICAS)).toMatchObject({ name: 'MLP_TRIALS', num_replicas: 1, retention: RetentionPolicy.Workqueue });
  });

  it('passes MLP_TRIAL_QUEUE_REPLICAS=3 to the stream (R3 on a NATS cluster)', () => {
    const config = loadTrainingConfig({ MLP_TRIAL_QUEUE_REPLICAS: '3' }, base, 7103);
    expect(config.MLP_TRIAL_QUEUE_REPLICAS).toBe(3);
    expect(trialStreamConfig(config.MLP_TRIAL_QUEUE_REPLICAS).num_replicas).toBe(3);
  });

  it.each(['0', '6', '2.5', 'three'])('refuses MLP_TRIAL_QUEUE_REPLICAS=%s naming the variable', (value) => {
    let error: unknown;
    try {
      loadTrainingConfig({ MLP_TRIAL_QUEUE_REPLICAS: value }, base, 7103);
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ValidationError);
    expect((error as ValidationError).details.map((d) => d.path)).toEqual(['MLP_TRIAL_QUEUE_REPLICAS']);
  });
});
