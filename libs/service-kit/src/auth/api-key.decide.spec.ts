import { IllegalStateError, NotFoundError, grantsScope } from '@mlp/contracts';
import { deciderSpec } from '@mlp/testing';
import { apiKeyDecider } from './api-key.decide';
import type { ApiKeyEvent } from './api-key';
import { hashToken, newApiKeyToken, presentedKey, sameHash, tokenId } from './api-key-token';

const spec = deciderSpec(apiKeyDecider);
const hash = 'a'.repeat(64);
const created: ApiKeyEvent = {
  type: 'ApiKeyCreated',
  data: { id: '0123456789ab', name: 'ci', scopes: ['read'], hash, prefix: 'mlp_0123456789ab', createdBy: 'apikey:env-admin' },
};
const revoked: ApiKeyEvent = { type: 'ApiKeyRevoked', data: { id: '0123456789ab', revokedBy: 'apikey:env-admin' } };
const create = { type: 'CreateApiKey' as const, ...created.data };
const revoke = { type: 'RevokeApiKey' as const, id: '0123456789ab', revokedBy: 'apikey:env-admin' };

describe('API key decider', () => {
  it('creates a key from its hash', () => spec.given([]).when(create).then([created]));
  it('refuses to create the same id twice', () => spec.given([created]).when(create).then(IllegalStateError, /already exists/));
  it('revokes an active key', () => spec.given([created]).when(revoke).then([revoked]));
  it('revoking twice changes nothing', () => spec.given([created, revoked]).when(revoke).then([]));
  it('cannot revoke a key that does not exist', () => spec.given([]).when(revoke).then(NotFoundError, /does not exist/));
  it('ends revoked, keeping the facts', () =>
    spec.given([created]).when(revoke).thenState((s) => expect(s).toMatchObject({ status: 'Revoked', name: 'ci', revokedBy: 'apikey:env-admin' })));
});

describe('scopes', () => {
  it('admin grants everything; write grants read and push; read grants only read', () => {
    expect(grantsScope(['admin'], ['write'])).toBe(true);
    expect(grantsScope(['admin'], ['push'])).toBe(true);
    expect(grantsScope(['write'], ['read'])).toBe(true);
    expect(grantsScope(['write'], ['push'])).toBe(true);
    expect(grantsScope(['write'], ['admin'])).toBe(false);
    expect(grantsScope(['read'], ['write'])).toBe(false);
    expect(grantsScope(['push'], ['read'])).toBe(false);
    expect(grantsScope(['read'], ['write', 'read'])).toBe(true);
  });
});

describe('tokens', () => {
  it('are mlp_<id>_<secret>, with the id public and only the hash kept', () => {
    const a = newApiKeyToken();
    const b = newApiKeyToken();
    expect(a.token).toMatch(/^mlp_[0-9a-f]{12}_[A-Za-z0-9_-]{43}$/);
    expect(tokenId(a.token)).toBe(a.id);
    expect(a.prefix).toBe(`mlp_${a.id}`);
    expect(a.hash).toBe(hashToken(a.token));
    expect(a.hash).toMatch(/^[0-9a-f]{64}$/);
    expect(a.token).not.toBe(b.token);
    expect(sameHash(a.hash, hashToken(a.token))).toBe(true);
    expect(sameHash(a.hash, b.hash)).toBe(false);
    expect(tokenId('my-own-admin-key-from-env-123456')).toBeUndefined();
  });

  it('are read from x-api-key or a Bearer authorization', () => {
    expect(presentedKey({ 'x-api-key': ' k1 ' })).toBe('k1');
    expect(presentedKey({ authorization: 'Bearer k2' })).toBe('k2');
    expect(presentedKey({ authorization: 'bearer  k3 ' })).toBe('k3');
    expect(presentedKey({ authorization: 'Basic abc' })).toBeUndefined();
    expect(presentedKey({})).toBeUndefined();
  });
});
