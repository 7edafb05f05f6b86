import type { DomainEvent } from '@mlp/contracts';

interface DeciderLike<Command, State, Event> {
  decide(command: Command, state: State): Event[];
  evolve(state: State, event: Event): State;
  initialState(): State;
}

type ErrorClass = abstract new (...args: never[]) => Error;

/**
 * given(events).when(command).then(events | ErrorClass), for pure deciders:
 *   spec(decider).given([created]).when(rename).then([renamed])
 */
export function deciderSpec<Command, State, Event extends DomainEvent>(decider: DeciderLike<Command, State, Event>) {
  return {
    given(history: Event[]) {
      return {
        when(command: Command) {
          const run = () => decider.decide(command, history.reduce(decider.evolve, decider.initialState()));
          return {
            then(expected: Event[] | ErrorClass, message?: string | RegExp): void {
              if (typeof expected === 'function') {
                let thrown: unknown;
                try {
                  run();
                } catch (err) {
                  thrown = err;
                }
                expect(thrown).toBeInstanceOf(expected);
                if (message !== undefined) expect((thrown as Error).message).toMatch(message);
                return;
              }
              expect(run()).toEqual(expected);
            },
            /** The state after the decided events are evolved, for projections of the result. */
            thenState(assert: (state: State) => void): void {
              const state = history.reduce(decider.evolve, decider.initialState());
              assert(run().reduce(decider.evolve, state));
            },
          };
        },
      };
    },
  };
}
