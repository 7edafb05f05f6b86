import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ValidationError } from '@mlp/contracts';
import { natsAuth } from './nats-auth';
import { transportOptions } from './transport-options';

describe('natsAuth', () => {
  it('is empty without credentials', () => {
    expect(natsAuth({})).toEqual({});
  });

  it('passes a token, or a user with a password', () => {
    expect(natsAuth({ MLP_NATS_TOKEN: 't0k3n' })).toEqual({ token: 't0k3n' });
    expect(natsAuth({ MLP_NATS_USER: 'svc', MLP_NATS_PASSWORD: 'pw' })).toEqual({ user: 'svc', pass: 'pw' });
  });

  it('builds an authenticator from a creds file, and names the file (not its content) when it cannot be read', () => {
    const dir = mkdtempSync(join(tmpdir(), 'mlp-creds-'));
    try {
      const file = join(dir, 'svc.creds');
      writeFileSync(file, '-----BEGIN NATS USER JWT-----\neyJ0eXAi\n------END NATS USER JWT------\n');
      expect(typeof natsAuth({ MLP_NATS_CREDS: file }).authenticator).toBe('function');
      const missing = join(dir, 'absent.creds');
      expect(() => natsAuth({ MLP_NATS_CREDS: missing })).toThrow(ValidationError);
      expect(() => natsAuth({ MLP_NATS_CREDS: missing })).toThrow(`cannot read the MLP_NATS_CREDS file ${missing} (ENOENT)`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('refuses two kinds at once and a user without a password, naming the variables but never the values', () => {
    let err: unknown;
    try {
      natsAuth({ MLP_NATS_TOKEN: 'secret-token', MLP_NATS_USER: 'svc', MLP_NATS_PASSWORD: 'secret-pw' });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ValidationError);
    expect((err as ValidationError).details.map((d) => d.path)).toEqual(['MLP_NATS_TOKEN', 'MLP_NATS_USER/MLP_NATS_PASSWORD']);
    expect(JSON.stringify({ message: (err as Error).message, details: (err as ValidationError).details })).not.toMatch(/secret/);
    expect(() => natsAuth({ MLP_NATS_USER: 'svc' })).toThrow('MLP_NATS_PASSWORD is missing');
    expect(() => natsAuth({ MLP_NATS_PASSWORD: 'secret-pw' })).toThrow('MLP_NATS_USER is missing');
  });

  it('goes into the Nest NATS transport of a service', () => {
    const options = transportOptions('registry', { MLP_TRANSPORT: 'nats', NATS_URL: 'nats://127.0.0.1:4222', MLP_NATS_TOKEN: 't0k3n' });
    expect(options).toMatchObject({ options: { servers: ['nats://127.0.0.1:4222'], queue: 'mlp.registry', token: 't0k3n' } });
  });
});
