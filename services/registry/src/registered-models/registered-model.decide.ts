import { IllegalStateError, NotFoundError } from '@mlp/contracts';
import type { Decider } from '@mlp/eventstore';
import { evolve, initialState, type RegisteredModelEvent, type RegisteredModelState } from './registered-model';

export type RegisteredModelCommand =
  | { type: 'CreateRegisteredModel'; name: string; description?: string; tags?: Record<string, string> }
  | { type: 'DescribeRegisteredModel'; name: string; description: string }
  | { type: 'TagRegisteredModel'; name: string; set: Record<string, string>; remove: string[] };

export function createRegisteredModel(
  command: Extract<RegisteredModelCommand, { type: 'CreateRegisteredModel' }>,
  state: RegisteredModelState,
): RegisteredModelEvent[] {
  if (state.status !== 'Empty') {
    throw new IllegalStateError(`registered model '${command.name}' already exists`, { code: 'MODEL_EXISTS', details: { name: command.name } });
  }
  return [{ type: 'RegisteredModelCreated', data: { name: command.name, description: command.description ?? '', tags: command.tags ?? {} } }];
}

export function describeRegisteredModel(
  command: Extract<RegisteredModelCommand, { type: 'DescribeRegisteredModel' }>,
  state: RegisteredModelState,
): RegisteredModelEvent[] {
  const active = assertExists(command.name, state);
  if (active.description === command.description) return [];
  return [{ type: 'RegisteredModelDescribed', data: { name: command.name, description: command.description } }];
}

export function tagRegisteredModel(
  command: Extract<RegisteredModelCommand, { type: 'TagRegisteredModel' }>,
  state: RegisteredModelState,
): RegisteredModelEvent[] {
  const active = assertExists(command.name, state);
  const set = Object.fromEntries(Object.entries(command.set).filter(([k, v]) => active.tags[k] !== v));
  const removed = command.remove.filter((k) => k in active.tags && !(k in command.set));
  if (Object.keys(set).length === 0 && removed.length === 0) return [];
  return [{ type: 'RegisteredModelTagged', data: { name: command.name, set, removed } }];
}

function assertExists(name: string, state: RegisteredModelState) {
  if (state.status === 'Empty') throw new NotFoundError(`registered model '${name}' does not exist`, { code: 'MODEL_NOT_FOUND' });
  return state;
}

export function decide(command: RegisteredModelCommand, state: RegisteredModelState): RegisteredModelEvent[] {
  switch (command.type) {
    case 'CreateRegisteredModel':
      return createRegisteredModel(command, state);
    case 'DescribeRegisteredModel':
      return describeRegisteredModel(command, state);
    case 'TagRegisteredModel':
      return tagRegisteredModel(command, state);
    default: {
      const unreachable: never = command;
      return unreachable;
    }
  }
}

export const registeredModelDecider: Decider<RegisteredModelCommand, RegisteredModelState, RegisteredModelEvent> = {
  decide,
  evolve,
  initialState,
};
