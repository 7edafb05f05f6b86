import { z } from 'zod';
import { name } from './events/common';

/**
 * API key scopes. Control plane: `read` (GET), `write` (every mutating
 * endpoint), `admin` (key management, and everything else). Data plane:
 * `push` (HTTP push of rows into ingestion), `predict` (inference and
 * feedback on serving).
 * Append new scopes here; `admin` implies every scope, `write` the ones in
 * `impliedScopes`.
 */
export const apiKeyScopes = ['read', 'write', 'admin', 'push', 'predict'] as const;
export type ApiKeyScope = (typeof apiKeyScopes)[number];

/** What a scope grants besides itself (`admin` grants everything, see `grantsScope`). */
export const impliedScopes: Readonly<Partial<Record<ApiKeyScope, readonly ApiKeyScope[]>>> = {
  write: ['read', 'push'],
};

/** True when a key holding `held` may do what needs any one of `required`. */
export function grantsScope(held: readonly ApiKeyScope[], required: readonly ApiKeyScope[]): boolean {
  if (held.includes('admin')) return true;
  const granted = new Set<ApiKeyScope>(held);
  for (const scope of held) for (const implied of impliedScopes[scope] ?? []) granted.add(implied);
  return required.some((scope) => granted.has(scope));
}

export const apiKeyScope = z.enum(apiKeyScopes);

/** Key ids are 12 lowercase hex characters; a token is `mlp_<id>_<secret>`. */
export const apiKeyId = z.string().regex(/^[0-9a-f]{12}$/, 'an API key id: 12 lowercase hex characters');

/** `POST /auth/keys` */
export const createApiKeySchema = z.object({
  name,
  scopes: z
    .array(apiKeyScope)
    .min(1, 'at least one scope')
    .transform((scopes) => [...new Set(scopes)]),
});
export type CreateApiKeyDto = z.infer<typeof createApiKeySchema>;

/** An API key as listed: never the token, never its hash. */
export interface ApiKeyView {
  id: string;
  name: string;
  scopes: ApiKeyScope[];
  /** Non-secret start of the token (`mlp_<id>`), to recognise a key. */
  prefix: string;
  status: 'active' | 'revoked';
  /** `store`: created through the API (events); `env`: MLP_ADMIN_KEY or a service's env keys, hashed in memory. */
  source: 'store' | 'env';
  createdAt?: string;
  createdBy?: string;
  revokedAt?: string;
  revokedBy?: string;
}

/** The answer to a create: the only time the token is ever shown. */
export interface CreatedApiKey extends ApiKeyView {
  token: string;
}
