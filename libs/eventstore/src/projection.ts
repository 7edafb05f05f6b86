import type { RecordedEvent } from '@mlp/contracts';
import type { EventFilter, EventStore, Subscription } from './event-store';

/**
 * A read model fed by events (CONVENTIONS.md: `{name, version, canHandle,
 * handle}`). Never the source of truth: it is rebuilt from the log on start
 * and by `mlp replay projections`.
 */
export interface Projection {
  readonly name: string;
  /** Bump when handle() changes meaning: the read model is rebuilt from scratch. */
  readonly version: number;
  readonly filter: EventFilter;
  canHandle(event: RecordedEvent): boolean;
  handle(event: RecordedEvent): void | Promise<void>;
  /** Empties the read model before a rebuild. */
  reset(): void;
}

/**
 * Feeds a projection from the start of the log, then live. `waitFor(position)`
 * gives read-your-writes: a query issued after a command waits until the
 * projection has seen the command's events.
 */
export class ProjectionRunner<P extends Projection = Projection> {
  private subscription?: Subscription;
  private seen = 0;
  private waiters: { position: number; resolve: () => void }[] = [];

  constructor(
    /** Public so the read model can be verified against a rebuild from the same log (verifyProjection). */
    readonly store: EventStore,
    readonly projection: P,
  ) {}

  get position(): number {
    return this.seen;
  }

  async start(): Promise<void> {
    this.projection.reset();
    this.seen = 0;
    this.subscription = this.store.subscribe({ filter: this.projection.filter }, async (event) => {
      if (this.projection.canHandle(event)) await this.projection.handle(event);
      this.advance(event.position);
    });
    await this.subscription.caughtUp;
  }

  /**
   * Resolves once the projection has handled the event at `position` (an
   * event of its own filter, e.g. the one a command just appended), or after
   * `timeoutMs`.
   */
  async waitFor(position: number, timeoutMs = 5000): Promise<void> {
    if (position <= this.seen) return;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, timeoutMs);
      this.waiters.push({
        position,
        resolve: () => {
          clearTimeout(timer);
          resolve();
        },
      });
    });
  }

  async stop(): Promise<void> {
    await this.subscription?.close();
    for (const w of this.waiters) w.resolve();
    this.waiters = [];
  }

  private advance(position: number): void {
    this.seen = Math.max(this.seen, position);
    const ready = this.waiters.filter((w) => w.position <= this.seen);
    this.waiters = this.waiters.filter((w) => w.position > this.seen);
    for (const w of ready) w.resolve();
  }
}
