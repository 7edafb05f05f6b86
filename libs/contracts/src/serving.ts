import { z } from 'zod';
import { name } from './events/common';

/**
 * Serving's data plane vocabulary: the model references accepted on the wire,
 * and the telemetry it publishes (never aggregate events: stream
 * `MLP_TELEMETRY`, subjects `subjects.tel.predictions(model)` and
 * `subjects.tel.feedback(model)`; embedded mode keeps them in a SQLite table).
 */

/** `churn`, `churn@production` (an alias) or `churn:3` (a version). */
export type ModelRef = { name: string; alias?: string; version?: number };

const MODEL_REF = /^([A-Za-z0-9][A-Za-z0-9_-]{0,99})(?:@([A-Za-z][A-Za-z0-9_-]{0,99})|:([1-9][0-9]{0,8}))?$/;

/** Parses `name`, `name@alias` or `name:version`; undefined when it is none of them. */
export function parseModelRef(ref: string): ModelRef | undefined {
  const m = MODEL_REF.exec(ref);
  if (!m) return undefined;
  if (m[2] !== undefined) return { name: m[1], alias: m[2] };
  if (m[3] !== undefined) return { name: m[1], version: Number(m[3]) };
  return { name: m[1] };
}

const cell = z.union([z.string(), z.number(), z.boolean(), z.null()]);

/** The telemetry stream's declaration: JetStream stream, subjects, and the SQLite table of embedded mode. */
export const telemetryStream = {
  stream: 'MLP_TELEMETRY',
  /** Embedded: tables in `<MLP_HOME>/telemetry.db`. */
  sqlite: { file: 'telemetry.db', predictions: 'prediction_telemetry', feedback: 'feedback_telemetry' },
  /** Telemetry is kept this long on JetStream (max age). */
  maxAgeDays: 30,
} as const;

/** One prediction (one row of one request), published off the hot path in batches. */
export const predictionTelemetrySchema = z.object({
  requestId: z.string().min(1).max(200),
  /** Row index inside the request. */
  row: z.number().int().min(0),
  model: name,
  version: z.number().int().positive(),
  /** The alias (arm) the request was routed through, `version` when it named the version. */
  arm: z.string().min(1),
  instance: z.string().min(1),
  /** Input features after the online lookup, before preprocessing. */
  features: z.record(z.string(), cell),
  prediction: cell,
  probabilities: z.array(z.number()).optional(),
  /** Whole request latency in milliseconds (queueing, preprocessing, predict). */
  latencyMs: z.number().min(0),
  at: z.string(),
  /** sha256 prefix of the API key id that called, when auth was on; never the key. */
  keyHash: z.string().optional(),
});
export type PredictionTelemetry = z.infer<typeof predictionTelemetrySchema>;

/** Ground truth for a prediction: `POST /v1/feedback`. */
export const feedbackItemSchema = z
  .object({
    request_id: z.string().min(1).max(200),
    label: cell,
    /** Row inside the request (default 0). */
    row: z.number().int().min(0).default(0),
    /** The model, when serving no longer remembers the request. */
    model: name.optional(),
  })
  .strict();
export const feedbackRequestSchema = z.union([
  feedbackItemSchema,
  z.object({ items: z.array(feedbackItemSchema).min(1).max(10_000) }).strict(),
]);
export type FeedbackItem = z.infer<typeof feedbackItemSchema>;

export const feedbackTelemetrySchema = z.object({
  requestId: z.string().min(1),
  row: z.number().int().min(0),
  model: name,
  label: cell,
  at: z.string(),
});
export type FeedbackTelemetry = z.infer<typeof feedbackTelemetrySchema>;

/** The field of the V2 gRPC `InferTensorContents` that carries each datatype (grpc_predict_v2.proto). */
export const v2ContentsField = {
  BOOL: 'bool_contents',
  INT8: 'int_contents',
  INT16: 'int_contents',
  INT32: 'int_contents',
  INT64: 'int64_contents',
  UINT8: 'uint_contents',
  UINT16: 'uint_contents',
  UINT32: 'uint_contents',
  UINT64: 'uint64_contents',
  FP32: 'fp32_contents',
  FP64: 'fp64_contents',
  BYTES: 'bytes_contents',
} as const satisfies Record<string, string>;
