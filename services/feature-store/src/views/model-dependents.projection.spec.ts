import { randomUUID } from 'node:crypto';
import type { RecordedEvent } from '@mlp/contracts';
import { ModelDependentsProjection } from './model-dependents.projection';

let position = 0;
const event = (type: string, data: Record<string, unknown>): RecordedEvent => ({
  id: randomUUID(),
  type,
  schemaVersion: 1,
  data,
  occurredAt: '2026-01-01T00:00:00Z',
  correlationId: 'c',
  causationId: null,
  actor: 'a',
  codeVersion: 'v',
  stream: `model-${String(data.name)}`,
  revision: 0,
  position: ++position,
});

describe('ModelDependentsProjection', () => {
  it('lists aliased model versions trained on a view version, and forgets removed aliases', () => {
    const p = new ModelDependentsProjection();
    const feed = (e: RecordedEvent) => p.canHandle(e) && p.handle(e);
    feed(event('ModelVersionRegistered', { name: 'churn', version: 1, lineage: { featureViews: ['customer_stats@1'] } }));
    feed(event('ModelVersionRegistered', { name: 'churn', version: 2, lineage: { featureViews: ['customer_stats@2'] } }));
    feed(event('ModelVersionRegistered', { name: 'fraud', version: 1, lineage: { featureViews: ['customer_stats@1', 'merchant@3'] } }));
    expect(p.dependents('customer_stats', 1)).toEqual([]); // registered, but nobody uses them
    feed(event('ModelAliasAssigned', { name: 'churn', alias: 'production', version: 1 }));
    feed(event('ModelAliasAssigned', { name: 'fraud', alias: 'canary', version: 1 }));
    feed(event('ModelAliasAssigned', { name: 'churn', alias: 'staging', version: 2 }));
    expect(p.dependents('customer_stats', 1)).toEqual(['churn@1 (production)', 'fraud@1 (canary)']);
    expect(p.dependents('customer_stats', 2)).toEqual(['churn@2 (staging)']);
    feed(event('ModelAliasRemoved', { name: 'fraud', alias: 'canary', version: 1 }));
    expect(p.dependents('customer_stats', 1)).toEqual(['churn@1 (production)']);
    expect(p.canHandle(event('RegisteredModelCreated', { name: 'x' }))).toBe(false);
  });
});
