import { runProcessManager, type EventStore, type ProcessManager, type ProcessManagerRunnerOptions, type RunningProcessManager } from '@mlp/eventstore';
import type { Logger } from '../logging/logger';

/** How long a process manager whose subscription ended with an error waits before it starts again from its checkpoint. */
const RESTART_AFTER_MS = 2_000;

/**
 * Starts a checkpointed process manager whose failed attempts are logged. When
 * its subscription ends with an error (e.g. the broker went away mid-reaction)
 * it starts again from its checkpoint, until stopped: no operator action.
 */
export async function startProcessManager(store: EventStore, manager: ProcessManager, logger: Logger, options: Omit<ProcessManagerRunnerOptions, 'onError'> = {}): Promise<RunningProcessManager> {
  const start = () =>
    runProcessManager(store, manager, {
      ...options,
      onError: (err, event, attempt) => logger.error({ err, eventId: event.id, attempt }, `${manager.name} failed on ${event.type}`),
    });
  let stopped = false;
  let current = await start();
  let finish!: () => void;
  const done = new Promise<void>((resolve) => (finish = resolve));
  const watch = (running: RunningProcessManager): void => {
    running.done.then(finish, (err: unknown) => {
      if (stopped) return finish();
      logger.error({ err }, `${manager.name} stopped; starting it again from its checkpoint in ${RESTART_AFTER_MS} ms`);
      setTimeout(() => {
        if (stopped) return finish();
        start().then(
          (next) => {
            current = next;
            if (stopped) void next.stop().finally(finish);
            else watch(next);
          },
          (startErr: unknown) => watch({ caughtUp: Promise.resolve(), done: Promise.reject(startErr), stop: async () => undefined }),
        );
      }, RESTART_AFTER_MS);
    });
  };
  watch(current);
  return {
    caughtUp: current.caughtUp,
    done,
    stop: async () => {
      stopped = true;
      await current.stop();
      finish();
    },
  };
}
