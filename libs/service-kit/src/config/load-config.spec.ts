import { resolve } from 'node:path';
import { z } from 'zod';
import { ValidationError, defaultPorts } from '@mlp/contracts';
import { loadConfig } from './load-config';
import { baseConfigSchema, serviceConfigSchema } from './service-config';

describe('loadConfig', () => {
  it('applies the defaults of the base schema', () => {
    const config = loadConfig(baseConfigSchema, {});
    expect(config).toMatchObject({
      MLP_HOME: '.mlp',
      // Absolute, so the URL parsers never see a relative path.
      EVENTSTORE_URL: `sqlite://${resolve('.mlp/events.db')}`,
      ARTIFACTS_URL: `file://${resolve('.mlp/artifacts')}`,
      MLP_TRANSPORT: 'tcp',
      NATS_URL: 'nats://127.0.0.1:4222',
      LOG_LEVEL: 'info',
      MLP_REGISTRY_PORT: defaultPorts.registry.http,
      MLP_REGISTRY_RPC_PORT: defaultPorts.registry.rpc,
      MLP_FEATURE_STORE_PORT: defaultPorts['feature-store'].http,
    });
  });

  it('derives the store URLs from MLP_HOME and reads overrides', () => {
    const config = loadConfig(baseConfigSchema, {
      MLP_HOME: '/data',
      ARTIFACTS_URL: 's3://bucket',
      MLP_TRANSPORT: 'nats',
      MLP_SERVING_PORT: '8080',
      MLP_SERVING_RPC_PORT: '8081',
      LOG_LEVEL: '',
    });
    expect(config).toMatchObject({
      EVENTSTORE_URL: 'sqlite:///data/events.db',
      ARTIFACTS_URL: 's3://bucket',
      MLP_TRANSPORT: 'nats',
      MLP_SERVING_PORT: 8080,
      MLP_SERVING_RPC_PORT: 8081,
      LOG_LEVEL: 'info',
    });
  });

  it('throws one error naming every bad variable and its value', () => {
    let error: unknown;
    try {
      loadConfig(baseConfigSchema, {
        MLP_REGISTRY_PORT: 'abc',
        MLP_TRAINING_RPC_PORT: '70000',
        MLP_TRANSPORT: 'kafka',
        LOG_LEVEL: 'loud',
      });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ValidationError);
    const { message, details, code } = error as ValidationError;
    expect(code).toBe('INVALID_CONFIG');
    expect(message).toContain('MLP_REGISTRY_PORT: expected a port number, got "abc"');
    expect(message).toContain('MLP_TRAINING_RPC_PORT: expected a port number, got "70000"');
    expect(message).toMatch(/MLP_TRANSPORT: .*got "kafka"/);
    expect(message).toMatch(/LOG_LEVEL: .*got "loud"/);
    expect(details.map((d) => d.path).sort()).toEqual(
      ['LOG_LEVEL', 'MLP_REGISTRY_PORT', 'MLP_TRAINING_RPC_PORT', 'MLP_TRANSPORT'].sort(),
    );
  });

  it('checks the settings shared libraries read themselves (DuckDB memory limit, trace, code version)', () => {
    expect(loadConfig(baseConfigSchema, { MLP_DUCKDB_MEMORY_LIMIT: '512MiB', MLP_DUCK_TRACE: '1', MLP_CODE_VERSION: '1.2.0+abc', MLP_GIT_SHA: 'a1b2c3d' })).toMatchObject({
      MLP_DUCKDB_MEMORY_LIMIT: '512MiB',
      MLP_CODE_VERSION: '1.2.0+abc',
    });
    for (const ok of ['1GB', '1.5 GB', '2GiB', '512M', '4tb']) expect(loadConfig(baseConfigSchema, { MLP_DUCKDB_MEMORY_LIMIT: ok }).MLP_DUCKDB_MEMORY_LIMIT).toBe(ok);
    let error: ValidationError | undefined;
    try {
      loadConfig(baseConfigSchema, { MLP_DUCKDB_MEMORY_LIMIT: 'lots', MLP_DUCK_TRACE: 'yes', MLP_GIT_SHA: 'not-a-sha' });
    } catch (e) {
      error = e as ValidationError;
    }
    expect(error?.code).toBe('INVALID_CONFIG');
    expect(error?.message).toContain('MLP_DUCKDB_MEMORY_LIMIT: expected a size with a unit, e.g. 1GB, 512MB or 2GiB, got "lots"');
    expect(error?.details.map((d) => d.path).sort()).toEqual(['MLP_DUCKDB_MEMORY_LIMIT', 'MLP_DUCK_TRACE', 'MLP_GIT_SHA']);
    expect(() => loadConfig(baseConfigSchema, { MLP_DUCKDB_MEMORY_LIMIT: '100KB' })).toThrow(/at least 32MB/);
  });

  it('extends the base schema with service variables and redacts secrets', () => {
    const schema = serviceConfigSchema({ S3_SECRET_KEY: z.string().min(8), BATCH_SIZE: z.coerce.number().int() });
    expect(loadConfig(schema, { S3_SECRET_KEY: 'longenough', BATCH_SIZE: '3' })).toMatchObject({
      S3_SECRET_KEY: 'longenough',
      BATCH_SIZE: 3,
      MLP_HOME: '.mlp',
    });
    expect(() => loadConfig(schema, { S3_SECRET_KEY: 'short', BATCH_SIZE: '3' })).toThrow(
      /S3_SECRET_KEY: .*got \(redacted\)/,
    );
    expect(() => loadConfig(schema, { BATCH_SIZE: '3' })).toThrow(/S3_SECRET_KEY: .*got nothing/);
  });
});
