import { AckPolicy, connect, JSONCodec, nanos, RetentionPolicy, StorageType, type JsMsg, type NatsConnection, type NatsError, type StreamConfig } from 'nats';
import { InfrastructureError, subjects } from '@mlp/contracts';
import type { NatsAuth } from '@mlp/messaging';
import type { Logger } from '@mlp/service-kit';
import { trialMessageId, type TrialHandler, type TrialMessage, type TrialQueue } from './trial-queue';

const codec = JSONCodec<TrialMessage>();
const { stream, subject, consumer } = subjects.work.trials;
/** Deliveries of one trial before JetStream gives it up (the consumer's max_deliver). */
export const JETSTREAM_MAX_DELIVER = 5;

/** Publish attempts of one trial, 1 s apart, before the run's coordinator sees the error. */
const ENQUEUE_ATTEMPTS = 60;
/** JetStream API error codes: stream not found, consumer not found. */
const STREAM_NOT_FOUND = 10059;
const CONSUMER_NOT_FOUND = 10014;
const apiErrorCode = (err: unknown): number | undefined => (err as NatsError & { api_error?: { err_code?: number } })?.api_error?.err_code;

/** The work queue's stream: WorkQueue retention, file storage, `replicas` copies (MLP_TRIAL_QUEUE_REPLICAS; 3 in a NATS cluster). */
export function trialStreamConfig(replicas: number): Partial<StreamConfig> & { name: string } {
  return { name: stream, subjects: [subject], retention: RetentionPolicy.Workqueue, storage: StorageType.File, duplicate_window: nanos(10 * 60_000), num_replicas: replicas };
}

/**
 * Trials on a JetStream work queue: every training instance pulls from one
 * durable consumer, so any number of workers share a search. A trial is acked
 * only after its result is in the event store; a worker that dies leaves it
 * unacked, and JetStream delivers it again after `ackWaitMs`, up to the
 * consumer's `max_deliver` times (the handler records the failure itself on
 * the last delivery). `msgID` makes a repeated enqueue of the same trial a
 * no-op within the duplicate window.
 */
export class JetStreamTrialQueue implements TrialQueue {
  private closed = false;
  private readonly loops: Promise<void>[] = [];

  private constructor(
    private readonly nc: NatsConnection,
    private readonly ackWaitMs: number,
    private readonly maxDeliver: number,
    private readonly logger?: Logger,
  ) {}

  /** `replicas` (default 1): the stream's replicas; an existing stream with another count is updated to it. */
  static async connect(url: string, options: { ackWaitMs: number; replicas?: number; name?: string; logger?: Logger; auth?: NatsAuth }): Promise<JetStreamTrialQueue> {
    const nc = await connect({ servers: url, name: options.name ?? 'mlp-training-trials', maxReconnectAttempts: -1, ...options.auth });
    const replicas = options.replicas ?? 1;
    try {
      const jsm = await nc.jetstreamManager();
      let existing;
      try {
        existing = await jsm.streams.info(stream);
      } catch (err) {
        if (apiErrorCode(err) !== STREAM_NOT_FOUND) throw err;
        await jsm.streams.add(trialStreamConfig(replicas));
      }
      if (existing && existing.config.num_replicas !== replicas) {
        // JetStream scales a clustered stream in place (a single server keeps R1).
        options.logger?.info({ stream, from: existing.config.num_replicas, to: replicas }, 'changing the trial work queue replicas');
        await jsm.streams.update(stream, { ...existing.config, num_replicas: replicas });
      }
      let info;
      try {
        info = await jsm.consumers.info(stream, consumer);
      } catch (err) {
        if (apiErrorCode(err) !== CONSUMER_NOT_FOUND) throw err;
        info = await jsm.consumers.add(stream, { durable_name: consumer, ack_policy: AckPolicy.Explicit, ack_wait: nanos(options.ackWaitMs), max_deliver: JETSTREAM_MAX_DELIVER, filter_subject: subject });
      }
      // A consumer created by an earlier version may deliver without limit (-1).
      const maxDeliver = info.config.max_deliver && info.config.max_deliver > 0 ? info.config.max_deliver : Number.POSITIVE_INFINITY;
      return new JetStreamTrialQueue(nc, options.ackWaitMs, maxDeliver, options.logger);
    } catch (err) {
      await nc.close();
      throw new InfrastructureError(`cannot set up the trial work queue ${stream} on ${url}: ${(err as Error).message}`, { cause: err });
    }
  }

  /** Publishes a trial, retrying for up to a minute while the broker is away (the msgID makes a repeat a no-op). */
  async enqueue(message: TrialMessage): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      try {
        await this.nc.jetstream().publish(subject, codec.encode(message), { msgID: trialMessageId(message) });
        return;
      } catch (err) {
        if (this.closed || attempt >= ENQUEUE_ATTEMPTS) throw err;
        this.logger?.warn({ err, runId: message.runId, trial: message.trial, attempt }, 'cannot publish a trial to the work queue; retrying in 1 s');
        await new Promise((r) => setTimeout(r, 1_000));
      }
    }
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
            } catch (err) {
              if (this.closed) return;
              this.logger?.warn({ err, stream, consumer }, 'cannot pull a trial from the work queue; retrying in 500 ms');
              await new Promise((r) => setTimeout(r, 500));
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
    const message = codec.decode(m.data);
    const attempt = m.info.redeliveryCount;
    try {
      await handler({ message, attempt, maxAttempts: this.maxDeliver, heartbeat: () => m.working() });
      m.ack();
    } catch (err) {
      // Leave it for redelivery (after a short delay rather than the full ack wait); the handler recorded the last attempt's failure.
      this.logger?.warn(
        { err, runId: message.runId, trial: message.trial, attempt, maxAttempts: this.maxDeliver },
        attempt < this.maxDeliver ? 'trial attempt failed; JetStream delivers it again' : 'trial attempt failed; no more deliveries',
      );
      m.nak(1_000);
    } finally {
      clearInterval(beat);
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    await Promise.allSettled(this.loops);
    await this.nc.drain().catch((err: unknown) => this.logger?.warn({ err }, 'draining the trial queue connection failed'));
  }
}
