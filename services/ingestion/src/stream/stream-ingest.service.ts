import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Inject, Injectable, type OnApplicationBootstrap, type OnModuleDestroy } from '@nestjs/common';
import {
  AckPolicy,
  connect,
  DeliverPolicy,
  nanos,
  StorageType,
  type Consumer,
  type ConsumerConfig,
  type JetStreamManager,
  type JsMsg,
  type NatsConnection,
  type NatsError,
} from 'nats';
import { InfrastructureError, streamConsumerName, streamSourceUri, subjects, type IngestionOutcome } from '@mlp/contracts';
import { natsAuth, natsServers } from '@mlp/messaging';
import { commandMetadata, SERVICE_CONFIG, SERVICE_LOGGER, type BaseConfig, type Logger } from '@mlp/service-kit';
import { IngestionJobsService } from '../jobs/ingestion-jobs.service';
import { STREAM_CONFIG, streamIngestEnabled, type StreamConfig } from './stream-config';
import { messageLines, StreamBatch } from './stream-batch';

/** Messages per pull request. */
const FETCH_MAX = 1000;
/** Longest wait of one pull request: bounds how long a stop waits. */
const FETCH_EXPIRES_MS = 2000;
const MAX_BACKOFF_MS = 30_000;

const isNotFound = (err: unknown): boolean => {
  const e = err as NatsError & { api_error?: { code?: number } };
  return e?.code === '404' || e?.api_error?.code === 404 || /not found/i.test(e?.message ?? '');
};
const settled = (o: IngestionOutcome): boolean => o.status === 'accepted' || o.status === 'rejected' || o.status === 'duplicate';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Streaming ingestion from JetStream stream MLP_DATA: one durable pull
 * consumer per dataset (`ingest-<dataset>`, filtered on `mlp.data.<dataset>`)
 * and one loop that gathers messages into micro-batches and stores each batch
 * as one dataset version (flush by row count or age).
 *
 * Exactly once, across crashes: a batch is acked only after its version is
 * stored, and the version records the stream sequences it covers. Before each
 * flush the highest recorded sequence is read back; messages at or below it
 * are already stored and are acked without ingesting (killed after storing,
 * before acking). Messages never stored are redelivered after `ack_wait`
 * (killed before storing). A batch is flushed only when every message the
 * consumer has outstanding is in it: after a restart new messages can arrive
 * before the redeliveries of older ones, and storing them first would put the
 * recorded sequence above messages not yet stored. This needs one active
 * ingester per dataset: spread datasets over replicas with MLP_STREAM_DATASETS.
 */
@Injectable()
export class StreamIngestService implements OnApplicationBootstrap, OnModuleDestroy {
  private nc?: NatsConnection;
  private readonly ingesters: DatasetIngester[] = [];
  private loops: Promise<void>[] = [];

  constructor(
    private readonly jobs: IngestionJobsService,
    @Inject(STREAM_CONFIG) private readonly config: StreamConfig,
    @Inject(SERVICE_CONFIG) private readonly base: BaseConfig,
    @Inject(SERVICE_LOGGER) private readonly logger: Logger,
  ) {}

  get enabled(): boolean {
    return streamIngestEnabled(this.config, this.base.MLP_TRANSPORT);
  }

  async onApplicationBootstrap(): Promise<void> {
    if (!this.enabled) return;
    const servers = natsServers(this.base);
    try {
      this.nc = await connect({ servers, name: 'mlp-ingestion-stream', maxReconnectAttempts: -1, ...natsAuth(this.base) });
    } catch (cause) {
      throw new InfrastructureError(`stream ingestion cannot connect to NATS at ${servers.join(',')} (NATS_URL): ${(cause as Error).message}`, { cause });
    }
    const jsm = await this.nc.jetstreamManager();
    const created = await ensureDataStream(jsm);
    const js = this.nc.jetstream();
    for (const dataset of this.config.MLP_STREAM_DATASETS) {
      await ensureConsumer(jsm, dataset, this.config);
      const consumer = await js.consumers.get(subjects.data.stream, streamConsumerName(dataset));
      this.ingesters.push(new DatasetIngester(dataset, this.nc, jsm, consumer, created, this.jobs, this.config, this.logger));
    }
    this.loops = this.ingesters.map((i) => i.run());
    this.logger.info({ datasets: this.config.MLP_STREAM_DATASETS, stream: subjects.data.stream }, 'stream ingestion started');
  }

  /** Stop fetching, flush what is pending (acked once stored), then drain the connection. */
  async onModuleDestroy(): Promise<void> {
    for (const i of this.ingesters) i.stop();
    await Promise.allSettled(this.loops);
    await this.nc?.drain().catch((err: unknown) => this.logger.warn({ err }, 'NATS drain failed'));
  }
}

/** Creates stream MLP_DATA (`mlp.data.>`, file storage) when missing; returns its creation time (ms). */
async function ensureDataStream(jsm: JetStreamManager): Promise<number> {
  const name = subjects.data.stream;
  try {
    return Date.parse((await jsm.streams.info(name)).created);
  } catch (err) {
    if (!isNotFound(err)) throw new InfrastructureError(`cannot read JetStream stream ${name}`, { cause: err });
  }
  try {
    return Date.parse((await jsm.streams.add({ name, subjects: [subjects.data.all], storage: StorageType.File })).created);
  } catch (cause) {
    // Another replica may have created it meanwhile.
    const info = await jsm.streams.info(name).catch(() => {
      throw new InfrastructureError(`cannot create JetStream stream ${name}`, { cause });
    });
    return Date.parse(info.created);
  }
}

async function ensureConsumer(jsm: JetStreamManager, dataset: string, config: StreamConfig): Promise<void> {
  const stream = subjects.data.stream;
  const name = streamConsumerName(dataset);
  const filter = subjects.data.forDataset(dataset);
  const wanted: Partial<ConsumerConfig> = {
    ack_wait: nanos(config.MLP_STREAM_ACK_WAIT_MS),
    // Messages, not rows: a batch never holds more messages than rows.
    max_ack_pending: Math.max(2 * config.MLP_STREAM_FLUSH_ROWS, FETCH_MAX),
    max_deliver: -1,
  };
  try {
    const info = await jsm.consumers.info(stream, name);
    if (info.config.filter_subject !== filter) {
      throw new InfrastructureError(`consumer ${name} on ${stream} filters '${info.config.filter_subject}', expected '${filter}': delete it or rename the dataset`);
    }
    if (info.config.ack_wait !== wanted.ack_wait || info.config.max_ack_pending !== wanted.max_ack_pending) {
      await jsm.consumers.update(stream, name, { ...info.config, ...wanted });
    }
  } catch (err) {
    if (!isNotFound(err)) throw err instanceof InfrastructureError ? err : new InfrastructureError(`cannot read consumer ${name}`, { cause: err });
    await jsm.consumers.add(stream, {
      ...wanted,
      durable_name: name,
      filter_subject: filter,
      ack_policy: AckPolicy.Explicit,
      deliver_policy: DeliverPolicy.All,
    });
  }
}

/** The fetch → batch → flush → ack loop of one dataset. */
class DatasetIngester {
  private readonly batch = new StreamBatch<JsMsg>();
  private readonly subject: string;
  private stopping = false;
  /** Highest stream sequence known to be in a stored version. */
  private floor = 0;
  private failures = 0;
  private notBefore = 0;
  private waitingSince: number | null = null;

  constructor(
    private readonly dataset: string,
    private readonly nc: NatsConnection,
    private readonly jsm: JetStreamManager,
    private readonly consumer: Consumer,
    /** Creation time of the stream: versions older than it cover another stream's sequences. */
    private readonly streamCreated: number,
    private readonly jobs: IngestionJobsService,
    private readonly config: StreamConfig,
    private readonly logger: Logger,
  ) {
    this.subject = subjects.data.forDataset(dataset);
  }

  stop(): void {
    this.stopping = true;
  }

  async run(): Promise<void> {
    this.floor = this.storedLast();
    let errors = 0;
    while (!this.stopping) {
      try {
        if (this.due()) await this.flush();
        await this.fetch();
        errors = 0;
      } catch (err) {
        errors++;
        this.logger.warn({ err, dataset: this.dataset }, 'stream ingestion error; retrying');
        await sleep(Math.min(500 * 2 ** errors, MAX_BACKOFF_MS));
        // The consumer may have been deleted under us: recreate it (recorded sequences keep it exactly once).
        await ensureConsumer(this.jsm, this.dataset, this.config).catch(() => undefined);
      }
    }
    if (this.batch.messages > 0) {
      // What cannot be stored now stays unacked: it is redelivered to the next run.
      await this.flush().catch((err: unknown) => this.logger.warn({ err, dataset: this.dataset }, 'final flush failed; messages will be redelivered'));
    }
  }

  private due(now = Date.now()): boolean {
    if (this.batch.messages === 0 || now < this.notBefore) return false;
    return this.batch.rows >= this.config.MLP_STREAM_FLUSH_ROWS || now - this.batch.firstAt! >= this.config.MLP_STREAM_FLUSH_MS;
  }

  private async fetch(): Promise<void> {
    const left = this.batch.firstAt === null ? FETCH_EXPIRES_MS : this.batch.firstAt + this.config.MLP_STREAM_FLUSH_MS - Date.now();
    const expires = Math.max(1000, Math.min(FETCH_EXPIRES_MS, left));
    const messages = await this.consumer.fetch({ max_messages: FETCH_MAX, expires });
    for await (const m of messages) this.receive(m);
  }

  private receive(m: JsMsg): void {
    const seq = m.info.streamSequence;
    if (seq <= this.floor) {
      // Already in a stored version (its ack was lost, or the consumer was reset).
      m.ack();
      return;
    }
    this.batch.add(seq, m, () => messageLines(m.data));
  }

  /** Stores the batch as one version and acks it; returns false when it has to wait. */
  private async flush(): Promise<boolean> {
    await this.nc.flush(); // acks sent so far reach the server before we count what is outstanding
    const info = await this.consumer.info();
    if (info.num_ack_pending > this.batch.messages) {
      const now = Date.now();
      this.waitingSince ??= now;
      if (now - this.waitingSince > 2 * this.config.MLP_STREAM_ACK_WAIT_MS) {
        this.logger.warn(
          { dataset: this.dataset, outstanding: info.num_ack_pending - this.batch.messages },
          'messages delivered earlier are still unacked: is another process consuming this dataset?',
        );
        this.waitingSince = now;
      }
      return false; // wait for their redelivery; storing this batch first could skip them
    }
    this.waitingSince = null;

    this.floor = Math.max(this.floor, this.storedLast());
    for (const m of this.batch.dropUpTo(this.floor)) m.ack();
    const plan = this.batch.plan(this.floor);
    if (!plan.range || plan.rows === 0) {
      for (const h of plan.keep) h.msg.ack();
      if (plan.range) this.floor = Math.max(this.floor, plan.range.last);
      await this.nc.flush();
      this.batch.clear();
      return true;
    }

    const dir = await mkdtemp(join(tmpdir(), `mlp-stream-${this.dataset}-`));
    let outcome: IngestionOutcome;
    try {
      const path = join(dir, 'batch.ndjson');
      await writeFile(path, Buffer.concat(plan.keep.flatMap((h) => h.lines.flatMap((l) => [l, NEWLINE]))));
      outcome = await this.jobs.ingest({
        dataset: this.dataset,
        source: { kind: 'stream', path, uri: streamSourceUri(this.subject), streamRange: plan.range },
        format: 'ndjson',
        meta: { ...commandMetadata(), actor: 'stream-ingest' },
      });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }

    if (!settled(outcome)) {
      this.failures++;
      const delay = Math.min(this.config.MLP_STREAM_FLUSH_MS * 2 ** (this.failures - 1), MAX_BACKOFF_MS);
      this.notBefore = Date.now() + delay;
      this.logger.warn({ dataset: this.dataset, error: outcome.error, retryInMs: delay, range: plan.range }, 'stream batch not stored; it stays unacked and is retried');
      return false;
    }
    // Stored: now, and only now, the messages may go.
    for (const h of plan.keep) h.msg.ack();
    await this.nc.flush();
    this.floor = Math.max(this.floor, plan.range.last);
    this.failures = 0;
    this.notBefore = 0;
    this.batch.clear();
    this.logger.info(
      { dataset: this.dataset, status: outcome.status, version: outcome.version ?? outcome.duplicateOf, rows: outcome.rows, quarantined: outcome.quarantined, range: plan.range },
      'stream batch stored',
    );
    return true;
  }

  /** Highest JetStream sequence recorded by a version of this dataset (read model), for the current stream. */
  private storedLast(): number {
    let last = 0;
    for (const v of this.jobs.datasets.get(this.dataset)?.versions ?? []) {
      if (v.streamRange && Date.parse(v.createdAt) >= this.streamCreated) last = Math.max(last, v.streamRange.last);
    }
    return last;
  }
}

const NEWLINE = Buffer.from('\n');
