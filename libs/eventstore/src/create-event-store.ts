import { isAbsolute, resolve } from 'node:path';
import { ValidationError } from '@mlp/contracts';
import type { EventStore } from './event-store';
import type { EventStoreOptions } from './base-event-store';
import { MemoryEventStore } from './memory/memory-event-store';
import { SqliteEventStore } from './sqlite/sqlite-event-store';
import { JetStreamEventStore, type JetStreamEventStoreOptions } from './nats/jetstream-event-store';
import { EsdbEventStore } from './eventstoredb/esdb-event-store';

/** Options of every adapter, and the NATS credentials the nats: adapter connects with. */
export type CreateEventStoreOptions = EventStoreOptions & Pick<JetStreamEventStoreOptions, 'auth'>;

type Factory = (url: URL, raw: string, options: CreateEventStoreOptions) => Promise<EventStore>;

/** sqlite:///abs/file.db, sqlite://rel/file.db, sqlite://:memory: */
function sqlitePath(raw: string): string {
  const rest = raw.slice('sqlite://'.length);
  if (rest === ':memory:') return rest;
  return isAbsolute(rest) ? rest : resolve(rest);
}

/** One line per scheme: adding an adapter is adding a line. */
const factories: Record<string, Factory> = {
  'memory:': async (_url, _raw, options) => new MemoryEventStore(options),
  'sqlite:': async (_url, raw, options) => new SqliteEventStore(sqlitePath(raw), options),
  'nats:': async (url, _raw, options) =>
    JetStreamEventStore.connect({
      ...options,
      servers: `nats://${url.host}`,
      replicas: url.searchParams.has('replicas') ? Number(url.searchParams.get('replicas')) : undefined,
    }),
  'esdb:': async (_url, raw, options) => new EsdbEventStore(raw, options),
  'esdb+discover:': async (_url, raw, options) => new EsdbEventStore(raw, options),
  'kurrentdb:': async (_url, raw, options) => new EsdbEventStore(raw.replace(/^kurrentdb:/, 'esdb:'), options),
};

export const eventStoreSchemes = Object.keys(factories).map((s) => s.slice(0, -1));

/** Picks the adapter by URL scheme (EVENTSTORE_URL). */
export async function createEventStore(raw: string, options: CreateEventStoreOptions = {}): Promise<EventStore> {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new ValidationError(`EVENTSTORE_URL '${raw}' is not a URL; known schemes: ${eventStoreSchemes.join(', ')}`, [
      { path: 'EVENTSTORE_URL', message: 'not a URL' },
    ]);
  }
  const factory = factories[url.protocol];
  if (!factory) {
    throw new ValidationError(
      `unknown event store scheme '${url.protocol.slice(0, -1)}'; known schemes: ${eventStoreSchemes.join(', ')}`,
      [{ path: 'EVENTSTORE_URL', message: `scheme must be one of ${eventStoreSchemes.join(', ')}` }],
    );
  }
  return factory(url, raw, options);
}
