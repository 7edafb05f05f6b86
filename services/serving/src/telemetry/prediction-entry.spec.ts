import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { predictionTelemetrySchema } from '@mlp/contracts';
import { forEachPacked, packPredictions } from './packed-predictions';
import { SqliteTelemetrySink } from './telemetry-sink';
import { featuresJson, predictionMessages, predictionRecords, type PredictionEntry } from './prediction-entry';

/** A request of three rows with every kind of cell: numbers (and a non-finite one), strings needing escapes, booleans, nulls. */
function entry(over: Partial<PredictionEntry> = {}): PredictionEntry {
  return {
    requestId: '0190-abc',
    model: 'churn',
    version: 3,
    arm: 'production',
    instance: 'serving-1',
    features: { tenure: [1.5, null, Number.NaN], plan: ['basic', 'pro "x"\n', 'é\u2028'], active: [true, false, null], monthly: new Float64Array([20.25, 1e21, -0]) },
    n: 3,
    predictions: ['no', 'yes', 'no'],
    probabilities: [
      [0.75, 0.25],
      [0.1, 0.9],
      [1, 0],
    ],
    latencyMs: 1.234,
    at: Date.UTC(2026, 0, 2, 3, 4, 5, 678),
    keyHash: '0123456789abcdef',
    ...over,
  };
}

describe('telemetry encoding', () => {
  it('encodes each row as the same JSON value as JSON.stringify of its PredictionTelemetry record', () => {
    for (const e of [entry(), entry({ probabilities: undefined, keyHash: undefined, predictions: [1.5, Number.POSITIVE_INFINITY, -2] })]) {
      const messages = predictionMessages([e], (m) => `mlp.tel.predictions.${m}`);
      const records = predictionRecords(e);
      expect(messages).toHaveLength(3);
      messages.forEach((m, r) => {
        expect(m.subject).toBe('mlp.tel.predictions.churn');
        expect(m.msgID).toBe(`0190-abc:${r}:production`);
        const parsed: unknown = JSON.parse(m.data);
        expect(parsed).toEqual(JSON.parse(JSON.stringify(records[r])));
        expect(predictionTelemetrySchema.strict().safeParse(parsed).success).toBe(true);
      });
    }
  });

  it('keeps the order of the requests and of their rows', () => {
    const a = entry({ requestId: 'a' });
    const b = entry({ requestId: 'b', n: 1, features: { tenure: [7] }, predictions: ['yes'], probabilities: [[0.2, 0.8]] });
    expect(predictionMessages([a, b], (m) => m).map((m) => m.msgID)).toEqual(['a:0:production', 'a:1:production', 'a:2:production', 'b:0:production']);
  });

  it('writes the features of a row without columns as an empty object', () => {
    expect(featuresJson(entry({ features: {}, n: 2 }))).toEqual(['{}', '{}']);
  });

  it('stores in SQLite, through the packed form the worker receives, the same records (requests with other columns, without probabilities or key)', async () => {
    const entries = [
      entry(),
      entry({ requestId: 'b', features: { x: [1, 2] }, n: 2, predictions: [0.5, 7], probabilities: undefined, keyHash: undefined, arm: 'shadow' }),
      entry({ requestId: 'c', n: 1, features: { tenure: [3], plan: ['team'], active: [false], monthly: [9] }, predictions: ['yes'], probabilities: [[0.3, 0.6, 0.1]] }),
    ];
    const packed = packPredictions(entries);
    // What a worker gets: a structured clone.
    const cloned = structuredClone(packed);
    const seen: string[] = [];
    forEachPacked(cloned, (q) => seen.push(`${q.requestId}/${q.n}/${q.columns.join(',')}`));
    expect(seen).toEqual(['0190-abc/3/tenure,plan,active,monthly', 'b/2/x', 'c/1/tenure,plan,active,monthly']);
    const dir = mkdtempSync(join(tmpdir(), 'mlp-telemetry-encoding-'));
    const sink = new SqliteTelemetrySink(join(dir, 'telemetry.db'));
    try {
      sink.writePacked(cloned);
      const expected = entries.flatMap(predictionRecords).map((r) => JSON.parse(JSON.stringify(r)) as unknown);
      expect(sink.predictions()).toEqual(expected);
    } finally {
      await sink.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
