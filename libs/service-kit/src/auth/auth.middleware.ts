import type { IncomingMessage, ServerResponse } from 'node:http';
import { currentContext, runWithContext } from '@mlp/messaging';
import { presentedKey } from './api-key-token';
import type { ApiKeyRing, Principal } from './api-key-ring';

/** What authentication found, on the request for the guard. */
export interface RequestAuth {
  /** A key was sent. */
  presented: boolean;
  principal?: Principal;
  /** The key could not be checked (event store down): the guard answers with it. */
  error?: unknown;
}

const AUTH = Symbol('mlp.auth');
type AuthenticatedRequest = IncomingMessage & { [AUTH]?: RequestAuth };

export function requestAuth(req: IncomingMessage): RequestAuth {
  return (req as AuthenticatedRequest)[AUTH] ?? { presented: false };
}

/** The actor recorded on events a key's requests cause. */
export const actorOf = (principal: Principal): string => `apikey:${principal.keyId}`;

/**
 * Authentication: checks the presented key (`x-api-key` or `Bearer`) and
 * runs the rest of the request with the key as its actor. Authorization,
 * which needs the route, is the guard's.
 */
export function authMiddleware(ring: ApiKeyRing) {
  return (req: IncomingMessage, _res: ServerResponse, next: (err?: unknown) => void): void => {
    const token = presentedKey(req.headers);
    if (token === undefined) {
      (req as AuthenticatedRequest)[AUTH] = { presented: false };
      next();
      return;
    }
    ring.authenticate(token).then(
      (principal) => {
        (req as AuthenticatedRequest)[AUTH] = { presented: true, principal };
        const context = currentContext();
        if (principal && context) runWithContext({ ...context, actor: actorOf(principal) }, () => next());
        else next();
      },
      (error: unknown) => {
        (req as AuthenticatedRequest)[AUTH] = { presented: true, error };
        next();
      },
    );
  };
}
