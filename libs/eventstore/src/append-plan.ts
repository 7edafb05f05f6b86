import { assertStreamName, newEventSchema, parseOrThrow, type NewEvent } from '@mlp/contracts';
import type { AppendResult, ExpectedRevision } from './event-store';
import { ExpectedVersionConflictError } from './errors';

/** Where an already stored event lives. */
export interface StoredRef {
  stream: string;
  revision: number;
  position: number;
}

export type AppendPlan =
  | { kind: 'noop'; result: AppendResult }
  | { kind: 'append'; events: readonly NewEvent[]; firstRevision: number };

/** Checks stream name and envelopes once, for every adapter. */
export function validateAppend(stream: string, events: readonly NewEvent[]): void {
  assertStreamName(stream);
  events.forEach((event, i) => parseOrThrow(newEventSchema, event, `event #${i} for stream ${stream}`));
  const ids = new Set(events.map((e) => e.id));
  if (ids.size !== events.length) {
    throw new ExpectedVersionConflictError(stream, 'any', 'no_stream', `stream ${stream}: duplicate event ids in one append`);
  }
}

export function revisionMatches(expected: ExpectedRevision, current: number): boolean {
  if (expected === 'any') return true;
  if (expected === 'no_stream') return current === -1;
  if (expected === 'stream_exists') return current >= 0;
  return expected === current;
}

/**
 * The append rules shared by all adapters, decided from what is stored:
 * - none of the ids stored: `expected` must hold; append all;
 * - all stored, consecutively, in this stream: idempotent no-op returning the original result;
 * - a prefix stored at the stream's tail (a torn batch being retried): append the rest;
 * - anything else is a conflict.
 * `current` is the stream's last revision, -1 when it does not exist.
 */
export function planAppend(
  stream: string,
  events: readonly NewEvent[],
  expected: ExpectedRevision,
  current: number,
  stored: ReadonlyMap<string, StoredRef>,
): AppendPlan {
  if (events.length === 0) {
    if (!revisionMatches(expected, current)) throw conflict(stream, expected, current);
    return { kind: 'noop', result: { nextExpectedRevision: current, position: -1 } };
  }
  const refs = events.map((e) => stored.get(e.id));
  const found = refs.filter((r): r is StoredRef => r !== undefined);
  if (found.length === 0) {
    if (!revisionMatches(expected, current)) throw conflict(stream, expected, current);
    return { kind: 'append', events, firstRevision: current + 1 };
  }
  const prefix = refs.findIndex((r) => r === undefined);
  const prefixLength = prefix === -1 ? refs.length : prefix;
  const consecutive =
    found.length === prefixLength &&
    found.every((r, i) => r.stream === stream && (i === 0 || r.revision === found[i - 1].revision + 1));
  if (!consecutive) {
    const clash = events.find((e) => stored.has(e.id))!;
    const ref = stored.get(clash.id)!;
    throw new ExpectedVersionConflictError(
      stream,
      expected,
      current < 0 ? 'no_stream' : current,
      `event ${clash.id} is already stored in ${ref.stream} at revision ${ref.revision}`,
    );
  }
  const last = found[found.length - 1];
  if (prefixLength === events.length) {
    return { kind: 'noop', result: { nextExpectedRevision: last.revision, position: last.position } };
  }
  if (last.revision !== current) throw conflict(stream, expected, current);
  return { kind: 'append', events: events.slice(prefixLength), firstRevision: current + 1 };
}

function conflict(stream: string, expected: ExpectedRevision, current: number): ExpectedVersionConflictError {
  return new ExpectedVersionConflictError(stream, expected, current < 0 ? 'no_stream' : current);
}
