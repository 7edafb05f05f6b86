import { feedbackTelemetrySchema, predictionTelemetrySchema, type FeedbackTelemetry, type PredictionTelemetry } from '@mlp/contracts';

/** `seq`: the record's position in its stream, where the source has one (JetStream). */
export type TelemetryRecord = { kind: 'prediction'; record: PredictionTelemetry; seq?: number } | { kind: 'feedback'; record: FeedbackTelemetry; seq?: number };

/**
 * Where a source remembers the first record of every open drift window, so
 * that a restart can rebuild the windows its acks had already let go of.
 */
export interface WindowCheckpoints {
  opened(model: string, version: number, seq: number): Promise<void>;
  closed(model: string, version: number): Promise<void>;
}

/** Called once per record, in stream order; the source moves on (acks) only after it resolves. */
export type TelemetryHandler = (item: TelemetryRecord) => Promise<void>;

/**
 * Where monitoring reads serving's telemetry: the MLP_TELEMETRY JetStream
 * stream (distributed) or the SQLite tables (embedded). Records that fail
 * their schema are skipped by the source (counted), never handed on.
 */
export interface TelemetrySource {
  readonly kind: string;
  /**
   * true: a restart resumes after the last acknowledged record (JetStream), so
   * counters must go on from the stored events; false: every start reads from
   * the first record (SQLite) and rebuilds them.
   */
  readonly resumes: boolean;
  start(handler: TelemetryHandler): Promise<void>;
  /** Resolves once every record stored when start() was called has been handled. */
  readonly caughtUp: Promise<void>;
  invalid: number;
  /** Sources that acknowledge records before their windows close keep window checkpoints. */
  readonly checkpoints?: WindowCheckpoints;
  /**
   * Before start(): feeds the records of every checkpointed open window again
   * (from its first record up to the last acknowledged one), one window at a
   * time, while `stillOpen` says that window has not closed.
   */
  restore?(feed: (record: PredictionTelemetry) => Promise<void>, stillOpen: (model: string, version: number) => boolean): Promise<number>;
  /**
   * Before start(), in sources that resume after their acks: feeds the last
   * `maxRecords` records up to the last acknowledged one, in stream order, so
   * the label join and performance windows are rebuilt.
   */
  replayAcked?(feed: TelemetryHandler, maxRecords: number): Promise<number>;
  close(): Promise<void>;
}

export function parsePrediction(body: unknown): TelemetryRecord | undefined {
  const p = predictionTelemetrySchema.safeParse(body);
  return p.success ? { kind: 'prediction', record: p.data } : undefined;
}

export function parseFeedback(body: unknown): TelemetryRecord | undefined {
  const p = feedbackTelemetrySchema.safeParse(body);
  return p.success ? { kind: 'feedback', record: p.data } : undefined;
}
