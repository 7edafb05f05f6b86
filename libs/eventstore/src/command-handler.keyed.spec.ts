import { toNewEvent, type CommandMetadata, type DomainEvent } from '@mlp/contracts';
import { startNatsServer, type NatsServerHandle } from '@mlp/testing';
import { commandEventId, handleCommand } from './command-handler';
import type { Decider } from './decider';
import type { EventStore } from './event-store';
import { MemoryEventStore } from './memory/memory-event-store';
import { JetStreamEventStore } from './nats/jetstream-event-store';

/**
 * A keyed command that records more than one event. JetStream appends a batch
 * one message at a time, so another request under the same Idempotency-Key can
 * read the stream while only a prefix of the batch is stored (or after the
 * writer died mid-batch). Such a request must not answer with the prefix as if
 * it were the whole command (the registry then answered 500: no
 * ModelVersionRegistered among the "recorded" events).
 */
type Created = DomainEvent<'RegisteredModelCreated'>;
type Described = DomainEvent<'RegisteredModelDescribed'>;
type State = { status: 'Empty' } | { status: 'Created'; description: string };
type Command = { type: 'CreateDescribed'; name: string; description: string };

const decider: Decider<Command, State, Created | Described> = {
  initialState: () => ({ status: 'Empty' }),
  evolve: (_state, event) => ({ status: 'Created', description: event.type === 'RegisteredModelDescribed' ? event.data.description : '' }),
  decide: (command, state) => {
    const events: (Created | Described)[] = [];
    if (state.status === 'Empty') events.push({ type: 'RegisteredModelCreated', data: { name: command.name, description: '', tags: {} } });
    events.push({ type: 'RegisteredModelDescribed', data: { name: command.name, description: command.description } });
    return events;
  },
};

const keyed = (commandId: string): CommandMetadata => ({ now: '2026-02-03T04:05:06.000Z', correlationId: 'c-1', causationId: null, actor: 'alice', commandId });
const command: Command = { type: 'CreateDescribed', name: 'm', description: 'd' };

let server: NatsServerHandle;
beforeAll(async () => {
  server = await startNatsServer();
});
afterAll(async () => {
  await server?.stop();
});

const stores: [string, () => Promise<EventStore>][] = [
  ['memory', async () => new MemoryEventStore()],
  ['nats-jetstream', () => JetStreamEventStore.connect({ servers: server.url })],
];

describe.each(stores)('handleCommand, a keyed command of two events (%s)', (_kind, open) => {
  let store: EventStore;
  let n = 0;
  let stream: string;
  beforeEach(async () => {
    store = await open();
    stream = `model-keyed${++n}${Date.now()}`;
  });
  afterEach(async () => {
    await store.close();
  });

  it('finding only the first event of its batch stored (writer in flight or killed), completes the batch and answers with both events', async () => {
    const meta = keyed('k-torn');
    // The state a writer leaves after its first publish: event 0 of the command, under the command's id.
    const [first] = decider.decide(command, decider.initialState());
    await store.appendToStream(stream, [toNewEvent(first, meta, { codeVersion: 'test', id: commandEventId(stream, command.type, meta, 0) })], { expectedRevision: 'no_stream' });

    const result = await handleCommand(store, stream, decider, command, meta);

    expect(result.events.map((e) => e.type)).toEqual(['RegisteredModelCreated', 'RegisteredModelDescribed']);
    const stored = await store.readStream(stream);
    expect(stored.map((e) => [e.type, e.id, e.revision])).toEqual([
      ['RegisteredModelCreated', commandEventId(stream, command.type, meta, 0), 0],
      ['RegisteredModelDescribed', commandEventId(stream, command.type, meta, 1), 1],
    ]);
    expect(result.events.map((e) => e.id)).toEqual(stored.map((e) => e.id));
  });

  it('sent 100× at once under one key: recorded once, and every call answers with the whole batch', async () => {
    const meta = keyed('k-100');
    // Requests arrive over a few ms on a busy event loop (in a service, other requests' work runs between the
    // publishes of one batch): some read the stream while the first writer's batch is half stored.
    const busy = setInterval(() => {
      const until = Date.now() + 3;
      while (Date.now() < until);
    }, 1);
    const results = await Promise.all(
      Array.from({ length: 100 }, async (_, i) => {
        await new Promise((r) => setTimeout(r, i * 4));
        return handleCommand(store, stream, decider, command, meta);
      }),
    ).finally(() => clearInterval(busy));
    const stored = await store.readStream(stream);
    expect(stored.map((e) => e.type)).toEqual(['RegisteredModelCreated', 'RegisteredModelDescribed']);
    const answers = new Set(results.map((r) => r.events.map((e) => `${e.type}:${e.id}:${e.revision}`).join(',')));
    expect([...answers]).toEqual([stored.map((e) => `${e.type}:${e.id}:${e.revision}`).join(',')]);
  });
});
