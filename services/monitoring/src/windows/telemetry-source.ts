import { feedbackTelemetrySchema, predictionTelemetrySchema, type FeedbackTelemetry, type PredictionTelemetry } from '@mlp/contracts';

export type TelemetryRecord = { kind: 'prediction'; record: PredictionTelemetry } | { kind: 'feedback'; record: FeedbackTelemetry };

/** Called once per record, in stream order; the source moves on (acks) only after it resolves. */
export type TelemetryHandler = (item: TelemetryRecord) => Promise<void>;

/**
 * Where monitoring reads serving's telemetry: the MLP_TELEMETRY JetStream
 * stream (distributed) or the SQLite tables (embedded). Records that fail
 * their schema are skipped by the source (counted), never handed on.
 */
export interface TelemetrySource {
  readonly kind: string;
  start(handler: TelemetryHandler): Promise<void>;
  /** Resolves once every record stored when start() was called has been handled. */
  readonly caughtUp: Promise<void>;
  invalid: number;
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
