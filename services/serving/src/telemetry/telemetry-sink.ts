import { mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import Database from 'better-sqlite3';
import { telemetryStream, type FeedbackTelemetry, type PredictionTelemetry } from '@mlp/contracts';
import { forEachPacked, packPredictions, type PackedPredictions } from './packed-predictions';
import { cellJson, encodedKeys, numbersJson, type PredictionEntry } from './prediction-entry';

export { JetStreamTelemetrySink } from './jetstream-telemetry-sink';

/** Where telemetry lands: a JetStream stream (distributed) or a SQLite table (embedded). Never the event store. */
export interface TelemetrySink {
  readonly kind: string;
  /** Writes one record per row of each request. */
  writePredictions(entries: readonly PredictionEntry[]): Promise<void>;
  writeFeedback(records: readonly FeedbackTelemetry[]): Promise<void>;
  /** The model a request went to, when the sink can say (SQLite); undefined otherwise. */
  modelOfRequest(requestId: string): Promise<string | undefined>;
  close(): Promise<void>;
  /** True when `modelOfRequest` finds every written request (then the publisher keeps no request-id map). */
  readonly findsRequests?: boolean;
  /** Told of records the sink itself drops (set by the publisher, which counts them). */
  onDropped?: (n: number) => void;
}

/** Prediction rows per multi-row INSERT, and the columns each binds. */
const ROWS_PER_INSERT = 64;
const COLUMNS = 12;

/** Embedded: `<MLP_HOME>/telemetry.db`, tables `prediction_telemetry` and `feedback_telemetry` (WAL; one transaction per batch). */
export class SqliteTelemetrySink implements TelemetrySink {
  readonly kind = 'sqlite';
  readonly findsRequests = true;
  private readonly db: Database.Database;
  private readonly insertPrediction: Database.Statement;
  /** ROWS_PER_INSERT rows per statement: a third less CPU per row than one statement a row. */
  private readonly insertPredictions: Database.Statement;
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
    const insert = (rows: number) =>
      this.db.prepare(
        `INSERT INTO ${predictions} (request_id, row, model, version, arm, instance, at, features, prediction, probabilities, latency_ms, key_hash) VALUES ${new Array(rows).fill('(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)').join(', ')}`,
      );
    this.insertPrediction = insert(1);
    this.insertPredictions = insert(ROWS_PER_INSERT);
    this.insertFeedback = this.db.prepare(`INSERT INTO ${feedback} (request_id, row, model, label, at) VALUES (?, ?, ?, ?, ?)`);
    this.findModel = this.db.prepare(`SELECT model FROM ${predictions} WHERE request_id = ? LIMIT 1`);
  }

  async writePredictions(entries: readonly PredictionEntry[]): Promise<void> {
    this.writePacked(packPredictions(entries));
  }

  /** The rows of a packed flush, in one transaction; per request the shared values once, per row its JSON, no record object. */
  writePacked(packed: PackedPredictions): void {
    const values: unknown[] = [];
    // Requests of a flush share their millisecond and column list with their neighbours: each is encoded once per run of them.
    let lastAt = NaN;
    let at = '';
    let lastColumns: readonly string[] | undefined;
    let keys: string[] = [];
    this.db.transaction(() => {
      forEachPacked(packed, (q) => {
        if (q.at !== lastAt) at = new Date((lastAt = q.at)).toISOString();
        if (q.columns !== lastColumns) keys = encodedKeys((lastColumns = q.columns));
        for (let r = 0; r < q.n; r++) {
          let features = keys.length === 0 ? '{' : '';
          for (let c = 0; c < keys.length; c++) features += keys[c] + cellJson(q.cell(c, r) ?? null);
          const p = q.probabilities(r);
          values.push(q.requestId, r, q.model, q.version, q.arm, q.instance, at, `${features}}`, cellJson(q.prediction(r) ?? null), p ? numbersJson(p) : null, q.latencyMs, q.keyHash);
          if (values.length === ROWS_PER_INSERT * COLUMNS) {
            this.insertPredictions.run(values);
            values.length = 0;
          }
        }
      });
      for (let i = 0; i < values.length; i += COLUMNS) this.insertPrediction.run(values.slice(i, i + COLUMNS));
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
