import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ValidationError, grantsScope } from '@mlp/contracts';
import { ApiKeyRing } from '@mlp/service-kit';
import { pushApiKeys } from './api-keys';

describe('push API keys from the environment', () => {
  it('reads comma-separated keys, trimmed and deduplicated', () => {
    expect(pushApiKeys({ MLP_INGEST_API_KEYS: ' k1 , second-key,,k1' })).toEqual(['k1', 'second-key']);
    expect(pushApiKeys({ MLP_INGEST_API_KEYS: ' , ' })).toEqual([]);
    expect(pushApiKeys({})).toEqual([]);
  });

  it('reads one key per line from MLP_INGEST_API_KEYS_FILE, skipping blanks and comments', () => {
    const dir = mkdtempSync(join(tmpdir(), 'mlp-keys-'));
    try {
      const file = join(dir, 'keys');
      writeFileSync(file, '# producers\nfile-key-1\r\n\n  file-key-2  \n#disabled-key\n');
      expect(pushApiKeys({ MLP_INGEST_API_KEYS: 'env-key', MLP_INGEST_API_KEYS_FILE: file })).toEqual(['env-key', 'file-key-1', 'file-key-2']);
      expect(() => pushApiKeys({ MLP_INGEST_API_KEYS_FILE: join(dir, 'missing') })).toThrow(ValidationError);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('join the API keys with the push scope only, matched exactly', async () => {
    const ring = new ApiKeyRing();
    ring.addEnvKeys('ingest-push', pushApiKeys({ MLP_INGEST_API_KEYS: 'k1,second-key' }), ['push']);
    const principal = await ring.authenticate('second-key');
    expect(principal).toMatchObject({ keyId: 'env-ingest-push-2', source: 'env', scopes: ['push'] });
    expect(grantsScope(principal!.scopes, ['push'])).toBe(true);
    expect(grantsScope(principal!.scopes, ['write'])).toBe(false);
    expect(grantsScope(principal!.scopes, ['read'])).toBe(false);
    for (const wrong of ['k', 'k1k1', 'K1', '']) expect(await ring.authenticate(wrong)).toBeUndefined();
    expect(JSON.stringify(ring.list())).not.toContain('second-key');
  });
});
