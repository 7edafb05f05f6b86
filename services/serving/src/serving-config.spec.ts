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

describe('serving config: timed retries of failed loads (MLP_SERVING_LOAD_RETRY_MS, MLP_SERVING_LOAD_RETRY_MAX_MS)', () => {
  it('defaults to 1 s doubling up to 60 s; 0 turns them off', () => {
    expect(loadServingConfig({}, base).loadRetry).toEqual({ initialMs: 1000, maxMs: 60_000 });
    expect(loadServingConfig({ MLP_SERVING_LOAD_RETRY_MS: '250', MLP_SERVING_LOAD_RETRY_MAX_MS: '5000' }, base).loadRetry).toEqual({ initialMs: 250, maxMs: 5000 });
    expect(loadServingConfig({ MLP_SERVING_LOAD_RETRY_MS: '0' }, base).loadRetry).toBeNull();
  });

  it('a first delay above the cap, or a value that is no whole number of ms, is a configuration error', () => {
    const error = (env: NodeJS.ProcessEnv) => {
      try {
        loadServingConfig(env, base);
      } catch (err) {
        expect(err).toBeInstanceOf(ValidationError);
        return (err as ValidationError).message;
      }
      throw new Error('expected a configuration error');
    };
    expect(error({ MLP_SERVING_LOAD_RETRY_MS: '5000', MLP_SERVING_LOAD_RETRY_MAX_MS: '1000' })).toContain('MLP_SERVING_LOAD_RETRY_MS (5000) exceeds MLP_SERVING_LOAD_RETRY_MAX_MS (1000)');
    expect(error({ MLP_SERVING_LOAD_RETRY_MS: 'soon' })).toContain('MLP_SERVING_LOAD_RETRY_MS');
    expect(error({ MLP_SERVING_LOAD_RETRY_MAX_MS: '0' })).toContain('MLP_SERVING_LOAD_RETRY_MAX_MS');
  });
});
