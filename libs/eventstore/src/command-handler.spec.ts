import { IllegalStateError, type CommandMetadata, type DomainEvent } from '@mlp/contracts';
import { handleCommand } from './command-handler';
import type { Decider } from './decider';
import { MemoryEventStore } from './memory/memory-event-store';
import { ExpectedVersionConflictError } from './errors';
import { testEvent } from './contract/event-store.contract';

type Created = DomainEvent<'RegisteredModelCreated'>;
type Described = DomainEvent<'RegisteredModelDescribed'>;
type State = { status: 'Empty' } | { status: 'Created'; description: string };
type Command = { type: 'Create'; name: string } | { type: 'Describe'; name: string; description: string };

const decider: Decider<Command, State, Created | Described> = {
  initialState: () => ({ status: 'Empty' }),
  evolve: (state, event) => {
    switch (event.type) {
      case 'RegisteredModelCreated':
        return { status: 'Created', description: event.data.description };
      case 'RegisteredModelDescribed':
        return { status: 'Created', description: event.data.description };
    }
  },
  decide: (command, state) => {
    if (command.type === 'Create') {
      if (state.status !== 'Empty') throw new IllegalStateError('exists');
      return [{ type: 'RegisteredModelCreated', data: { name: command.name, description: '', tags: {} } }];
    }
    if (state.status === 'Empty') throw new IllegalStateError('missing');
    if (state.description === command.description) return [];
    return [{ type: 'RegisteredModelDescribed', data: { name: command.name, description: command.description } }];
  },
};

const meta: CommandMetadata = { now: '2026-02-03T04:05:06.000Z', correlationId: 'c-1', causationId: null, actor: 'alice' };

describe('handleCommand', () => {
  it('loads, decides and appends with the envelope filled from the command metadata', async () => {
    const store = new MemoryEventStore();
    const created = await handleCommand(store, 'model-m', decider, { type: 'Create', name: 'm' }, meta, { codeVersion: 'v1' });
    expect(created.state).toEqual({ status: 'Created', description: '' });
    const described = await handleCommand(store, 'model-m', decider, { type: 'Describe', name: 'm', description: 'd' }, meta);
    expect(described.nextExpectedRevision).toBe(1);
    const [first, second] = await store.readStream('model-m');
    expect(first).toMatchObject({
      type: 'RegisteredModelCreated',
      schemaVersion: 2,
      occurredAt: meta.now,
      correlationId: 'c-1',
      actor: 'alice',
      codeVersion: 'v1',
      revision: 0,
    });
    expect(second.data).toEqual({ name: 'm', description: 'd' });
  });

  it('appends nothing when the decider decides nothing', async () => {
    const store = new MemoryEventStore();
    await handleCommand(store, 'model-m', decider, { type: 'Create', name: 'm' }, meta);
    const r = await handleCommand(store, 'model-m', decider, { type: 'Describe', name: 'm', description: '' }, meta);
    expect(r.events).toEqual([]);
    expect(await store.readStream('model-m')).toHaveLength(1);
  });

  it('passes domain errors through untouched', async () => {
    const store = new MemoryEventStore();
    await expect(handleCommand(store, 'model-m', decider, { type: 'Describe', name: 'm', description: 'x' }, meta)).rejects.toBeInstanceOf(
      IllegalStateError,
    );
  });

  it('retries on a conflict by deciding again on the fresh state', async () => {
    const store = new MemoryEventStore();
    await handleCommand(store, 'model-m', decider, { type: 'Create', name: 'm' }, meta);
    // A rival writer sneaks in once, between our read and our append.
    const original = store.appendToStream.bind(store);
    let sneaked = false;
    jest.spyOn(store, 'appendToStream').mockImplementation(async (stream, events, options) => {
      if (!sneaked) {
        sneaked = true;
        await original(stream, [{ ...testEvent('RegisteredModelDescribed', { name: 'm', description: 'rival' }) }]);
      }
      return original(stream, events, options);
    });
    const r = await handleCommand(store, 'model-m', decider, { type: 'Describe', name: 'm', description: 'mine' }, meta);
    expect(r.nextExpectedRevision).toBe(2);
    expect((await store.readStream('model-m')).map((e) => (e.data as { description?: string }).description)).toEqual(['', 'rival', 'mine']);
  });

  it('gives up after maxRetries with the conflict error', async () => {
    const store = new MemoryEventStore();
    await handleCommand(store, 'model-m', decider, { type: 'Create', name: 'm' }, meta);
    const original = store.appendToStream.bind(store);
    let calls = 0;
    jest.spyOn(store, 'appendToStream').mockImplementation(async (stream, events, options) => {
      calls++;
      await original(stream, [testEvent('RegisteredModelDescribed', { name: 'm', description: `rival-${calls}` })]);
      return original(stream, events, options);
    });
    await expect(
      handleCommand(store, 'model-m', decider, { type: 'Describe', name: 'm', description: 'mine' }, meta, { maxRetries: 2 }),
    ).rejects.toBeInstanceOf(ExpectedVersionConflictError);
    expect(calls).toBe(3);
  });

  it('rejects events that break their catalogue schema before writing', async () => {
    const store = new MemoryEventStore();
    const bad: Decider<Command, State, Created> = {
      ...decider,
      evolve: (s: State) => s,
      decide: () => [{ type: 'RegisteredModelCreated', data: { name: 'has space', description: '', tags: {} } }],
    } as unknown as Decider<Command, State, Created>;
    await expect(handleCommand(store, 'model-m', bad, { type: 'Create', name: 'm' }, meta)).rejects.toThrow(/data.name/);
    expect(await store.streamExists('model-m')).toBe(false);
  });

  describe('with a command id (Idempotency-Key)', () => {
    const keyed = (commandId: string): CommandMetadata => ({ ...meta, commandId });

    it('records a command once: sent again it is not decided again and answers with the events it recorded', async () => {
      const store = new MemoryEventStore();
      const first = await handleCommand(store, 'model-m', decider, { type: 'Create', name: 'm' }, keyed('k-1'));
      const again = await handleCommand(store, 'model-m', decider, { type: 'Create', name: 'm' }, keyed('k-1'));
      expect(again.events).toEqual(first.events);
      expect(await store.readStream('model-m')).toHaveLength(1);
      // Without the key the same command is decided again (and refused).
      await expect(handleCommand(store, 'model-m', decider, { type: 'Create', name: 'm' }, meta)).rejects.toBeInstanceOf(IllegalStateError);
    });

    it('the same key sent 100× at once records once; every call answers the same events', async () => {
      const store = new MemoryEventStore();
      await handleCommand(store, 'model-m', decider, { type: 'Create', name: 'm' }, meta);
      const results = await Promise.all(Array.from({ length: 100 }, () => handleCommand(store, 'model-m', decider, { type: 'Describe', name: 'm', description: 'd' }, keyed('k-2'))));
      expect(new Set(results.map((r) => r.events[0].id)).size).toBe(1);
      expect((await store.readStream('model-m')).map((e) => e.type)).toEqual(['RegisteredModelCreated', 'RegisteredModelDescribed']);
    });

    it('keeps apart other keys, other streams and another command type under the same key', async () => {
      const store = new MemoryEventStore();
      await handleCommand(store, 'model-m', decider, { type: 'Create', name: 'm' }, keyed('k-3'));
      await handleCommand(store, 'model-n', decider, { type: 'Create', name: 'n' }, keyed('k-3'));
      await handleCommand(store, 'model-m', decider, { type: 'Describe', name: 'm', description: 'd' }, keyed('k-3'));
      await handleCommand(store, 'model-m', decider, { type: 'Describe', name: 'm', description: 'e' }, keyed('k-4'));
      expect((await store.readStream('model-m')).map((e) => e.type)).toEqual(['RegisteredModelCreated', 'RegisteredModelDescribed', 'RegisteredModelDescribed']);
      expect(await store.readStream('model-n')).toHaveLength(1);
    });
  });
});
