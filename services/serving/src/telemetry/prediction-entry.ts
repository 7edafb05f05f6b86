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

/** A cell as JSON (what JSON.stringify gives: non-finite numbers are null). */
export function cellJson(v: unknown): string {
  switch (typeof v) {
    case 'number':
      return Number.isFinite(v) ? String(v) : 'null';
    case 'string':
      return JSON.stringify(v);
    case 'boolean':
      return v ? 'true' : 'false';
    default:
      return v === null || v === undefined ? 'null' : JSON.stringify(v);
  }
}

/** Numbers as a JSON array. */
export function numbersJson(values: readonly number[]): string {
  let s = '[';
  for (let i = 0; i < values.length; i++) s += (i === 0 ? '' : ',') + cellJson(values[i]);
  return s + ']';
}

/** The last column lists' encoded keys (`{"a":`, `,"b":`): requests of one model share theirs. */
const keyCache = new Map<string, string[]>();

export function encodedKeys(names: readonly string[]): string[] {
  const id = names.join('\u0000');
  let keys = keyCache.get(id);
  if (!keys) {
    if (keyCache.size >= 64) keyCache.clear();
    keys = names.map((c, i) => `${i === 0 ? '{' : ','}${JSON.stringify(c)}:`);
    keyCache.set(id, keys);
  }
  return keys;
}

/**
 * The JSON of each row's features (`{"col":value,...}`), built from the
 * request's columns without a per-row object: the keys are encoded once.
 */
export function featuresJson(e: PredictionEntry): string[] {
  const names = Object.keys(e.features);
  const keys = encodedKeys(names);
  const columns = names.map((c) => e.features[c] as ArrayLike<unknown>);
  const out = new Array<string>(e.n);
  for (let r = 0; r < e.n; r++) {
    let s = names.length === 0 ? '{' : '';
    for (let c = 0; c < columns.length; c++) s += keys[c] + cellJson(columns[c][r] ?? null);
    out[r] = s + '}';
  }
  return out;
}

/**
 * One JSON message per row (the `PredictionTelemetry` record: the same
 * fields and values as `JSON.stringify(predictionRecords(e)[r])`), with its
 * subject and dedup id `<requestId>:<row>:<arm>`. The fields common to a
 * request are encoded once per request, not per row.
 */
export function predictionMessages(entries: readonly PredictionEntry[], subjectOf: (model: string) => string): { subject: string; data: string; msgID: string }[] {
  const out: { subject: string; data: string; msgID: string }[] = [];
  for (const e of entries) {
    const subject = subjectOf(e.model);
    const id = JSON.stringify(e.requestId);
    const common =
      `,"model":${JSON.stringify(e.model)},"version":${cellJson(e.version)},"arm":${JSON.stringify(e.arm)},"instance":${JSON.stringify(e.instance)}` +
      `,"latencyMs":${cellJson(e.latencyMs)},"at":"${new Date(e.at).toISOString()}"${e.keyHash ? `,"keyHash":${JSON.stringify(e.keyHash)}` : ''}`;
    const features = featuresJson(e);
    for (let r = 0; r < e.n; r++) {
      const p = e.probabilities?.[r];
      const probabilities = p ? `,"probabilities":${numbersJson(p)}` : '';
      out.push({
        subject,
        data: `{"requestId":${id},"row":${r}${common},"features":${features[r]},"prediction":${cellJson(e.predictions[r] ?? null)}${probabilities}}`,
        msgID: `${e.requestId}:${r}:${e.arm}`,
      });
    }
  }
  return out;
}
