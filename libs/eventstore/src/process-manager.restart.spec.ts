import { startNatsServer, type NatsServerHandle } from '@mlp/testing';
import { testEvent } from './contract/event-store.contract';
import { JetStreamEventStore } from './nats/jetstream-event-store';
import { runProcessManager, type ProcessManager, type RunningProcessManager } from './process-manager';

jest.setTimeout(120_000);

async function waitFor(what: string, predicate: () => Promise<boolean> | boolean, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      if (await predicate()) return;
    } catch {
      // the broker may be down or reconnecting
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

const created = (name: string) => testEvent('RegisteredModelCreated', { name, description: '', tags: {} }, { schemaVersion: 2, correlationId: `corr-${name}` });
const nameOf = (data: unknown) => (data as { name: string }).name;

/**
 * A process manager on the JetStream adapter while nats-server restarts
 * (issue 17: process managers catch up after a broker restart). The outage
 * hits it mid-reaction, so its subscription really ends with an error; it
 * must start again from its checkpoint by itself and handle what comes next
 * exactly once.
 */
describe('runProcessManager across a nats-server restart (JetStream)', () => {
  let server: NatsServerHandle;
  let store: JetStreamEventStore;
  let pm: RunningProcessManager | undefined;

  beforeAll(async () => {
    server = await startNatsServer();
    store = await JetStreamEventStore.connect({ servers: server.url });
  });
  afterAll(async () => {
    await pm?.stop();
    await store?.close();
    await server?.stop();
  });

  it('ends its subscription when the broker goes away mid-reaction, restarts from its checkpoint, and handles events appended after the restart exactly once', async () => {
    const handled: string[] = [];
    const restarts: unknown[] = [];
    const failures: unknown[] = [];
    let hold: Promise<void> | undefined;
    let entered: (() => void) | undefined;
    const manager: ProcessManager = {
      name: 'restart-monitors',
      filter: { category: 'model' },
      canHandle: (e) => e.type === 'RegisteredModelCreated',
      handle: async (e, ctx) => {
        handled.push(nameOf(e.data));
        if (hold) {
          entered?.();
          await hold;
        }
        await ctx.append(`monitor-${nameOf(e.data)}`, [{ type: 'MonitorCreated', data: { model: nameOf(e.data), sourceEventId: e.id } }]);
      },
    };
    pm = await runProcessManager(store, manager, {
      maxAttempts: 2,
      retryDelayMs: 50,
      restartAfterMs: 300,
      onError: (err) => failures.push(err),
      onRestart: (err) => restarts.push(err),
    });
    await store.appendToStream('model-a', [created('a')]);
    await waitFor('monitor-a', () => store.streamExists('monitor-a'));
    await pm.caughtUp;
    const checkpointBefore = await store.checkpoints().load('restart-monitors');
    expect(checkpointBefore).toBeGreaterThan(0);

    // b is in the handler when the broker goes away: its append fails, the attempts run out, the subscription ends.
    let release!: () => void;
    hold = new Promise<void>((r) => (release = r));
    const inHandler = new Promise<void>((r) => (entered = r));
    await store.appendToStream('model-b', [created('b')]);
    await inHandler;
    await server.restart({
      signal: 'SIGKILL',
      whileDown: async () => {
        hold = undefined;
        release();
        await waitFor('both attempts at b to fail', () => failures.length >= 2);
      },
    });

    // Back up: the manager resubscribes from its checkpoint (after a, so a is not handled again) and handles b.
    await waitFor('monitor-b after the restart', () => store.streamExists('monitor-b'));
    for (const name of ['c', 'd', 'e']) await store.appendToStream(`model-${name}`, [created(name)]);
    await waitFor('monitors c, d, e', async () => (await Promise.all(['c', 'd', 'e'].map((n) => store.streamExists(`monitor-${n}`)))).every(Boolean));
    const last = (await store.readStream('model-e'))[0].position;
    await waitFor('the checkpoint to pass e', async () => ((await store.checkpoints().load('restart-monitors')) ?? 0) >= last);

    expect(restarts.length).toBeGreaterThanOrEqual(1);
    expect(handled.filter((n) => n === 'a')).toHaveLength(1);
    expect(handled.filter((n) => n === 'b').length).toBeGreaterThanOrEqual(2); // in hand at the outage, delivered again after it
    for (const name of ['c', 'd', 'e']) expect(handled.filter((n) => n === name)).toHaveLength(1);
    for (const name of ['a', 'b', 'c', 'd', 'e']) {
      const reactions = await store.readStream(`monitor-${name}`);
      expect(reactions.map((r) => r.type)).toEqual(['MonitorCreated']);
    }

    await pm.stop();
    await expect(pm.done).resolves.toBeUndefined();
    pm = undefined;
  });
});
