import { z } from 'zod';
import { apiKeyId, apiKeyScope } from '../auth';
import { defineEvent } from '../event-definition';
import { name, sha256Hex } from './common';

/** API key lifecycle (stream `apikey-<id>`): only the token's sha256 is ever stored. */
export const authEvents = {
  ApiKeyCreated: defineEvent(
    'ApiKeyCreated',
    1,
    z.object({
      id: apiKeyId,
      name,
      scopes: z.array(apiKeyScope).min(1),
      /** sha256 (hex) of the whole token. */
      hash: sha256Hex,
      /** `mlp_<id>`: the non-secret start of the token. */
      prefix: z.string().regex(/^mlp_[0-9a-f]{12}$/),
      createdBy: z.string().min(1),
    }),
  ),
  ApiKeyRevoked: defineEvent('ApiKeyRevoked', 1, z.object({ id: apiKeyId, revokedBy: z.string().min(1) })),
} as const;
