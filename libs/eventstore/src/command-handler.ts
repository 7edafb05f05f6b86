import { deterministicId, toNewEvent, type CommandMetadata, type DomainEvent, type NewEvent, type RecordedEvent } from '@mlp/contracts';
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

/** A keyed command found in a stream: where its first event is, and the events of it that are stored. */
export interface RecordedCommand {
  /** Index in the history of its first event. */
  at: number;
  events: RecordedEvent[];
}

/** Where this command (`meta.commandId`) is recorded in `history`, or undefined when it has not been handled. */
export function findRecordedCommand(history: readonly RecordedEvent[], stream: string, commandType: string, meta: Pick<CommandMetadata, 'commandId'>): RecordedCommand | undefined {
  const id = (i: number) => commandEventId(stream, commandType, meta, i);
  const first = id(0);
  const at = first === undefined ? -1 : history.findIndex((e) => e.id === first);
  if (at < 0) return undefined;
  const events = [history[at]];
  for (let i = 1; history[at + i]?.id === id(i); i++) events.push(history[at + i]);
  return { at, events };
}

/** The events that this command (`meta.commandId`) already recorded in `history`, or undefined when it has not been handled. */
export function recordedCommand(history: readonly RecordedEvent[], stream: string, commandType: string, meta: Pick<CommandMetadata, 'commandId'>): RecordedEvent[] | undefined {
  return findRecordedCommand(history, stream, commandType, meta)?.events;
}

/**
 * Completes a keyed command whose events are only partly stored. An adapter
 * that appends a batch one event at a time (JetStream) shows a prefix of it
 * while its writer is between two publishes, or for good when the writer died
 * there; a second request under the same key that read that prefix must not
 * answer with it as if it were the whole command. `envelopesFor` decides the
 * command again on the history before its first event and builds the envelopes
 * with the ids the first writer used; when there are more of them than stored
 * and the prefix is still the stream's tail, the rest is appended (a no-op if
 * the first writer got there first). Returns true when it appended or lost a
 * race: the caller reads the stream again. Returns false when the command is
 * complete (or cannot be completed: another event follows the prefix, or the
 * command no longer decides the same events).
 */
export async function completeRecordedCommand(
  store: EventStore,
  stream: string,
  history: readonly RecordedEvent[],
  found: RecordedCommand,
  envelopesFor: (before: readonly RecordedEvent[]) => readonly NewEvent[],
): Promise<boolean> {
  if (found.at + found.events.length !== history.length) return false;
  let envelopes: readonly NewEvent[];
  try {
    envelopes = envelopesFor(history.slice(0, found.at));
  } catch {
    return false;
  }
  if (envelopes.length <= found.events.length || found.events.some((e, i) => envelopes[i].id !== e.id)) return false;
  try {
    await store.appendToStream(stream, envelopes, { expectedRevision: found.at === 0 ? 'no_stream' : history[found.at - 1].revision });
  } catch (err) {
    if (!(err instanceof ExpectedVersionConflictError)) throw err;
  }
  return true;
}

const typeOf = (command: unknown): string => String((command as { type?: unknown } | null)?.type ?? '');

/**
 * Load → decide → append with the expected revision. A command with a
 * `meta.commandId` already recorded in the stream is not decided again: its
 * recorded events are the result (completed first when only a prefix of them
 * is stored, see completeRecordedCommand). On a conflict the
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
  const envelopesOf = (decided: readonly Event[]) =>
    decided.map((e, i) => toNewEvent(e, meta, { codeVersion: options.codeVersion ?? codeVersion(), id: commandEventId(stream, typeOf(command), meta, i) }));
  for (let attempt = 0; ; attempt++) {
    const history = await store.readStream(stream);
    const state = aggregate(decider, history);
    const expectedRevision = history.length === 0 ? 'no_stream' : history[history.length - 1].revision;
    const recorded = findRecordedCommand(history, stream, typeOf(command), meta);
    if (recorded) {
      if (await completeRecordedCommand(store, stream, history, recorded, (before) => envelopesOf(decider.decide(command, aggregate(decider, before))))) continue;
      return { state, events: recorded.events, nextExpectedRevision: expectedRevision as number, position: recorded.events.at(-1)!.position };
    }
    const decided = decider.decide(command, state);
    if (decided.length === 0) {
      return { state, events: [], nextExpectedRevision: expectedRevision === 'no_stream' ? -1 : expectedRevision, position: -1 };
    }
    const envelopes = envelopesOf(decided);
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
