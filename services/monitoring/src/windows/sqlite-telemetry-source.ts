import Database from 'better-sqlite3';
import { telemetryStream } from '@mlp/contracts';
import type { Logger } from '@mlp/service-kit';
import { parseFeedback, parsePrediction, type TelemetryHandler, type TelemetryRecord, type TelemetrySource } from './telemetry-source';

const PAGE = 1_000;

/**
 * Embedded mode: tails serving's SQLite telemetry tables (read-only) by their
 * `seq`, predictions before feedback in each poll. It starts from the first
 * row on every start: monitoring's events have ids derived from their
 * windows, so re-reading appends nothing twice.
 */
export class SqliteTelemetrySource implements TelemetrySource {
  readonly kind = 'sqlite';
  readonly resumes = false;
  invalid = 0;
  private db?: Database.Database;
  private timer?: NodeJS.Timeout;
  private closed = false;
  private running: Promise<void> = Promise.resolve();
  private seq = { predictions: 0, feedback: 0 };
  private markCaughtUp!: () => void;
  readonly caughtUp = new Promise<void>((r) => (this.markCaughtUp = r));

  constructor(
    private readonly file: string,
    private readonly options: { pollMs?: number; logger?: Logger } = {},
  ) {}

  async start(handler: TelemetryHandler): Promise<void> {
    const tick = async () => {
      try {
        const moved = (await this.poll(handler)) > 0;
        if (!moved) this.markCaughtUp();
        if (moved && !this.closed) return tick();
      } catch (err) {
        this.options.logger?.error({ err }, 'reading telemetry from SQLite failed; retrying');
      }
      if (!this.closed) this.timer = setTimeout(() => (this.running = tick()), this.options.pollMs ?? 500);
    };
    this.running = tick();
  }

  /** One page of each table; how many rows it read. */
  private async poll(handler: TelemetryHandler): Promise<number> {
    const db = this.open();
    if (!db) return 0;
    const { predictions, feedback } = telemetryStream.sqlite;
    let read = 0;
    for (const [table, key] of [[predictions, 'predictions'], [feedback, 'feedback']] as const) {
      const rows = db.prepare(`SELECT * FROM ${table} WHERE seq > ? ORDER BY seq LIMIT ?`).all(this.seq[key], PAGE) as Record<string, unknown>[];
      for (const r of rows) {
        if (this.closed) return read;
        const item = key === 'predictions' ? parsePrediction(predictionOf(r)) : parseFeedback(feedbackOf(r));
        if (item) await handler(item as TelemetryRecord);
        else this.invalid++;
        this.seq[key] = r.seq as number;
        read++;
      }
    }
    return read;
  }

  /** The database once serving has created it (undefined before). */
  private open(): Database.Database | undefined {
    if (this.db) return this.db;
    try {
      this.db = new Database(this.file, { fileMustExist: true });
      this.db.pragma('busy_timeout = 5000');
      this.db.prepare(`SELECT 1 FROM ${telemetryStream.sqlite.feedback} LIMIT 1`).all();
      return this.db;
    } catch {
      this.db?.close();
      this.db = undefined;
      return undefined;
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    await this.running.catch(() => undefined);
    this.db?.close();
  }
}

const json = (v: unknown): unknown => (typeof v === 'string' ? JSON.parse(v) : undefined);

function predictionOf(r: Record<string, unknown>): unknown {
  return {
    requestId: r.request_id,
    row: r.row,
    model: r.model,
    version: r.version,
    arm: r.arm,
    instance: r.instance,
    at: r.at,
    features: json(r.features),
    prediction: json(r.prediction),
    ...(r.probabilities ? { probabilities: json(r.probabilities) } : {}),
    latencyMs: r.latency_ms,
    ...(r.key_hash ? { keyHash: r.key_hash } : {}),
  };
}

function feedbackOf(r: Record<string, unknown>): unknown {
  return { requestId: r.request_id, row: r.row, model: r.model, label: json(r.label), at: r.at };
}
