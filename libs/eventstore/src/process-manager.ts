import {
  deterministicId,
  toNewEvent,
  type DomainEventInput,
  type EventType,
  type RecordedEvent,
} from '@mlp/contracts';
import type { AppendResult, CheckpointStore, EventFilter, EventStore, ExpectedRevision, Subscription } from './event-store';
import { codeVersion } from './code-version';

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
  /** Attempts per event before the runner stops (the event is retried on restart). Default 5. */
  maxAttempts?: number;
  retryDelayMs?: number;
  onError?: (err: unknown, event: RecordedEvent, attempt: number) => void;
}

export interface RunningProcessManager {
  readonly caughtUp: Promise<void>;
  readonly done: Promise<void>;
  stop(): Promise<void>;
}

/**
 * Runs a process manager on a checkpointed catch-up subscription. The
 * checkpoint is saved after each handled event; a crash between the reaction
 * and the save re-delivers that event, and deterministic ids make the second
 * reaction a no-op, so every event has its effect exactly once.
 */
export async function runProcessManager(
  store: EventStore,
  manager: ProcessManager,
  options: ProcessManagerRunnerOptions = {},
): Promise<RunningProcessManager> {
  const checkpoints = options.checkpoints ?? store.checkpoints();
  const maxAttempts = options.maxAttempts ?? 5;
  const retryDelayMs = options.retryDelayMs ?? 200;
  const fromCheckpoint = await checkpoints.load(manager.name);

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
          if (attempt >= maxAttempts) throw err;
          await new Promise((r) => setTimeout(r, retryDelayMs * 2 ** (attempt - 1)));
        }
      }
    }
    await checkpoints.save(manager.name, event.position);
  };

  const subscription: Subscription = store.subscribe({ filter: manager.filter, fromCheckpoint }, handle);
  return { caughtUp: subscription.caughtUp, done: subscription.done, stop: () => subscription.close() };
}
