import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { UnauthorizedError, ValidationError } from '@mlp/contracts';
import { ApiKeys } from './api-keys';

const reject = (keys: ApiKeys, headers: Record<string, string>): UnauthorizedError => {
  try {
    keys.verify(headers);
  } catch (err) {
    return err as UnauthorizedError;
  }
  throw new Error('expected the request to be refused');
};

describe('ApiKeys', () => {
  const keys = ApiKeys.fromConfig({ MLP_INGEST_API_KEYS: ' k1 , second-key,,' });

  it('accepts a configured key as x-api-key or Bearer token', () => {
    expect(keys.size).toBe(2);
    expect(() => keys.verify({ 'x-api-key': 'k1' })).not.toThrow();
    expect(() => keys.verify({ 'x-api-key': 'second-key' })).not.toThrow();
    expect(() => keys.verify({ authorization: 'Bearer second-key' })).not.toThrow();
    expect(() => keys.verify({ authorization: 'bearer   k1 ' })).not.toThrow();
  });

  it('refuses a missing, wrong or partial key with 401 UnauthorizedError', () => {
    for (const headers of <Record<string, string>[]>[{}, { 'x-api-key': 'k2' }, { 'x-api-key': 'k' }, { 'x-api-key': 'k1k1' }, { authorization: 'Basic k1' }, { authorization: 'Bearer' }]) {
      const err = reject(keys, headers);
      expect(err).toBeInstanceOf(UnauthorizedError);
      expect(err.code).toBe('UNAUTHORIZED');
    }
    expect(reject(keys, {}).message).toMatch(/missing API key/);
    expect(reject(keys, { 'x-api-key': 'nope' }).message).toBe('invalid API key');
  });

  it('is closed when no key is configured, and says how to configure one', () => {
    const none = ApiKeys.fromConfig({ MLP_INGEST_API_KEYS: ' , ' });
    expect(none.size).toBe(0);
    const err = reject(none, { 'x-api-key': '' });
    expect(err).toBeInstanceOf(UnauthorizedError);
    expect(err.message).toMatch(/MLP_INGEST_API_KEYS/);
    expect(err.message).toMatch(/MLP_INGEST_API_KEYS_FILE/);
    expect(reject(ApiKeys.fromConfig({}), { 'x-api-key': 'anything' }).message).toMatch(/no API key is configured/);
  });

  it('reads one key per line from MLP_INGEST_API_KEYS_FILE, skipping blanks and comments', () => {
    const dir = mkdtempSync(join(tmpdir(), 'mlp-keys-'));
    try {
      const file = join(dir, 'keys');
      writeFileSync(file, '# producers\nfile-key-1\r\n\n  file-key-2  \n#disabled-key\n');
      const fromFile = ApiKeys.fromConfig({ MLP_INGEST_API_KEYS: 'env-key', MLP_INGEST_API_KEYS_FILE: file });
      expect(fromFile.size).toBe(3);
      for (const k of ['env-key', 'file-key-1', 'file-key-2']) expect(() => fromFile.verify({ 'x-api-key': k })).not.toThrow();
      expect(() => fromFile.verify({ 'x-api-key': '#disabled-key' })).toThrow(UnauthorizedError);
      expect(() => ApiKeys.fromConfig({ MLP_INGEST_API_KEYS_FILE: join(dir, 'missing') })).toThrow(ValidationError);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
