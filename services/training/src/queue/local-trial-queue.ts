import type { Logger } from '@mlp/service-kit';
import { trialMessageId, type TrialHandler, type TrialMessage, type TrialQueue } from './trial-queue';

/** Deliveries of one trial before the in-process queue gives it up. */
export const LOCAL_MAX_ATTEMPTS = 3;

/**
 * In-process queue for embedded mode: bounded parallelism on one process.
 * A handler that throws has its trial retried (up to 3 deliveries), like a
 * redelivery after a worker crash; the handler records the failure itself
 * on the last delivery (`attempt === maxAttempts`), and the run's
 * coordinator fails any trial that still never ends at its deadline.
 */
export class LocalTrialQueue implements TrialQueue {
  private readonly pending: { message: TrialMessage; attempt: number }[] = [];
  private readonly seen = new Set<string>();
  private handler?: TrialHandler;
  private concurrency = 1;
  private active = 0;
  private closed = false;

  constructor(private readonly logger?: Logger) {}

  async enqueue(message: TrialMessage): Promise<void> {
    const id = trialMessageId(message);
    if (this.seen.has(id)) return;
    this.seen.add(id);
    this.pending.push({ message, attempt: 1 });
    this.pump();
  }

  async work(handler: TrialHandler, concurrency: number): Promise<void> {
    this.handler = handler;
    this.concurrency = concurrency;
    this.pump();
  }

  async close(): Promise<void> {
    this.closed = true;
  }

  private pump(): void {
    while (!this.closed && this.handler && this.active < this.concurrency && this.pending.length > 0) {
      const item = this.pending.shift()!;
      this.active++;
      this.handler({ message: item.message, attempt: item.attempt, maxAttempts: LOCAL_MAX_ATTEMPTS, heartbeat: () => undefined })
        .catch((err: unknown) => {
          const retry = item.attempt < LOCAL_MAX_ATTEMPTS && !this.closed;
          this.logger?.warn(
            { err, runId: item.message.runId, trial: item.message.trial, attempt: item.attempt, maxAttempts: LOCAL_MAX_ATTEMPTS },
            retry ? 'trial attempt failed; delivering it again' : 'trial attempt failed; no more deliveries',
          );
          if (retry) this.pending.push({ message: item.message, attempt: item.attempt + 1 });
        })
        .finally(() => {
          this.active--;
          setImmediate(() => this.pump());
        });
    }
  }
}
