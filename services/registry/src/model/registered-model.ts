import type { DomainEvent } from '@mlp/contracts';

export type RegisteredModelEvent = DomainEvent<'RegisteredModelCreated' | 'RegisteredModelDescribed' | 'RegisteredModelTagged'>;

export type RegisteredModelState =
  | { status: 'Empty' }
  | { status: 'Active'; name: string; description: string; tags: Record<string, string> };

export const initialState = (): RegisteredModelState => ({ status: 'Empty' });

export function evolve(state: RegisteredModelState, event: RegisteredModelEvent): RegisteredModelState {
  switch (event.type) {
    case 'RegisteredModelCreated':
      return { status: 'Active', name: event.data.name, description: event.data.description, tags: { ...event.data.tags } };
    case 'RegisteredModelDescribed':
      return state.status === 'Active' ? { ...state, description: event.data.description } : state;
    case 'RegisteredModelTagged': {
      if (state.status !== 'Active') return state;
      const tags = { ...state.tags, ...event.data.set };
      for (const key of event.data.removed) delete tags[key];
      return { ...state, tags };
    }
    default: {
      const unreachable: never = event;
      return unreachable;
    }
  }
}
