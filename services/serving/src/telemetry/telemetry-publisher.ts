import type { FeedbackTelemetry } from '@mlp/contracts';
import type { Logger } from '@mlp/service-kit';
import type { PredictionEntry } from './prediction-entry';
import type { TelemetrySink } from './telemetry-sink';

export interface TelemetryPublisherOptions {
  /** Fraction of requests whose predictions are published. */
  sample: number;
  /** Rows buffered at most; past it new requests' rows are dropped and counted (never block a request). */
  maxBuffer?: number;
  /** Flush period, and the buffered rows that flush early. */
  flushMs?: number;
  flushRecords?: number;
  onDropped?: (n: number) => void;
}

/** Request ids remembered per generation (the last 50,000 to 100,000 are known). */
const RECENT = 50_000;

/**
 * Off the hot path: a request only pushes one entry (references to its
 * columns and outputs) into a bounded buffer; a timer hands the buffer to
 * the sink in batches, and the sink makes the per-row records. A slow or failing sink
 * costs dropped telemetry (counted and logged once per flush), never latency.
 * Remembers recent request ids → model so feedback can find its subject.
 */
export class TelemetryPublisher {
  private predictions: PredictionEntry[] = [];
  private predictionRows = 0;
  /** Rows handed to the sink and not yet written: a slow sink holds them, so they count against maxBuffer too. */
  private writingRows = 0;
  private feedback: FeedbackTelemetry[] = [];
  private timer?: NodeJS.Timeout;
  private flushing: Promise<void> = Promise.resolve();
  /** Request id → model, in two generations of up to RECENT ids each: no per-request delete or iterator. */
  private recent = new Map<string, string>();
  private older = new Map<string, string>();
  private readonly maxBuffer: number;
  private readonly flushMs: number;
  private readonly flushRecords: number;
  dropped = 0;
  private current!: TelemetrySink;

  constructor(
    sink: TelemetrySink,
    private readonly options: TelemetryPublisherOptions,
    private readonly logger?: Logger,
  ) {
    this.sink = sink;
    this.maxBuffer = options.maxBuffer ?? 100_000;
    this.flushMs = options.flushMs ?? 250;
    this.flushRecords = options.flushRecords ?? 2_000;
  }

  get sink(): TelemetrySink {
    return this.current;
  }

  /** The sink in use; records it drops itself (a JetStream backlog past its bound) are counted here too. */
  set sink(sink: TelemetrySink) {
    this.current = sink;
    sink.onDropped = (n) => this.countDropped(n);
  }

  private countDropped(n: number): void {
    this.dropped += n;
    this.options.onDropped?.(n);
  }

  /** Whether this request's predictions are published (decided once per request). */
  sampled(): boolean {
    return this.options.sample >= 1 || (this.options.sample > 0 && Math.random() < this.options.sample);
  }

  remember(requestId: string, model: string): void {
    if (this.recent.size >= RECENT) {
      this.older = this.recent;
      this.recent = new Map();
    }
    this.recent.set(requestId, model);
  }

  async modelOf(requestId: string): Promise<string | undefined> {
    const known = this.recent.get(requestId) ?? this.older.get(requestId);
    if (known) return known;
    await this.flush();
    return this.sink.modelOfRequest(requestId);
  }

  /** Buffers the telemetry of one request (all its rows, or none when the buffer is full). */
  publishPrediction(entry: PredictionEntry): void {
    // Feedback finds the model of a request here, unless the sink can look it up (SQLite): then no per-request map entry.
    if (!this.current.findsRequests) this.remember(entry.requestId, entry.model);
    if (this.current.kind === 'off') return;
    if (this.predictionRows + this.writingRows + entry.n > this.maxBuffer) {
      this.countDropped(entry.n);
      return;
    }
    this.predictions.push(entry);
    this.predictionRows += entry.n;
    this.arm();
  }

  publishFeedback(records: FeedbackTelemetry[]): void {
    for (const r of records) this.feedback.push(r);
    this.arm();
  }

  private arm(): void {
    if (this.predictionRows + this.feedback.length >= this.flushRecords) {
      void this.flush();
      return;
    }
    if (!this.timer) {
      this.timer = setTimeout(() => void this.flush(), this.flushMs);
      this.timer.unref();
    }
  }

  /** Writes what is buffered; resolves when it is written (or failed and was dropped). */
  flush(): Promise<void> {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    const predictions = this.predictions;
    const rows = this.predictionRows;
    const feedback = this.feedback;
    this.predictions = [];
    this.predictionRows = 0;
    this.feedback = [];
    this.writingRows += rows;
    this.flushing = this.flushing.then(async () => {
      try {
        if (predictions.length) await this.sink.writePredictions(predictions);
        if (feedback.length) await this.sink.writeFeedback(feedback);
      } catch (err) {
        this.countDropped(rows + feedback.length);
        this.logger?.warn({ err, predictions: rows, feedback: feedback.length, sink: this.sink.kind }, 'telemetry batch dropped');
      } finally {
        this.writingRows -= rows;
      }
    });
    return this.flushing;
  }

  async close(): Promise<void> {
    await this.flush();
    await this.sink.close();
  }
}
