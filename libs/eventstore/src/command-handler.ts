import { deterministicId, toNewEvent, type CommandMetadata, type DomainEvent, type RecordedEvent } from '@mlp/contracts';
import type { EventStore } from './event-store';
import type { Decider } from './decider';
import { ExpectedVersionConflictError } from './errors';
import { codeVersion } from './code-version';

export interface HandleCommandOptions {
  /** Attempts after the first one when another writer wins the race. Default 3. */
  maxRetries?: number;
  codeVersion?: string;
}

export interface HandleCommandResult<State> {
  state: State;
  events: RecordedEvent[];
  nextExpectedRevision: number;
  position: number;
}

/** Folds a stream's events into state. */
export function aggregate<State, Event extends DomainEvent>(
  decider: Pick<Decider<unknown, State, Event>, 'evolve' | 'initialState'>,
  events: readonly RecordedEvent[],
): State {
  return events.reduce((state, e) => decider.evolve(state, { type: e.type, data: e.data } as Event), decider.initialState());
}

/**
 * The id of the `index`-th event that a command of `commandType` with
 * `meta.commandId` records in `stream`; undefined without a command id (a
 * random id then). The type keeps apart two commands sent under one key.
 */
export function commandEventId(stream: string, commandType: string, meta: Pick<CommandMetadata, 'commandId'>, index: number): string | undefined {
  return meta.commandId === undefined ? undefined : deterministicId('command', stream, commandType, meta.commandId, String(index));
}

/** The events that this command (`meta.commandId`) already recorded in `history`, or undefined when it has not been handled. */
export function recordedCommand(history: readonly RecordedEvent[], stream: string, commandType: string, meta: Pick<CommandMetadata, 'commandId'>): RecordedEvent[] | undefined {
  const id = (i: number) => commandEventId(stream, commandType, meta, i);
  const first = id(0);
  const at = first === undefined ? -1 : history.findIndex((e) => e.id === first);
  if (at < 0) return undefined;
  const recorded = [history[at]];
  for (let i = 1; history[at + i]?.id === id(i); i++) recorded.push(history[at + i]);
  return recorded;
}

const typeOf = (command: unknown): string => String((command as { type?: unknown } | null)?.type ?? '');

/**
 * Load → decide → append with the expected revision. A command with a
 * `meta.commandId` already recorded in the stream is not decided again: its
 * recorded events are the result. On a conflict the
 * stream is reloaded and the command decided again, at most `maxRetries`
 * times; then the ExpectedVersionConflictError (a 412 ConcurrencyError) escapes.
 */
export async function handleCommand<Command, State, Event extends DomainEvent>(
  store: EventStore,
  stream: string,
  decider: Decider<Command, State, Event>,
  command: Command,
  meta: CommandMetadata,
  options: HandleCommandOptions = {},
): Promise<HandleCommandResult<State>> {
  const maxRetries = options.maxRetries ?? 3;
  for (let attempt = 0; ; attempt++) {
    const history = await store.readStream(stream);
    const state = aggregate(decider, history);
    const expectedRevision = history.length === 0 ? 'no_stream' : history[history.length - 1].revision;
    const recorded = recordedCommand(history, stream, typeOf(command), meta);
    if (recorded) return { state, events: recorded, nextExpectedRevision: expectedRevision as number, position: recorded.at(-1)!.position };
    const decided = decider.decide(command, state);
    if (decided.length === 0) {
      return { state, events: [], nextExpectedRevision: expectedRevision === 'no_stream' ? -1 : expectedRevision, position: -1 };
    }
    const envelopes = decided.map((e, i) => toNewEvent(e, meta, { codeVersion: options.codeVersion ?? codeVersion(), id: commandEventId(stream, typeOf(command), meta, i) }));
    try {
      const result = await store.appendToStream(stream, envelopes, { expectedRevision });
      const first = result.nextExpectedRevision - envelopes.length + 1;
      const events: RecordedEvent[] = envelopes.map((e, i) => ({
        ...e,
        stream,
        revision: first + i,
        position: i === envelopes.length - 1 ? result.position : -1,
      }));
      const newState = envelopes.reduce((s, e) => decider.evolve(s, { type: e.type, data: e.data } as Event), state);
      return { state: newState, events, nextExpectedRevision: result.nextExpectedRevision, position: result.position };
    } catch (err) {
      if (!(err instanceof ExpectedVersionConflictError) || attempt >= maxRetries) throw err;
    }
  }
}
