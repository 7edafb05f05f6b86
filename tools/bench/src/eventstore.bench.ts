import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect, headers, StorageType } from 'nats';
import type { NewEvent } from '@mlp/contracts';
import { JetStreamEventStore, SqliteEventStore, type EventStore } from '@mlp/eventstore';
import { startNatsServer } from '@mlp/testing';
import { printFigures, timed, type Figure } from './report';

const STREAMS = 50;
const PER_STREAM = 100;
const REPLAY_EVENTS = 100_000;

function event(i: number): NewEvent {
  return {
    id: randomUUID(),
    type: 'BenchEventRecorded',
    schemaVersion: 1,
    data: { i, payload: 'x'.repeat(200) },
    occurredAt: new Date(0).toISOString(),
    correlationId: 'bench',
    causationId: null,
    actor: 'bench',
    codeVersion: 'bench',
  };
}

/** STREAMS writers in parallel, each appending PER_STREAM single events in order. */
async function appendWorkload(append: (stream: number, i: number) => Promise<unknown>): Promise<number> {
  const { seconds } = await timed(() =>
    Promise.all(Array.from({ length: STREAMS }, async (_, s) => {
      for (let i = 0; i < PER_STREAM; i++) await append(s, i);
    })),
  );
  return (STREAMS * PER_STREAM) / seconds;
}

async function replay(store: EventStore): Promise<number> {
  let count = 0;
  const { seconds } = await timed(async () => {
    let from = 1;
    for (;;) {
      const page = await store.readAll({ fromPosition: from, maxCount: 5000 });
      if (page.length === 0) break;
      count += page.length;
      from = page[page.length - 1].position + 1;
    }
  });
  return count / seconds;
}

async function fill(store: EventStore, total: number): Promise<void> {
  const batch = 500;
  for (let i = 0; i < total; i += batch) {
    await store.appendToStream(`fill-${i % 97}`, Array.from({ length: batch }, (_, k) => event(i + k)));
  }
}

export async function benchEventStore(): Promise<void> {
  const server = await startNatsServer();
  try {
    // Raw JetStream: same stream shape, same server, msgID set, no expectations.
    const nc = await connect({ servers: server.url });
    const jsm = await nc.jetstreamManager();
    await jsm.streams.add({ name: 'RAW', subjects: ['raw.>'], storage: StorageType.File });
    const js = nc.jetstream();
    const rawAppend = await appendWorkload((s, i) => {
      const h = headers();
      h.set('Mlp-Revision', String(i));
      return js.publish(`raw.s${s}`, JSON.stringify({ ...event(i), revision: i }), { msgID: randomUUID(), headers: h });
    });
    // Raw replay: an ordered consumer over everything.
    const rawStore = await JetStreamEventStore.connect({ servers: server.url });
    const rawFill = Array.from({ length: REPLAY_EVENTS }, (_, i) => JSON.stringify(event(i)));
    await Promise.all(Array.from({ length: 8 }, async (_, w) => {
      for (let i = w; i < REPLAY_EVENTS; i += 8) await js.publish('raw.replay', rawFill[i]);
    }));
    const { seconds: rawReplaySeconds } = await timed(async () => {
      const consumer = await js.consumers.get('RAW', { filterSubjects: 'raw.replay' });
      const messages = await consumer.consume({ max_messages: 5000 });
      let n = 0;
      for await (const m of messages) {
        JSON.parse(m.string());
        if (++n === REPLAY_EVENTS) break;
      }
    });
    const rawReplay = REPLAY_EVENTS / rawReplaySeconds;

    const adapterAppend = await appendWorkload((s, i) => rawStore.appendToStream(`bench-s${s}`, [event(i)], { expectedRevision: i === 0 ? 'no_stream' : i - 1 }));
    await fill(rawStore, REPLAY_EVENTS - STREAMS * PER_STREAM);
    const adapterReplay = await replay(rawStore);
    await rawStore.close();
    await nc.drain();

    const dir = mkdtempSync(join(tmpdir(), 'mlp-bench-'));
    const sqlite = new SqliteEventStore(join(dir, 'events.db'));
    const sqliteAppend = await appendWorkload((s, i) => sqlite.appendToStream(`bench-s${s}`, [event(i)], { expectedRevision: i === 0 ? 'no_stream' : i - 1 }));
    await fill(sqlite, REPLAY_EVENTS - STREAMS * PER_STREAM);
    const sqliteReplay = await replay(sqlite);
    await sqlite.close();
    rmSync(dir, { recursive: true, force: true });

    const figures: Figure[] = [
      { name: 'jetstream adapter append (expected revision)', value: adapterAppend, unit: 'events/s', baseline: { name: 'raw js.publish', value: rawAppend }, goal: '≥ 0.70×' },
      { name: 'jetstream adapter replay (readAll pages)', value: adapterReplay, unit: 'events/s', baseline: { name: 'raw ordered consumer', value: rawReplay } },
      { name: 'sqlite adapter append (expected revision)', value: sqliteAppend, unit: 'events/s', baseline: { name: 'raw js.publish', value: rawAppend } },
      { name: 'sqlite adapter replay (readAll pages)', value: sqliteReplay, unit: 'events/s', goal: '≥ 100,000 events/s' },
    ];
    printFigures(`event store (${STREAMS} streams × ${PER_STREAM} appends, ${REPLAY_EVENTS.toLocaleString('en-US')} events replayed)`, figures);
  } finally {
    await server.stop();
  }
}
