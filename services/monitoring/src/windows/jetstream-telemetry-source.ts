import { AckPolicy, connect, DeliverPolicy, nanos, StorageType, type ConsumerMessages, type KV, type NatsConnection, type NatsError } from 'nats';
import { InfrastructureError, predictionTelemetrySchema, subjects, telemetryStream, type PredictionTelemetry } from '@mlp/contracts';
import type { NatsAuth } from '@mlp/messaging';
import type { Logger } from '@mlp/service-kit';
import { parseFeedback, parsePrediction, type TelemetryHandler, type TelemetryRecord, type TelemetrySource, type WindowCheckpoints } from './telemetry-source';

/** JetStream API error codes: stream not found, consumer not found. */
const STREAM_NOT_FOUND = 10059;
const CONSUMER_NOT_FOUND = 10014;
const apiErrorCode = (err: unknown): number | undefined => (err as NatsError & { api_error?: { err_code?: number } })?.api_error?.err_code;
const predictionsPrefix = subjects.tel.predictions('');
/** KV bucket of open drift windows: key `<model>.<version>` → stream sequence of the window's first record. */
const WINDOWS_BUCKET = 'MLP_MONITORING_WINDOWS';

/**
 * Telemetry from stream MLP_TELEMETRY through one durable pull consumer
 * (`durable`, filter `mlp.tel.>`: nats-server 2.9 takes a single filter
 * subject), acked after the handler: a restart resumes after the last
 * acked record. The first record of every open drift window is kept in the
 * KV bucket MLP_MONITORING_WINDOWS, and `restore` replays each open window
 * from there before consuming, so a restart (or kill -9) loses no window.
 * Creates the stream like serving does when monitoring starts first.
 */
export class JetStreamTelemetrySource implements TelemetrySource {
  readonly kind = 'jetstream';
  readonly resumes = true;
  invalid = 0;
  private messages?: ConsumerMessages;
  private loop?: Promise<void>;
  private closed = false;
  private markCaughtUp!: () => void;
  readonly caughtUp = new Promise<void>((r) => (this.markCaughtUp = r));

  readonly checkpoints: WindowCheckpoints;

  private constructor(
    private readonly nc: NatsConnection,
    private readonly durable: string,
    private readonly windows: KV,
    private readonly logger?: Logger,
  ) {
    this.checkpoints = {
      opened: async (model, version, seq) => void (await windows.put(`${model}.${version}`, String(seq))),
      closed: (model, version) => windows.delete(`${model}.${version}`),
    };
  }

  static async connect(url: string, options: { durable?: string; logger?: Logger; auth?: NatsAuth } = {}): Promise<JetStreamTelemetrySource> {
    const nc = await connect({ servers: url.split(','), name: 'mlp-monitoring-telemetry', maxReconnectAttempts: -1, ...options.auth });
    const durable = options.durable ?? 'monitoring-telemetry';
    try {
      const jsm = await nc.jetstreamManager();
      const stream = telemetryStream.stream;
      await jsm.streams.info(stream).catch(async (err: unknown) => {
        if (apiErrorCode(err) !== STREAM_NOT_FOUND) throw err;
        await jsm.streams
          .add({ name: stream, subjects: [subjects.tel.all], storage: StorageType.File, max_age: nanos(telemetryStream.maxAgeDays * 86_400_000) })
          .catch(() => jsm.streams.info(stream)); // created by serving meanwhile
      });
      await jsm.consumers.info(stream, durable).catch(async (err: unknown) => {
        if (apiErrorCode(err) !== CONSUMER_NOT_FOUND) throw err;
        await jsm.consumers.add(stream, { durable_name: durable, ack_policy: AckPolicy.Explicit, deliver_policy: DeliverPolicy.All, filter_subject: subjects.tel.all, ack_wait: nanos(60_000) });
      });
      const windows = await nc.jetstream().views.kv(WINDOWS_BUCKET, { history: 1 });
      return new JetStreamTelemetrySource(nc, durable, windows, options.logger);
    } catch (err) {
      await nc.close();
      throw new InfrastructureError(`cannot set up the telemetry consumer on ${url}: ${(err as Error).message}`, { cause: err });
    }
  }

  async restore(feed: (record: PredictionTelemetry) => Promise<void>, stillOpen: (model: string, version: number) => boolean): Promise<number> {
    const js = this.nc.jetstream();
    const info = await (await js.consumers.get(telemetryStream.stream, this.durable)).info();
    const floor = info.ack_floor.stream_seq;
    let replayed = 0;
    // Every key first: the lister stops early when other JetStream work runs between its yields (only the first window was rebuilt).
    const keys: string[] = [];
    for await (const key of await this.windows.keys()) keys.push(key);
    for (const key of keys) {
      const entry = await this.windows.get(key);
      const dot = key.lastIndexOf('.');
      const [model, version, first] = [key.slice(0, dot), Number(key.slice(dot + 1)), Number(entry?.string())];
      if (!entry || !Number.isInteger(first) || first < 1 || first > floor) continue;
      const ordered = await js.consumers.get(telemetryStream.stream, { filterSubjects: subjects.tel.predictions(model), opt_start_seq: first });
      if ((await ordered.info()).num_pending === 0) continue; // expired from the stream meanwhile
      const messages = await ordered.consume({ max_messages: 512 });
      for await (const m of messages) {
        if (m.seq > floor) break;
        const p = predictionTelemetrySchema.safeParse(m.json<unknown>());
        if (p.success && p.data.version === version) {
          await feed(p.data);
          replayed++;
          if (!stillOpen(model, version)) break; // it closed: the records after it belong to windows of their own
        }
        if (m.info.pending === 0) break;
      }
      await messages.close();
    }
    return replayed;
  }

  async replayAcked(feed: TelemetryHandler, maxRecords: number): Promise<number> {
    const js = this.nc.jetstream();
    const floor = (await (await js.consumers.get(telemetryStream.stream, this.durable)).info()).ack_floor.stream_seq;
    if (floor === 0 || maxRecords <= 0) return 0;
    const ordered = await js.consumers.get(telemetryStream.stream, { filterSubjects: subjects.tel.all, opt_start_seq: Math.max(1, floor - maxRecords + 1) });
    if ((await ordered.info()).num_pending === 0) return 0;
    const messages = await ordered.consume({ max_messages: 512 });
    let replayed = 0;
    for await (const m of messages) {
      if (m.seq > floor) break;
      // Invalid records were counted when first consumed.
      const item = m.subject.startsWith(predictionsPrefix) ? parsePrediction(m.json<unknown>()) : parseFeedback(m.json<unknown>());
      if (item) {
        item.seq = m.seq;
        await feed(item);
        replayed++;
      }
      if (m.info.pending === 0) break;
    }
    await messages.close();
    return replayed;
  }

  async start(handler: TelemetryHandler): Promise<void> {
    const consumer = await this.nc.jetstream().consumers.get(telemetryStream.stream, this.durable);
    this.messages = await consumer.consume({ max_messages: 512 });
    this.loop = (async () => {
      for await (const m of this.messages!) {
        if (this.closed) break;
        const item = this.parse(m.subject, m.json<unknown>());
        if (item) item.seq = m.seq;
        if (item) {
          try {
            await handler(item);
          } catch (err) {
            this.logger?.error({ err, subject: m.subject, seq: m.seq }, 'telemetry record failed; JetStream delivers it again');
            m.nak(1_000);
            continue;
          }
        }
        m.ack();
        if (m.info.pending === 0) this.markCaughtUp();
      }
    })();
    const info = await consumer.info();
    if (info.num_pending === 0 && info.num_ack_pending === 0) this.markCaughtUp();
  }

  private parse(subject: string, body: unknown): TelemetryRecord | undefined {
    const item = subject.startsWith(predictionsPrefix) ? parsePrediction(body) : parseFeedback(body);
    if (!item) this.invalid++;
    return item;
  }

  async close(): Promise<void> {
    this.closed = true;
    this.messages?.stop();
    await this.loop?.catch(() => undefined);
    await this.nc.drain().catch(() => undefined);
  }
}
