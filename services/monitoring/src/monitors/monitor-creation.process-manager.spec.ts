import { randomUUID } from 'node:crypto';
import { MemoryEventStore, runProcessManager } from '@mlp/eventstore';
import { monitorCreationProcessManager } from './monitor-creation.process-manager';
import { MonitorsProjection } from './monitors.projection';

const created = (name: string) => ({
  id: randomUUID(),
  type: 'RegisteredModelCreated',
  schemaVersion: 2,
  data: { name, description: '', tags: {} },
  occurredAt: '2026-03-01T00:00:00.000Z',
  correlationId: `corr-${name}`,
  causationId: null,
  actor: 'alice',
  codeVersion: 'test',
});

describe('monitor creation process manager', () => {
  it('creates one monitor per registered model, with the registry event as causation', async () => {
    const store = new MemoryEventStore();
    const a = created('a');
    await store.appendToStream('model-a', [a]);
    await store.appendToStream('model-a', [{ ...created('a'), type: 'RegisteredModelDescribed', data: { name: 'a', description: 'd' } }]);
    await store.appendToStream('model-b', [created('b')]);
    const pm = await runProcessManager(store, monitorCreationProcessManager);
    await pm.caughtUp;
    await pm.stop();

    const monitors = await store.readAll({ filter: { category: 'monitor' } });
    expect(monitors.map((e) => e.stream)).toEqual(['monitor-a', 'monitor-b']);
    expect(monitors[0]).toMatchObject({ type: 'MonitorCreated', causationId: a.id, correlationId: 'corr-a', data: { model: 'a', sourceEventId: a.id } });

    const projection = new MonitorsProjection();
    for (const e of monitors) projection.handle(e);
    expect(projection.list().map((m) => [m.model, m.causationId])).toEqual([
      ['a', a.id],
      ['b', monitors[1].causationId],
    ]);
  });
});
