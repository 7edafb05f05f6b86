import { AckPolicy, connect, JSONCodec, nanos, RetentionPolicy, StorageType, type JsMsg, type NatsConnection } from 'nats';
import { subjects } from '@mlp/contracts';
import { trialMessageId, type TrialHandler, type TrialMessage, type TrialQueue } from './trial-queue';

const codec = JSONCodec<TrialMessage>();
const { stream, subject, consumer } = subjects.work.trials;

/**
 * Trials on a JetStream work queue: every training instance pulls from one
 * durable consumer, so any number of workers share a search. A trial is acked
 * only after its result is in the event store; a worker that dies leaves it
 * unacked, and JetStream delivers it again after `ackWaitMs`. `msgID` makes a
 * repeated enqueue of the same trial a no-op within the duplicate window.
 */
export class JetStreamTrialQueue implements TrialQueue {
  private closed = false;
  private readonly loops: Promise<void>[] = [];

  private constructor(
    private readonly nc: NatsConnection,
    private readonly ackWaitMs: number,
  ) {}

  static async connect(url: string, options: { ackWaitMs: number; name?: string }): Promise<JetStreamTrialQueue> {
    const nc = await connect({ servers: url, name: options.name ?? 'mlp-training-trials' });
    const jsm = await nc.jetstreamManager();
    const config = { name: stream, subjects: [subject], retention: RetentionPolicy.Workqueue, storage: StorageType.File, duplicate_window: nanos(10 * 60_000) };
    try {
      await jsm.streams.info(stream);
    } catch {
      await jsm.streams.add(config);
    }
    try {
      await jsm.consumers.info(stream, consumer);
    } catch {
      await jsm.consumers.add(stream, { durable_name: consumer, ack_policy: AckPolicy.Explicit, ack_wait: nanos(options.ackWaitMs), max_deliver: 5, filter_subject: subject });
    }
    return new JetStreamTrialQueue(nc, options.ackWaitMs);
  }

  async enqueue(message: TrialMessage): Promise<void> {
    await this.nc.jetstream().publish(subject, codec.encode(message), { msgID: trialMessageId(message) });
  }

  async work(handler: TrialHandler, concurrency: number): Promise<void> {
    const c = await this.nc.jetstream().consumers.get(stream, consumer);
    for (let i = 0; i < concurrency; i++) {
      this.loops.push(
        (async () => {
          while (!this.closed) {
            let msg: JsMsg | null = null;
            try {
              msg = await c.next({ expires: 2_000 });
            } catch {
              if (this.closed) return;
              await new Promise((r) => setTimeout(r, 500)); // e.g. reconnecting: try again
              continue;
            }
            if (!msg) continue;
            await this.handle(msg, handler);
          }
        })(),
      );
    }
  }

  private async handle(msg: JsMsg, handler: TrialHandler): Promise<void> {
    const m = msg;
    const beat = setInterval(() => m.working(), Math.max(250, Math.floor(this.ackWaitMs / 3)));
    try {
      await handler({ message: codec.decode(m.data), attempt: m.info.redeliveryCount, heartbeat: () => m.working() });
      m.ack();
    } catch {
      // leave it for redelivery (after a short delay rather than the full ack wait)
      m.nak(1_000);
    } finally {
      clearInterval(beat);
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    await Promise.allSettled(this.loops);
    await this.nc.drain().catch(() => undefined);
  }
}
