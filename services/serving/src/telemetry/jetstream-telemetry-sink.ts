import { connect, Events, nanos, StorageType, type JetStreamClient, type NatsConnection } from 'nats';
import type { NatsAuth } from '@mlp/messaging';
import { InfrastructureError, subjects, telemetryStream, type FeedbackTelemetry } from '@mlp/contracts';
import { predictionMessages, type PredictionEntry } from './prediction-entry';
import type { TelemetrySink } from './telemetry-sink';

/** One telemetry message, encoded, with its JetStream dedup id. */
interface Outgoing {
  subject: string;
  data: string;
  msgID?: string;
}

export interface JetStreamSinkOptions {
  /** Messages kept for a retry while the broker is unreachable; past it the oldest are dropped (counted). */
  maxBacklog?: number;
  /** Delay before a failed publish is tried again (and again, while it fails). */
  retryMs?: number;
  /** How long a publish waits for its ack. */
  publishTimeoutMs?: number;
}

/** Messages kept at most while the broker is away (about 30 MB of typical rows). */
const MAX_BACKLOG = 100_000;
/** Publishes in flight at once (pipelined; the next slice goes once these are acknowledged or failed). */
const PUBLISH_SLICE = 256;

/**
 * Distributed: stream MLP_TELEMETRY (`mlp.tel.>`, file storage, 30 days),
 * one message per record. A write publishes the flush's messages together
 * (pipelined, one ack each). A message that is not acknowledged (broker
 * down, JetStream not ready, ack timeout) is kept in a bounded backlog and
 * published again, in order before newer ones, when the connection returns
 * (or every `retryMs`); while the connection is down nothing is sent, only
 * kept. A retried message keeps its `msgID` (request id, row, arm), so one
 * whose first publish was stored after all (ack lost) is deduplicated by
 * the stream: each record lands once. Past the bound the oldest messages are
 * dropped and reported to `onDropped` (serving_telemetry_dropped_total).
 */
export class JetStreamTelemetrySink implements TelemetrySink {
  readonly kind = 'jetstream';
  onDropped?: (n: number) => void;
  /** Messages dropped past the backlog bound. */
  dropped = 0;
  private backlog: Outgoing[] = [];
  private connected = true;
  private closed = false;
  private chain: Promise<void> = Promise.resolve();
  private retryTimer?: NodeJS.Timeout;
  private readonly maxBacklog: number;
  private readonly retryMs: number;
  private readonly publishTimeoutMs: number;

  private constructor(
    private readonly nc: NatsConnection,
    private readonly js: JetStreamClient,
    options: JetStreamSinkOptions,
  ) {
    this.maxBacklog = options.maxBacklog ?? MAX_BACKLOG;
    this.retryMs = options.retryMs ?? 1000;
    this.publishTimeoutMs = options.publishTimeoutMs ?? 5000;
    void this.watch();
  }

  static async connect(url: string, name: string, auth: NatsAuth = {}, options: JetStreamSinkOptions = {}): Promise<JetStreamTelemetrySink> {
    const nc = await connect({ servers: url.split(','), name, maxReconnectAttempts: -1, ...auth });
    try {
      const jsm = await nc.jetstreamManager();
      const stream = telemetryStream.stream;
      try {
        await jsm.streams.info(stream);
      } catch {
        await jsm.streams
          .add({ name: stream, subjects: [subjects.tel.all], storage: StorageType.File, max_age: nanos(telemetryStream.maxAgeDays * 86_400_000) })
          .catch(async (cause: unknown) => {
            // Another replica may have created it meanwhile.
            await jsm.streams.info(stream).catch(() => {
              throw new InfrastructureError(`cannot create JetStream stream ${stream}`, { cause });
            });
          });
      }
      return new JetStreamTelemetrySink(nc, nc.jetstream(), options);
    } catch (err) {
      await nc.close();
      throw err;
    }
  }

  /** Messages waiting for the broker. */
  get backlogSize(): number {
    return this.backlog.length;
  }

  writePredictions(entries: readonly PredictionEntry[]): Promise<void> {
    return this.enqueue(predictionMessages(entries, (model) => subjects.tel.predictions(model)));
  }

  writeFeedback(records: readonly FeedbackTelemetry[]): Promise<void> {
    return this.enqueue(records.map((r) => ({ subject: subjects.tel.feedback(r.model), data: JSON.stringify(r) })));
  }

  async modelOfRequest(): Promise<string | undefined> {
    return undefined;
  }

  async close(): Promise<void> {
    // One last try for what waits (when connected), then whatever is left is dropped and counted.
    await this.enqueue([]);
    this.closed = true;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.drop(this.backlog.length);
    this.backlog = [];
    await this.nc.drain().catch(() => undefined);
  }

  /** Publishes in order, one write at a time: the backlog first, then `fresh`. Never rejects. */
  private enqueue(fresh: Outgoing[]): Promise<void> {
    this.chain = this.chain.then(() => this.send(fresh));
    return this.chain;
  }

  private async send(fresh: Outgoing[]): Promise<void> {
    if (!this.connected || this.closed) {
      if (fresh.length > 0) this.keep(fresh);
      return;
    }
    const msgs = this.backlog.length === 0 ? fresh : fresh.length === 0 ? this.backlog : this.backlog.concat(fresh);
    this.backlog = [];
    if (msgs.length === 0) return;
    const opts = { timeout: this.publishTimeoutMs };
    const failed: Outgoing[] = [];
    // A slice at a time: a backlog of tens of thousands published in one go holds the event loop
    // for seconds (a promise, a timer and an encoding each), and serving's HTTP answers wait behind it.
    for (let start = 0; start < msgs.length; start += PUBLISH_SLICE) {
      const slice = msgs.slice(start, start + PUBLISH_SLICE);
      if (!this.connected || this.closed) {
        failed.push(...msgs.slice(start));
        break;
      }
      const results = await Promise.allSettled(slice.map((m) => this.js.publish(m.subject, m.data, m.msgID ? { ...opts, msgID: m.msgID } : opts)));
      for (let i = 0; i < slice.length; i++) if (results[i].status === 'rejected') failed.push(slice[i]);
    }
    if (failed.length > 0) this.keep(failed);
  }

  /** Keeps unsent messages (after any already kept), the newest `maxBacklog` of them; arms a retry. */
  private keep(msgs: Outgoing[]): void {
    // Appended in place: copying the backlog on every flush of an outage is quadratic.
    if (this.backlog.length === 0) this.backlog = msgs;
    else for (const m of msgs) this.backlog.push(m);
    const over = this.backlog.length - this.maxBacklog;
    if (over > 0) {
      this.backlog.splice(0, over);
      this.drop(over);
    }
    this.retryIn(this.retryMs);
  }

  private drop(n: number): void {
    if (n <= 0) return;
    this.dropped += n;
    this.onDropped?.(n);
  }

  private retryIn(ms: number): void {
    if (this.retryTimer || this.closed) return;
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      if (this.backlog.length > 0 && this.connected) void this.enqueue([]);
      else if (this.backlog.length > 0) this.retryIn(this.retryMs);
    }, ms);
    this.retryTimer.unref();
  }

  /** Follows the connection: publishing pauses while it is down and the backlog goes out when it returns. */
  private async watch(): Promise<void> {
    for await (const s of this.nc.status()) {
      if (s.type === Events.Disconnect) this.connected = false;
      else if (s.type === Events.Reconnect) {
        this.connected = true;
        if (this.backlog.length > 0) {
          if (this.retryTimer) clearTimeout(this.retryTimer);
          this.retryTimer = undefined;
          void this.enqueue([]);
        }
      }
    }
  }
}
