import { describeEventStoreContract } from '../contract/event-store.contract';
import { EsdbEventStore } from './esdb-event-store';

/**
 * Runs only against a real EventStoreDB/KurrentDB: set EVENTSTORE_URL
 * (e.g. esdb://localhost:2113?tls=false). No server can be installed on the
 * build machines, so without it this file reports one skipped test and
 * nothing is faked.
 */
const url = process.env.EVENTSTORE_URL;
const isEsdb = url !== undefined && /^(esdb|esdb\+discover|kurrentdb):/.test(url);

if (isEsdb) {
  // Cases read the log from its head at their start, so earlier cases' events do not disturb them. Stream
  // names repeat between runs: use a fresh, throwaway server (e.g. `eventstore --mem-db --insecure`).
  describeEventStoreContract('eventstoredb', async () => new EsdbEventStore(url!), { timeoutMs: 60_000 });
} else {
  // Skipped on purpose: needs a live EventStoreDB (see README, "EventStoreDB").
  it.skip('EventStoreDB contract (set EVENTSTORE_URL=esdb://… to run)', () => undefined);
}
