import { runProcessManager, type EventStore, type ProcessManager, type ProcessManagerRunnerOptions, type RunningProcessManager } from '@mlp/eventstore';
import type { Logger } from '../logging/logger';

/** Starts a checkpointed process manager whose failed attempts, and its end when it gives up, are logged. */
export async function startProcessManager(store: EventStore, manager: ProcessManager, logger: Logger, options: Omit<ProcessManagerRunnerOptions, 'onError'> = {}): Promise<RunningProcessManager> {
  const running = await runProcessManager(store, manager, {
    ...options,
    onError: (err, event, attempt) => logger.error({ err, eventId: event.id, attempt }, `${manager.name} failed on ${event.type}`),
  });
  running.done.catch((err: unknown) => logger.error({ err }, `${manager.name} stopped`));
  return running;
}
