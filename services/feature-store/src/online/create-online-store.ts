import { isAbsolute, resolve } from 'node:path';
import { ValidationError } from '@mlp/contracts';
import type { NatsAuth } from '@mlp/messaging';
import type { OnlineStore } from './online-store';
import { MemoryOnlineStore } from './memory/memory-online-store';
import { SqliteOnlineStore } from './sqlite/sqlite-online-store';
import { JetStreamKvOnlineStore } from './nats/jetstream-kv-online-store';

type Factory = (url: URL, raw: string, auth: NatsAuth) => Promise<OnlineStore>;

/** sqlite:///abs/file.db, sqlite://rel/file.db, sqlite://:memory: */
function sqlitePath(raw: string): string {
  const rest = raw.slice('sqlite://'.length).split('?')[0];
  if (rest === ':memory:') return rest;
  return isAbsolute(rest) ? rest : resolve(rest);
}

function positiveInt(url: URL, name: string): number | undefined {
  const text = url.searchParams.get(name);
  if (text === null) return undefined;
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1) {
    throw new ValidationError(`ONLINE_STORE_URL: ${name} must be a positive integer, got '${text}'`, [{ path: `ONLINE_STORE_URL.${name}`, message: 'must be a positive integer' }]);
  }
  return n;
}

/** One line per scheme: adding an adapter is adding a line. */
const factories: Record<string, Factory> = {
  'memory:': async () => new MemoryOnlineStore(),
  'sqlite:': async (_url, raw) => new SqliteOnlineStore(sqlitePath(raw)),
  /** nats://host:port[?replicas=3&readConcurrency=64&writeConcurrency=64] */
  'nats:': async (url, _raw, auth) =>
    JetStreamKvOnlineStore.connect({
      servers: `nats://${url.host}`,
      auth,
      replicas: positiveInt(url, 'replicas'),
      readConcurrency: positiveInt(url, 'readConcurrency'),
      writeConcurrency: positiveInt(url, 'writeConcurrency'),
    }),
};

export const onlineStoreSchemes = Object.keys(factories).map((s) => s.slice(0, -1));

/** Picks the online store adapter by URL scheme (ONLINE_STORE_URL). */
export async function createOnlineStore(raw: string, auth: NatsAuth = {}): Promise<OnlineStore> {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new ValidationError(`ONLINE_STORE_URL '${raw}' is not a URL; known schemes: ${onlineStoreSchemes.join(', ')}`, [
      { path: 'ONLINE_STORE_URL', message: 'not a URL' },
    ]);
  }
  const factory = factories[url.protocol];
  if (!factory) {
    throw new ValidationError(
      `unknown online store scheme '${url.protocol.slice(0, -1)}'; known schemes: ${onlineStoreSchemes.join(', ')}`,
      [{ path: 'ONLINE_STORE_URL', message: `scheme must be one of ${onlineStoreSchemes.join(', ')}` }],
    );
  }
  return factory(url, raw, auth);
}
