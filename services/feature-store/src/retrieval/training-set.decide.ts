import { IllegalStateError, type DomainEvent, type EventInput } from '@mlp/contracts';
import type { Decider } from '@mlp/eventstore';

type TrainingSetEvent = DomainEvent<'TrainingSetBuilt'>;
type State = { status: 'Empty' } | { status: 'Built' };
type Command = { type: 'RecordTrainingSet'; data: EventInput<'TrainingSetBuilt'> };

/** A training set is built once; its stream holds the single TrainingSetBuilt. */
export const trainingSetDecider: Decider<Command, State, TrainingSetEvent> = {
  initialState: () => ({ status: 'Empty' }),
  evolve: () => ({ status: 'Built' }),
  decide: (command, state) => {
    if (state.status === 'Built') throw new IllegalStateError('training set already recorded', { code: 'TRAINING_SET_EXISTS' });
    return [{ type: 'TrainingSetBuilt', data: command.data } as TrainingSetEvent];
  },
};
