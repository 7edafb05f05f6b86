import type { ApiKeyScope, DomainEvent } from '@mlp/contracts';

export type ApiKeyEvent = DomainEvent<'ApiKeyCreated' | 'ApiKeyRevoked'>;

interface KeyFacts {
  id: string;
  name: string;
  scopes: ApiKeyScope[];
  /** sha256 hex of the token: the only trace of the secret. */
  hash: string;
  prefix: string;
  createdBy: string;
}

/** One API key (stream `apikey-<id>`). */
export type ApiKeyState =
  | { status: 'Empty' }
  | ({ status: 'Active' } & KeyFacts)
  | ({ status: 'Revoked'; revokedBy: string } & KeyFacts);

export const initialState = (): ApiKeyState => ({ status: 'Empty' });

export function evolve(state: ApiKeyState, event: ApiKeyEvent): ApiKeyState {
  switch (event.type) {
    case 'ApiKeyCreated': {
      const { id, name, scopes, hash, prefix, createdBy } = event.data;
      return { status: 'Active', id, name, scopes: [...scopes], hash, prefix, createdBy };
    }
    case 'ApiKeyRevoked':
      return state.status === 'Active' ? { ...state, status: 'Revoked', revokedBy: event.data.revokedBy } : state;
    default: {
      const unreachable: never = event;
      return unreachable;
    }
  }
}
