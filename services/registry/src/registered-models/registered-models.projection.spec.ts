import { randomUUID } from 'node:crypto';
import type { RecordedEvent } from '@mlp/contracts';
import { RegisteredModelsProjection } from './registered-models.projection';

let position = 0;
function recorded(type: string, data: unknown, occurredAt: string, revision: number): RecordedEvent {
  return {
    id: randomUUID(),
    type,
    schemaVersion: 1,
    data,
    occurredAt,
    correlationId: 'c',
    causationId: null,
    actor: 'a',
    codeVersion: 'v',
    stream: `model-${(data as { name: string }).name}`,
    revision,
    position: ++position,
  };
}

describe('RegisteredModelsProjection', () => {
  const history = [
    recorded('RegisteredModelCreated', { name: 'b', description: '', tags: { x: '1' } }, '2026-01-01T00:00:00Z', 0),
    recorded('RegisteredModelCreated', { name: 'a', description: 'first', tags: {} }, '2026-01-02T00:00:00Z', 0),
    recorded('RegisteredModelDescribed', { name: 'a', description: 'second' }, '2026-01-03T00:00:00Z', 1),
    recorded('RegisteredModelTagged', { name: 'b', set: { y: '2' }, removed: ['x'] }, '2026-01-04T00:00:00Z', 1),
  ];

  it('folds events into views sorted by name, keeping creation and update times', () => {
    const p = new RegisteredModelsProjection();
    for (const e of history) if (p.canHandle(e)) p.handle(e);
    expect(p.list()).toEqual([
      { name: 'a', description: 'second', tags: {}, createdAt: '2026-01-02T00:00:00Z', updatedAt: '2026-01-03T00:00:00Z', revision: 1 },
      { name: 'b', description: '', tags: { y: '2' }, createdAt: '2026-01-01T00:00:00Z', updatedAt: '2026-01-04T00:00:00Z', revision: 1 },
    ]);
  });

  it('rebuilds to the same read model after reset', () => {
    const p = new RegisteredModelsProjection();
    for (const e of history) p.handle(e);
    const first = p.list();
    p.reset();
    expect(p.list()).toEqual([]);
    for (const e of history) p.handle(e);
    expect(p.list()).toEqual(first);
  });

  it('ignores events of other types', () => {
    const p = new RegisteredModelsProjection();
    expect(p.canHandle(recorded('ModelVersionRegistered', { name: 'a' }, '2026-01-01T00:00:00Z', 0))).toBe(false);
  });
});
