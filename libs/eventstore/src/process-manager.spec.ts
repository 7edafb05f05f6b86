import { deterministicId, type RecordedEvent } from '@mlp/contracts';
import { MemoryEventStore } from './memory/memory-event-store';
import { runProcessManager, type ProcessManager } from './process-manager';
import { testEvent } from './contract/event-store.contract';

async function waitFor(predicate: () => Promise<boolean>, timeoutMs = 3000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await predicate())) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 10));
  }
}

const created = (name: string) =>
  testEvent('RegisteredModelCreated', { name, description: '', tags: {} }, { schemaVersion: 2, correlationId: `corr-${name}` });

function monitorManager(calls: RecordedEvent[] = []): ProcessManager {
  return {
    name: 'monitors',
    filter: { category: 'model' },
    canHandle: (e) => e.type === 'RegisteredModelCreated',
    handle: async (e, ctx) => {
      calls.push(e);
      const name = (e.data as { name: string }).name;
      await ctx.append(`monitor-${name}`, [{ type: 'MonitorCreated', data: { model: name, sourceEventId: e.id } }]);
    },
  };
}

describe('runProcessManager', () => {
  it('reacts with causation, correlation and a deterministic id, and checkpoints', async () => {
    const store = new MemoryEventStore({ pollIntervalMs: 10 });
    const source = created('churn');
    await store.appendToStream('model-churn', [source]);
    const pm = await runProcessManager(store, monitorManager());
    await pm.caughtUp;
    const [reaction] = await store.readStream('monitor-churn');
    expect(reaction).toMatchObject({
      id: deterministicId('monitors', source.id, '0'),
      type: 'MonitorCreated',
      causationId: source.id,
      correlationId: 'corr-churn',
      actor: 'process-manager:monitors',
      data: { model: 'churn', sourceEventId: source.id, policy: {} },
    });
    expect(await store.checkpoints().load('monitors')).toBe(1);

    await store.appendToStream('model-fraud', [created('fraud')]);
    await waitFor(async () => store.streamExists('monitor-fraud'));
    await pm.stop();
  });

  it('handling the same event twice (crash before checkpoint) stores the reaction once', async () => {
    const store = new MemoryEventStore({ pollIntervalMs: 10 });
    await store.appendToStream('model-churn', [created('churn')]);
    const calls: RecordedEvent[] = [];
    const first = await runProcessManager(store, monitorManager(calls));
    await first.caughtUp;
    await first.stop();
    // Simulate the crash window: the reaction is stored, the checkpoint is lost.
    await store.checkpoints().save('monitors', 0);
    const second = await runProcessManager(store, monitorManager(calls));
    await second.caughtUp;
    await second.stop();
    expect(calls).toHaveLength(2);
    expect(await store.readStream('monitor-churn')).toHaveLength(1);
  });

  it('resumes from its checkpoint after a restart and handles only new events', async () => {
    const store = new MemoryEventStore({ pollIntervalMs: 10 });
    await store.appendToStream('model-a', [created('a')]);
    const calls: RecordedEvent[] = [];
    const first = await runProcessManager(store, monitorManager(calls));
    await first.caughtUp;
    await first.stop();
    await store.appendToStream('model-b', [created('b')]);
    const second = await runProcessManager(store, monitorManager(calls));
    await second.caughtUp;
    await second.stop();
    expect(calls.map((e) => (e.data as { name: string }).name)).toEqual(['a', 'b']);
  });

  it('with restarts off, retries a failing handler, then stops without advancing the checkpoint', async () => {
    const store = new MemoryEventStore({ pollIntervalMs: 10 });
    await store.appendToStream('model-a', [created('a')]);
    let attempts = 0;
    const pm = await runProcessManager(
      store,
      { ...monitorManager(), handle: async () => void (attempts++, (() => { throw new Error('down'); })()) },
      { maxAttempts: 3, retryDelayMs: 1, restartAfterMs: false },
    );
    await expect(pm.done).rejects.toThrow('down');
    expect(attempts).toBe(3);
    expect(await store.checkpoints().load('monitors')).toBeUndefined();
  });

  it('when the attempts run out, starts again from its checkpoint after restartAfterMs and handles the event then', async () => {
    const store = new MemoryEventStore({ pollIntervalMs: 10 });
    await store.appendToStream('model-a', [created('a')]);
    await store.appendToStream('model-b', [created('b')]);
    const calls: RecordedEvent[] = [];
    const restarts: unknown[] = [];
    const flaky = monitorManager(calls);
    let failures = 0;
    const pm = await runProcessManager(
      store,
      // b fails 4 times: both attempts of the first run and of the second; the third run handles it.
      { ...flaky, handle: async (e, ctx) => ((e.data as { name: string }).name === 'b' && failures++ < 4 ? Promise.reject(new Error('down')) : flaky.handle(e, ctx)) },
      { maxAttempts: 2, retryDelayMs: 1, restartAfterMs: 20, onRestart: (err) => restarts.push(err) },
    );
    await waitFor(async () => store.streamExists('monitor-b'));
    expect(restarts.map((e) => (e as Error).message)).toEqual(['down', 'down']);
    expect(calls.map((e) => (e.data as { name: string }).name)).toEqual(['a', 'b']);
    expect(await store.readStream('monitor-a')).toHaveLength(1);
    expect(await store.checkpoints().load('monitors')).toBe(2);
    await pm.stop();
    await expect(pm.done).resolves.toBeUndefined();
  });

  it('stop() cancels a pending restart', async () => {
    const store = new MemoryEventStore({ pollIntervalMs: 10 });
    await store.appendToStream('model-a', [created('a')]);
    let attempts = 0;
    let restarted!: () => void;
    const ended = new Promise<void>((r) => (restarted = r));
    const pm = await runProcessManager(
      store,
      { ...monitorManager(), handle: async () => void (attempts++, (() => { throw new Error('down'); })()) },
      { maxAttempts: 1, restartAfterMs: 100, onRestart: () => restarted() },
    );
    await ended;
    await pm.stop();
    await expect(pm.done).resolves.toBeUndefined();
    await new Promise((r) => setTimeout(r, 300));
    expect(attempts).toBe(1);
  });

  it('numbers reactions across the appends of one event, so a second append is stored too, and once on a retry', async () => {
    const store = new MemoryEventStore({ pollIntervalMs: 10 });
    const source = created('fraud');
    await store.appendToStream('model-fraud', [source]);
    let attempts = 0;
    const twice: ProcessManager = {
      name: 'two-appends',
      filter: { category: 'model' },
      canHandle: (e) => e.type === 'RegisteredModelCreated',
      handle: async (e, ctx) => {
        attempts++;
        const name = (e.data as { name: string }).name;
        await ctx.append(`monitor-${name}`, [{ type: 'MonitorCreated', data: { model: name, sourceEventId: e.id } }]);
        await ctx.append(`monitor-${name}`, [{ type: 'MonitoringPolicyApplied', data: { model: name, policy: { model: name }, sha256: 'a'.repeat(64) } }]);
        if (attempts === 1) throw new Error('crash after both appends');
      },
    };
    const pm = await runProcessManager(store, twice, { retryDelayMs: 1 });
    await pm.caughtUp;
    await pm.stop();
    const reactions = await store.readStream('monitor-fraud');
    expect(attempts).toBe(2);
    expect(reactions.map((r) => [r.type, r.id])).toEqual([
      ['MonitorCreated', deterministicId('two-appends', source.id, '0')],
      ['MonitoringPolicyApplied', deterministicId('two-appends', source.id, '1')],
    ]);
  });
});
