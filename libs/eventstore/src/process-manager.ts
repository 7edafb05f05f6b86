import {
  deterministicId,
  toNewEvent,
  type DomainEventInput,
  type EventType,
  type RecordedEvent,
} from '@mlp/contracts';
import type { AppendResult, CheckpointStore, EventFilter, EventStore, ExpectedRevision, Subscription } from './event-store';
import { codeVersion } from './code-version';
import { deferred } from './base-event-store';

export interface ProcessManagerContext {
  store: EventStore;
  /**
   * Appends reactions caused by `cause`: ids derive from (manager, cause id,
   * index of the reaction among all appended while handling it), causation =
   * cause id, correlation carried over. Handling the same event twice
   * therefore stores each reaction once.
   */
  append<T extends EventType>(
    stream: string,
    events: DomainEventInput<T>[],
    options?: { expectedRevision?: ExpectedRevision },
  ): Promise<AppendResult>;
}

export interface ProcessManager {
  /** Also the checkpoint name. */
  readonly name: string;
  readonly filter: EventFilter;
  canHandle(event: RecordedEvent): boolean;
  handle(event: RecordedEvent, ctx: ProcessManagerContext): Promise<void>;
}

export interface ProcessManagerRunnerOptions {
  checkpoints?: CheckpointStore;
  /** Attempts per event before the subscription ends with the handler's error (the event is retried on restart). Default 5. */
  maxAttempts?: number;
  /** Delay before the second attempt of an event, doubled for each further one. Default 200 ms. */
  retryDelayMs?: number;
  /**
   * How long after its subscription ended with an error the manager starts
   * again from its checkpoint. Default 2000 ms. `false`: no restart, `done`
   * rejects with the error instead.
   */
  restartAfterMs?: number | false;
  /** A failed attempt at one event. */
  onError?: (err: unknown, event: RecordedEvent, attempt: number) => void;
  /** The subscription ended with `err` (or a restart could not load the checkpoint); the manager starts again in `restartInMs`. */
  onRestart?: (err: unknown, restartInMs: number) => void;
}

export interface RunningProcessManager {
  /** Resolves once the manager has handled every event that existed when it (first) subscribed, or when stopped before that. */
  readonly caughtUp: Promise<void>;
  /** Resolves on stop(); rejects only when restarts are off (`restartAfterMs: false`) and the subscription ends with an error. */
  readonly done: Promise<void>;
  /** Closes the subscription (waiting for the event in hand) and cancels a pending restart. */
  stop(): Promise<void>;
}

/**
 * Runs a process manager on a checkpointed catch-up subscription. The
 * checkpoint is saved after each handled event; a crash between the reaction
 * and the save re-delivers that event, and deterministic ids make the second
 * reaction a no-op, so every event has its effect exactly once.
 *
 * Failures, and what happens to the event:
 * - A handler that throws is retried on the same event `maxAttempts` times
 *   with backoff (each failure reported to `onError`); the checkpoint does not
 *   move past an event until it was handled.
 * - When the attempts run out, or the subscription itself fails (the broker
 *   went away, the checkpoint cannot be saved), the subscription ends with
 *   that error and the manager starts again from its checkpoint
 *   `restartAfterMs` later, until stopped: no operator action after a broker
 *   restart. A failing restart (checkpoint unreadable while the broker is
 *   still down) is retried after the same delay.
 * - Handler errors are not classified: an append failing because the broker
 *   is down is thrown by the handler too, so a bug and an outage look alike
 *   here. A handler that always fails on an event (a bug) therefore blocks the
 *   manager at that event, retried on every restart and reported each time;
 *   no event is ever skipped.
 */
export async function runProcessManager(
  store: EventStore,
  manager: ProcessManager,
  options: ProcessManagerRunnerOptions = {},
): Promise<RunningProcessManager> {
  const checkpoints = options.checkpoints ?? store.checkpoints();
  const maxAttempts = options.maxAttempts ?? 5;
  const retryDelayMs = options.retryDelayMs ?? 200;
  const restartAfterMs = options.restartAfterMs ?? 2_000;
  let stopped = false;
  let subscription: Subscription | undefined;
  let restartTimer: NodeJS.Timeout | undefined;
  const caughtUp = deferred();
  const done = deferred();

  const handle = async (event: RecordedEvent) => {
    if (manager.canHandle(event)) {
      // Reactions are numbered across every append of one attempt (a second append must not reuse the first one's
      // ids, which the store would drop as duplicates), and again from 0 on a retry, so a retry reuses them.
      let next = 0;
      const ctx: ProcessManagerContext = {
        store,
        append: (stream, events, appendOptions) =>
          store.appendToStream(
            stream,
            events.map((e) =>
              toNewEvent(
                e,
                { now: event.occurredAt, correlationId: event.correlationId, causationId: event.id, actor: `process-manager:${manager.name}` },
                { id: deterministicId(manager.name, event.id, String(next++)), codeVersion: codeVersion() },
              ),
            ),
            appendOptions,
          ),
      };
      for (let attempt = 1; ; attempt++) {
        next = 0;
        try {
          await manager.handle(event, ctx);
          break;
        } catch (err) {
          options.onError?.(err, event, attempt);
          if (attempt >= maxAttempts || stopped) throw err;
          await new Promise((r) => setTimeout(r, retryDelayMs * 2 ** (attempt - 1)));
        }
      }
    }
    await checkpoints.save(manager.name, event.position);
  };


  const subscribe = (fromCheckpoint: number | undefined): void => {
    const current = store.subscribe({ filter: manager.filter, fromCheckpoint }, handle);
    subscription = current;
    current.caughtUp.then(caughtUp.resolve, () => undefined);
    current.done.then(
      () => {
        if (stopped) done.resolve();
      },
      (err: unknown) => {
        if (stopped) return done.resolve();
        if (restartAfterMs === false) {
          caughtUp.reject(err);
          return done.reject(err);
        }
        scheduleRestart(err);
      },
    );
  };
  const scheduleRestart = (err: unknown): void => {
    options.onRestart?.(err, restartAfterMs as number);
    restartTimer = setTimeout(() => {
      restartTimer = undefined;
      if (stopped) return;
      checkpoints.load(manager.name).then(
        (fromCheckpoint) => {
          if (!stopped) subscribe(fromCheckpoint);
        },
        (loadErr: unknown) => {
          if (!stopped) scheduleRestart(loadErr);
        },
      );
    }, restartAfterMs as number);
  };

  subscribe(await checkpoints.load(manager.name));
  return {
    caughtUp: caughtUp.promise,
    done: done.promise,
    stop: async () => {
      stopped = true;
      if (restartTimer) clearTimeout(restartTimer);
      restartTimer = undefined;
      await subscription?.close();
      caughtUp.resolve();
      done.resolve();
    },
  };
}
