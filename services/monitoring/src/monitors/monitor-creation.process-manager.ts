import { categories, streams, type RecordedEvent } from '@mlp/contracts';
import type { ProcessManager, ProcessManagerContext } from '@mlp/eventstore';

/**
 * Every registered model gets a monitor: reacts to RegisteredModelCreated by
 * appending MonitorCreated to `monitor-<model>`. The runner gives the reaction
 * a deterministic id and the causation id of the source event, so a replayed
 * or re-delivered event creates nothing twice.
 */
export const monitorCreationProcessManager: ProcessManager = {
  name: 'monitoring.monitor-creation',
  filter: { category: categories.model },
  canHandle: (event: RecordedEvent) => event.type === 'RegisteredModelCreated',
  async handle(event: RecordedEvent, ctx: ProcessManagerContext): Promise<void> {
    const model = (event.data as { name: string }).name;
    await ctx.append(streams.monitor(model), [
      { type: 'MonitorCreated', data: { model, policy: { drift: { statistic: 'psi', threshold: 0.2 } }, sourceEventId: event.id } },
    ]);
  },
};
