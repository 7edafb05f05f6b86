import { ValidationError } from '@mlp/contracts';
import { loadConfig } from '../config/load-config';
import { baseConfigSchema } from '../config/service-config';
import { authEnabled, isLoopbackHost } from './auth-mode';

describe('auth mode', () => {
  it('auto: off embedded on loopback, on with NATS or beyond loopback', () => {
    expect(authEnabled(loadConfig(baseConfigSchema, {}))).toBe(false);
    expect(authEnabled(loadConfig(baseConfigSchema, { MLP_TRANSPORT: 'nats' }))).toBe(true);
    expect(authEnabled(loadConfig(baseConfigSchema, { MLP_BIND_HOST: '0.0.0.0' }))).toBe(true);
    expect(authEnabled(loadConfig(baseConfigSchema, { MLP_BIND_HOST: '::' }))).toBe(true);
    expect(authEnabled(loadConfig(baseConfigSchema, { MLP_BIND_HOST: '10.0.0.5' }))).toBe(true);
    expect(authEnabled(loadConfig(baseConfigSchema, { MLP_BIND_HOST: '::1' }))).toBe(false);
    expect(authEnabled(loadConfig(baseConfigSchema, { MLP_BIND_HOST: 'localhost' }))).toBe(false);
  });

  it('on and off override auto', () => {
    expect(authEnabled(loadConfig(baseConfigSchema, { MLP_AUTH: 'on' }))).toBe(true);
    expect(authEnabled(loadConfig(baseConfigSchema, { MLP_AUTH: 'off', MLP_TRANSPORT: 'nats', MLP_BIND_HOST: '0.0.0.0' }))).toBe(false);
  });

  it('knows loopback addresses', () => {
    for (const h of ['127.0.0.1', '127.1.2.3', '::1', '[::1]', 'localhost', '::ffff:127.0.0.1']) expect(isLoopbackHost(h)).toBe(true);
    for (const h of ['0.0.0.0', '::', '192.168.1.2', 'example.com', '::ffff:10.0.0.1']) expect(isLoopbackHost(h)).toBe(false);
  });

  it('validates MLP_AUTH, MLP_BIND_HOST, MLP_ADMIN_KEY and MLP_MAX_BODY_BYTES at start, never echoing the key', () => {
    let error: unknown;
    try {
      loadConfig(baseConfigSchema, { MLP_AUTH: 'maybe', MLP_BIND_HOST: 'not a host!', MLP_ADMIN_KEY: 'short-secret', MLP_MAX_BODY_BYTES: '1mb' });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ValidationError);
    const { message, details } = error as ValidationError;
    expect(details.map((d) => d.path).sort()).toEqual(['MLP_ADMIN_KEY', 'MLP_AUTH', 'MLP_BIND_HOST', 'MLP_MAX_BODY_BYTES']);
    expect(message).toMatch(/MLP_AUTH: .*got "maybe"/);
    expect(message).toMatch(/MLP_MAX_BODY_BYTES: expected a positive integer, got "1mb"/);
    expect(message).toMatch(/MLP_ADMIN_KEY: at least 24 characters.*got \(redacted\)/);
    expect(message).not.toContain('short-secret');
    expect(loadConfig(baseConfigSchema, {})).toMatchObject({ MLP_AUTH: 'auto', MLP_BIND_HOST: '127.0.0.1', MLP_MAX_BODY_BYTES: 1024 * 1024 });
  });
});
