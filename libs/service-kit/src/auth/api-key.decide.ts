import { IllegalStateError, NotFoundError, type ApiKeyScope } from '@mlp/contracts';
import type { Decider } from '@mlp/eventstore';
import { evolve, initialState, type ApiKeyEvent, type ApiKeyState } from './api-key';

/** Commands carry the hash, never the token: the token never reaches the decider or the store. */
export type ApiKeyCommand =
  | { type: 'CreateApiKey'; id: string; name: string; scopes: ApiKeyScope[]; hash: string; prefix: string; createdBy: string }
  | { type: 'RevokeApiKey'; id: string; revokedBy: string };

export function createApiKey(command: Extract<ApiKeyCommand, { type: 'CreateApiKey' }>, state: ApiKeyState): ApiKeyEvent[] {
  if (state.status !== 'Empty') throw new IllegalStateError(`API key ${command.id} already exists`, { code: 'API_KEY_EXISTS' });
  const { id, name, scopes, hash, prefix, createdBy } = command;
  return [{ type: 'ApiKeyCreated', data: { id, name, scopes, hash, prefix, createdBy } }];
}

/** Revoking twice is a no-op, so a retried DELETE is harmless. */
export function revokeApiKey(command: Extract<ApiKeyCommand, { type: 'RevokeApiKey' }>, state: ApiKeyState): ApiKeyEvent[] {
  if (state.status === 'Empty') throw new NotFoundError(`API key ${command.id} does not exist`, { code: 'API_KEY_NOT_FOUND' });
  if (state.status === 'Revoked') return [];
  return [{ type: 'ApiKeyRevoked', data: { id: command.id, revokedBy: command.revokedBy } }];
}

export function decide(command: ApiKeyCommand, state: ApiKeyState): ApiKeyEvent[] {
  switch (command.type) {
    case 'CreateApiKey':
      return createApiKey(command, state);
    case 'RevokeApiKey':
      return revokeApiKey(command, state);
    default: {
      const unreachable: never = command;
      return unreachable;
    }
  }
}

export const apiKeyDecider: Decider<ApiKeyCommand, ApiKeyState, ApiKeyEvent> = { decide, evolve, initialState };
