import { SetMetadata } from '@nestjs/common';
import type { ApiKeyScope } from '@mlp/contracts';

export const AUTH_REQUIREMENT = 'mlp:auth-requirement';

export interface AuthRequirement {
  /** Open to everyone, even with auth on (health, metrics). */
  public?: boolean;
  /** Any one of these is enough (`admin` always is). Default: `read` for GET/HEAD, `write` otherwise. */
  scopes?: readonly ApiKeyScope[];
  /** Needs a key even when auth is off (HTTP push has never been open). */
  always?: boolean;
}

/**
 * The scopes a route needs, on a handler or a controller. Without it, a
 * route needs `read` for GET/HEAD/OPTIONS and `write` for every other method.
 */
export const RequireScopes = (scopes: ApiKeyScope | readonly ApiKeyScope[], options: { always?: boolean } = {}) =>
  SetMetadata<string, AuthRequirement>(AUTH_REQUIREMENT, { scopes: typeof scopes === 'string' ? [scopes] : [...scopes], always: options.always });

/** A route anyone may call, even with auth on. */
export const Public = () => SetMetadata<string, AuthRequirement>(AUTH_REQUIREMENT, { public: true });
