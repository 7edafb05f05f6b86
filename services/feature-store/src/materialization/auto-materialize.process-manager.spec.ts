import { randomUUID } from 'node:crypto';
import type { NewEvent } from '@mlp/contracts';
import { MemoryEventStore } from '@mlp/eventstore';
import type { Logger } from '@mlp/service-kit';
import type { FeatureStoreConfig } from '../feature-store-config';
import type { FeatureViewsService } from '../views/feature-views.service';
import { AutoMaterializeProcessManager } from './auto-materialize.process-manager';
import type { MaterializationService } from './materialization.service';

jest.setTimeout(30_000);

const ingested = (version: number): NewEvent => ({
  id: randomUUID(),
  type: 'DatasetVersionIngested',
  schemaVersion: 1,
  data: { dataset: 'transactions', version, status: 'accepted' },
  occurredAt: '2026-01-01T00:00:00.000Z',
  correlationId: `corr-${version}`,
  causationId: null,
  actor: 'test',
  codeVersion: 'test',
});

async function waitFor(what: string, predicate: () => boolean, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/**
 * The service's process manager, not only runProcessManager: when its
 * subscription ends with an error (here: materialization keeps failing, as it
 * does while the broker is down) it must start again from its checkpoint by
 * itself. Before, it stayed stopped until the service was restarted.
 */
describe('AutoMaterializeProcessManager', () => {
  it('starts again from its checkpoint after its subscription ended with an error, and materializes each version once', async () => {
    const store = new MemoryEventStore({ pollIntervalMs: 10 });
    const logged: string[] = [];
    const logger = { info: () => undefined, warn: () => undefined, error: (_obj: unknown, msg: string) => logged.push(msg) } as unknown as Logger;
    const done: number[] = [];
    let outage = true;
    const materializations = {
      materialize: async (_view: string, _meta: unknown, datasetVersion: number) => {
        if (outage) throw new Error('broker unreachable');
        done.push(datasetVersion);
        return { created: true };
      },
    } as unknown as MaterializationService;
    const views = { projection: { followers: (dataset: string) => (dataset === 'transactions' ? ['customer_stats'] : []) } } as unknown as FeatureViewsService;
    const pm = new AutoMaterializeProcessManager(store, { MLP_AUTO_MATERIALIZE: 'on' } as FeatureStoreConfig, logger, views, materializations);

    await store.appendToStream('dataset-transactions', [ingested(1)]);
    await pm.onApplicationBootstrap();
    // Five attempts with backoff (about 3 s), then the subscription ends with the error.
    await waitFor('the subscription to end', () => logged.some((m) => m.includes('starting it again from its checkpoint')));
    outage = false;
    await waitFor('version 1 materialized after the restart', () => done.includes(1));
    await store.appendToStream('dataset-transactions', [ingested(2)]);
    await waitFor('version 2 materialized', () => done.includes(2));
    await pm.onApplicationShutdown();
    expect(done).toEqual([1, 2]);
    expect(await store.checkpoints().load(pm.manager.name)).toBe(2);
  });
});
