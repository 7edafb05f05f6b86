import type { DomainEvent } from '@mlp/contracts';

/**
 * An aggregate as a pure decider (CONVENTIONS.md): no I/O, no clock.
 * `decide` throws DomainErrors for commands the state forbids.
 */
export interface Decider<Command, State, Event extends DomainEvent = DomainEvent> {
  decide(command: Command, state: State): Event[];
  evolve(state: State, event: Event): State;
  initialState(): State;
}
