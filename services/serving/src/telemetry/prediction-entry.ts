import type { PredictionTelemetry } from '@mlp/contracts';
import type { Cell, Frame } from '@mlp/ml';

/**
 * The telemetry of one request as the hot path leaves it: references to its
 * validated input columns and its outputs, no per-row objects. Expanded into
 * one `PredictionTelemetry` record per row when a batch is written, off the
 * request path.
 */
export interface PredictionEntry {
  requestId: string;
  model: string;
  version: number;
  arm: string;
  instance: string;
  /** Input features after the online lookup, before preprocessing: one column per input. */
  features: Frame;
  n: number;
  predictions: readonly unknown[];
  probabilities?: readonly number[][];
  latencyMs: number;
  /** Epoch milliseconds. */
  at: number;
  keyHash?: string;
}

/** One record per row of the request. */
export function predictionRecords(e: PredictionEntry): PredictionTelemetry[] {
  const at = new Date(e.at).toISOString();
  const names = Object.keys(e.features);
  const records: PredictionTelemetry[] = new Array(e.n);
  for (let r = 0; r < e.n; r++) {
    const features: Record<string, Cell> = {};
    for (const c of names) features[c] = ((e.features[c] as ArrayLike<Cell>)[r] ?? null) as Cell;
    const record: PredictionTelemetry = {
      requestId: e.requestId,
      row: r,
      model: e.model,
      version: e.version,
      arm: e.arm,
      instance: e.instance,
      features,
      prediction: (e.predictions[r] ?? null) as Cell,
      latencyMs: e.latencyMs,
      at,
    };
    if (e.probabilities) record.probabilities = e.probabilities[r];
    if (e.keyHash) record.keyHash = e.keyHash;
    records[r] = record;
  }
  return records;
}
