import { mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import Database from 'better-sqlite3';
import { connect, nanos, StorageType, type JetStreamClient, type NatsConnection } from 'nats';
import type { NatsAuth } from '@mlp/messaging';
import { InfrastructureError, subjects, telemetryStream, type FeedbackTelemetry, type PredictionTelemetry } from '@mlp/contracts';
import { predictionRecords, type PredictionEntry } from './prediction-entry';

/** Where telemetry lands: a JetStream stream (distributed) or a SQLite table (embedded). Never the event store. */
export interface TelemetrySink {
  readonly kind: string;
  /** Writes one record per row of each request. */
  writePredictions(entries: readonly PredictionEntry[]): Promise<void>;
  writeFeedback(records: readonly FeedbackTelemetry[]): Promise<void>;
  /** The model a request went to, when the sink can say (SQLite); undefined otherwise. */
  modelOfRequest(requestId: string): Promise<string | undefined>;
  close(): Promise<void>;
}

/** Embedded: `<MLP_HOME>/telemetry.db`, tables `prediction_telemetry` and `feedback_telemetry` (WAL; one transaction per batch). */
export class SqliteTelemetrySink implements TelemetrySink {
  readonly kind = 'sqlite';
  private readonly db: Database.Database;
  private readonly insertPrediction: Database.Statement;
  private readonly insertFeedback: Database.Statement;
  private readonly findModel: Database.Statement;

  constructor(file: string) {
    mkdirSync(dirname(resolve(file)), { recursive: true });
    this.db = new Database(file);
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('synchronous = NORMAL');
    this.db.pragma('busy_timeout = 5000');
    const { predictions, feedback } = telemetryStream.sqlite;
    this.db.exec(`
      CREATE TABLE IF NOT EXISTS ${predictions} (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        request_id TEXT NOT NULL, row INTEGER NOT NULL, model TEXT NOT NULL, version INTEGER NOT NULL,
        arm TEXT NOT NULL, instance TEXT NOT NULL, at TEXT NOT NULL, features TEXT NOT NULL,
        prediction TEXT NOT NULL, probabilities TEXT, latency_ms REAL NOT NULL, key_hash TEXT
      );
      CREATE INDEX IF NOT EXISTS ${predictions}_request ON ${predictions}(request_id);
      CREATE INDEX IF NOT EXISTS ${predictions}_model ON ${predictions}(model, version, seq);
      CREATE TABLE IF NOT EXISTS ${feedback} (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        request_id TEXT NOT NULL, row INTEGER NOT NULL, model TEXT NOT NULL, label TEXT NOT NULL, at TEXT NOT NULL
      );
      CREATE INDEX IF NOT EXISTS ${feedback}_request ON ${feedback}(request_id);
    `);
    this.insertPrediction = this.db.prepare(
      `INSERT INTO ${predictions} (request_id, row, model, version, arm, instance, at, features, prediction, probabilities, latency_ms, key_hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    this.insertFeedback = this.db.prepare(`INSERT INTO ${feedback} (request_id, row, model, label, at) VALUES (?, ?, ?, ?, ?)`);
    this.findModel = this.db.prepare(`SELECT model FROM ${predictions} WHERE request_id = ? LIMIT 1`);
  }

  async writePredictions(entries: readonly PredictionEntry[]): Promise<void> {
    this.db.transaction(() => {
      for (const e of entries) {
        for (const r of predictionRecords(e)) {
          this.insertPrediction.run(
            r.requestId, r.row, r.model, r.version, r.arm, r.instance, r.at, JSON.stringify(r.features),
            JSON.stringify(r.prediction), r.probabilities ? JSON.stringify(r.probabilities) : null, r.latencyMs, r.keyHash ?? null,
          );
        }
      }
    })();
  }

  async writeFeedback(records: readonly FeedbackTelemetry[]): Promise<void> {
    this.db.transaction(() => {
      for (const r of records) this.insertFeedback.run(r.requestId, r.row, r.model, JSON.stringify(r.label), r.at);
    })();
  }

  async modelOfRequest(requestId: string): Promise<string | undefined> {
    return (this.findModel.get(requestId) as { model: string } | undefined)?.model;
  }

  /** For tests and monitoring: the stored predictions, oldest first. */
  predictions(limit = 10_000): PredictionTelemetry[] {
    const rows = this.db.prepare(`SELECT * FROM ${telemetryStream.sqlite.predictions} ORDER BY seq LIMIT ?`).all(limit) as Record<string, unknown>[];
    return rows.map((r) => ({
      requestId: r.request_id as string,
      row: r.row as number,
      model: r.model as string,
      version: r.version as number,
      arm: r.arm as string,
      instance: r.instance as string,
      at: r.at as string,
      features: JSON.parse(r.features as string) as PredictionTelemetry['features'],
      prediction: JSON.parse(r.prediction as string) as PredictionTelemetry['prediction'],
      ...(r.probabilities ? { probabilities: JSON.parse(r.probabilities as string) as number[] } : {}),
      latencyMs: r.latency_ms as number,
      ...(r.key_hash ? { keyHash: r.key_hash as string } : {}),
    }));
  }

  feedback(limit = 10_000): FeedbackTelemetry[] {
    const rows = this.db.prepare(`SELECT * FROM ${telemetryStream.sqlite.feedback} ORDER BY seq LIMIT ?`).all(limit) as Record<string, unknown>[];
    return rows.map((r) => ({ requestId: r.request_id as string, row: r.row as number, model: r.model as string, label: JSON.parse(r.label as string) as FeedbackTelemetry['label'], at: r.at as string }));
  }

  async close(): Promise<void> {
    this.db.close();
  }
}

/** Distributed: stream MLP_TELEMETRY (`mlp.tel.>`, file storage, 30 days), one message per record. */
export class JetStreamTelemetrySink implements TelemetrySink {
  readonly kind = 'jetstream';

  private constructor(
    private readonly nc: NatsConnection,
    private readonly js: JetStreamClient,
  ) {}

  static async connect(url: string, name: string, auth: NatsAuth = {}): Promise<JetStreamTelemetrySink> {
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
      return new JetStreamTelemetrySink(nc, nc.jetstream());
    } catch (err) {
      await nc.close();
      throw err;
    }
  }

  async writePredictions(entries: readonly PredictionEntry[]): Promise<void> {
    await Promise.all(entries.flatMap(predictionRecords).map((r) => this.js.publish(subjects.tel.predictions(r.model), JSON.stringify(r), { msgID: `${r.requestId}:${r.row}:${r.arm}` })));
  }

  async writeFeedback(records: readonly FeedbackTelemetry[]): Promise<void> {
    await Promise.all(records.map((r) => this.js.publish(subjects.tel.feedback(r.model), JSON.stringify(r))));
  }

  async modelOfRequest(): Promise<string | undefined> {
    return undefined;
  }

  async close(): Promise<void> {
    await this.nc.drain();
  }
}

/** Telemetry turned off (MLP_SERVING_TELEMETRY=off). */
export class NullTelemetrySink implements TelemetrySink {
  readonly kind = 'off';
  async writePredictions(): Promise<void> {
    return undefined;
  }
  async writeFeedback(): Promise<void> {
    return undefined;
  }
  async modelOfRequest(): Promise<string | undefined> {
    return undefined;
  }
  async close(): Promise<void> {
    return undefined;
  }
}
