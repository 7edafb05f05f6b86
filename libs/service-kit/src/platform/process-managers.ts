import { runProcessManager, type EventStore, type ProcessManager, type ProcessManagerRunnerOptions, type RunningProcessManager } from '@mlp/eventstore';
import type { Logger } from '../logging/logger';

/**
 * runProcessManager with its failed attempts and restarts logged. Restarting
 * from the checkpoint after the subscription ends with an error (a broker
 * restart) is runProcessManager's own behaviour.
 */
export function startProcessManager(store: EventStore, manager: ProcessManager, logger: Logger, options: Omit<ProcessManagerRunnerOptions, 'onError' | 'onRestart'> = {}): Promise<RunningProcessManager> {
  return runProcessManager(store, manager, {
    ...options,
    onError: (err, event, attempt) => logger.error({ err, eventId: event.id, attempt }, `${manager.name} failed on ${event.type}`),
    onRestart: (err, restartInMs) => logger.error({ err }, `${manager.name} stopped; starting it again from its checkpoint in ${restartInMs} ms`),
  });
}
