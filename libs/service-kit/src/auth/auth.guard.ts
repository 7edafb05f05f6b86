import type { CanActivate, ExecutionContext } from '@nestjs/common';
import type { Reflector } from '@nestjs/core';
import type { IncomingMessage } from 'node:http';
import { ForbiddenError, InfrastructureError, UnauthorizedError, grantsScope, type ApiKeyScope } from '@mlp/contracts';
import { requestAuth } from './auth.middleware';
import { AUTH_REQUIREMENT, type AuthRequirement } from './require-scopes.decorator';

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

export const KEY_HINT = 'send an API key as the x-api-key header or "authorization: Bearer <key>" (the CLI sends MLP_API_KEY)';

/** The scopes an HTTP route needs: its decorator, else by method. */
export function requiredScopes(requirement: AuthRequirement | undefined, method: string | undefined): readonly ApiKeyScope[] {
  return requirement?.scopes ?? (SAFE_METHODS.has((method ?? 'GET').toUpperCase()) ? ['read'] : ['write']);
}

/**
 * Authorization of every HTTP route: with auth on, 401 without a valid key
 * and 403 when the key's scopes don't cover the route. RPC handlers are not
 * guarded here: the transport is loopback TCP or NATS (secured by NATS).
 */
export class AuthGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    private readonly enabled: boolean,
  ) {}

  canActivate(context: ExecutionContext): boolean {
    if (context.getType() !== 'http') return true;
    const requirement = this.reflector.getAllAndOverride<AuthRequirement | undefined>(AUTH_REQUIREMENT, [context.getHandler(), context.getClass()]);
    if (requirement?.public) return true;
    if (!this.enabled && !requirement?.always) return true;
    const req = context.switchToHttp().getRequest<IncomingMessage>();
    const auth = requestAuth(req);
    if (auth.error !== undefined) {
      throw new InfrastructureError('cannot check the API key now: the key store is unavailable', { code: 'AUTH_UNAVAILABLE', cause: auth.error });
    }
    if (!auth.presented) throw new UnauthorizedError(`missing API key: ${KEY_HINT}`);
    if (!auth.principal) throw new UnauthorizedError('invalid API key: unknown or revoked');
    const required = requiredScopes(requirement, req.method);
    if (!grantsScope(auth.principal.scopes, required)) {
      throw new ForbiddenError(
        `this needs an API key with the ${required.join(' or ')} scope (or admin); key ${auth.principal.keyId} has ${auth.principal.scopes.join(', ')}`,
        { code: 'FORBIDDEN', details: { required, scopes: auth.principal.scopes } },
      );
    }
    return true;
  }
}
