import { trialMessageId, type TrialHandler, type TrialMessage, type TrialQueue } from './trial-queue';

/**
 * In-process queue for embedded mode: bounded parallelism on one process.
 * A handler that throws has its trial retried (up to 3 deliveries), like a
 * redelivery after a worker crash.
 */
export class LocalTrialQueue implements TrialQueue {
  private readonly pending: { message: TrialMessage; attempt: number }[] = [];
  private readonly seen = new Set<string>();
  private handler?: TrialHandler;
  private concurrency = 1;
  private active = 0;
  private closed = false;

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
      this.handler({ message: item.message, attempt: item.attempt, heartbeat: () => undefined })
        .catch(() => {
          if (item.attempt < 3) this.pending.push({ message: item.message, attempt: item.attempt + 1 });
        })
        .finally(() => {
          this.active--;
          setImmediate(() => this.pump());
        });
    }
  }
}
