import { ValidationError } from '@mlp/contracts';
import { loadServingConfig } from './serving-config';

const base = { MLP_TRANSPORT: 'tcp', NATS_URL: 'nats://127.0.0.1:4222', MLP_HOME: '/tmp/mlp-home', MLP_SERVING_PORT: 7105 } as const;

describe('serving config: per-model batching (MLP_SERVING_MODEL_OPTIONS)', () => {
  it('overrides maxBatchSize and maxLatencyMs of the models it names; the others keep the defaults', () => {
    const config = loadServingConfig(
      { MLP_SERVING_MAX_BATCH_SIZE: '64', MLP_SERVING_MAX_LATENCY_MS: '2', MLP_SERVING_MODEL_OPTIONS: '{"fraud": {"maxBatchSize": 8}, "churn": {"maxLatencyMs": 0.5, "maxBatchSize": 256}}' },
      base,
    );
    expect(config.batching('fraud')).toEqual({ maxBatchSize: 8, maxLatencyMs: 2 });
    expect(config.batching('churn')).toEqual({ maxBatchSize: 256, maxLatencyMs: 0.5 });
    expect(config.batching('other')).toEqual({ maxBatchSize: 64, maxLatencyMs: 2 });
  });

  it('a bad override is a configuration error naming the model and the setting', () => {
    const error = (text: string) => {
      try {
        loadServingConfig({ MLP_SERVING_MODEL_OPTIONS: text }, base);
      } catch (err) {
        expect(err).toBeInstanceOf(ValidationError);
        return (err as ValidationError).message;
      }
      throw new Error('expected a configuration error');
    };
    expect(error('{"fraud": {"maxLatencyMs": 60000}}')).toContain('MLP_SERVING_MODEL_OPTIONS: a JSON object {"<model>": {"maxBatchSize": n, "maxLatencyMs": n}}: fraud.maxLatencyMs:');
    expect(error('{"fraud": {"batch": 8}}')).toContain('fraud');
    expect(error('{fraud')).toContain('MLP_SERVING_MODEL_OPTIONS: a JSON object');
  });
});
