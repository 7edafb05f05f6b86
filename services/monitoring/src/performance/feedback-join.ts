import type { FeedbackTelemetry, PredictionTelemetry } from '@mlp/contracts';

type Cell = string | number | boolean | null;

/** A prediction with its ground truth. */
export interface LabelledPrediction {
  model: string;
  version: number;
  arm: string;
  prediction: Cell;
  probabilities?: number[];
  label: Cell;
  /** The input features as served (for online learning). */
  features?: Record<string, Cell>;
  predictedAt: string;
  labelledAt: string;
}

export interface FeedbackJoinOptions {
  /** Predictions remembered for labels still to come (oldest forgotten first). */
  maxPredictions?: number;
  /** Labels remembered for predictions not seen yet (telemetry subjects are not ordered with each other). */
  maxPendingLabels?: number;
}

/**
 * Joins feedback labels to predictions by `(requestId, row)` in bounded
 * memory. A label may come long after its prediction (late labels are
 * joined while the prediction is among the last `maxPredictions`) or before
 * it (kept among the last `maxPendingLabels`). Each prediction is joined
 * once: a second label for it is counted as a duplicate.
 */
export class FeedbackJoin {
  private readonly predictions = new Map<string, PredictionTelemetry>();
  private readonly pending = new Map<string, FeedbackTelemetry>();
  private readonly joined = new Set<string>();
  readonly counts = { joined: 0, duplicates: 0, forgottenPredictions: 0, forgottenLabels: 0 };
  private readonly maxPredictions: number;
  private readonly maxPending: number;

  constructor(options: FeedbackJoinOptions = {}) {
    this.maxPredictions = options.maxPredictions ?? 200_000;
    this.maxPending = options.maxPendingLabels ?? 50_000;
  }

  addPrediction(p: PredictionTelemetry): LabelledPrediction | undefined {
    const key = `${p.model}\u0000${p.requestId}\u0000${p.row}`;
    const label = this.pending.get(key);
    if (label) {
      this.pending.delete(key);
      return this.join(key, p, label);
    }
    if (this.joined.has(key)) return undefined; // a redelivered prediction that is already labelled
    this.predictions.set(key, p);
    if (this.predictions.size > this.maxPredictions) {
      this.predictions.delete(this.predictions.keys().next().value as string);
      this.counts.forgottenPredictions++;
    }
    return undefined;
  }

  addLabel(f: FeedbackTelemetry): LabelledPrediction | undefined {
    const key = `${f.model}\u0000${f.requestId}\u0000${f.row}`;
    const p = this.predictions.get(key);
    if (p) {
      this.predictions.delete(key);
      return this.join(key, p, f);
    }
    if (this.joined.has(key) || this.pending.has(key)) {
      this.counts.duplicates++;
      return undefined;
    }
    this.pending.set(key, f);
    if (this.pending.size > this.maxPending) {
      this.pending.delete(this.pending.keys().next().value as string);
      this.counts.forgottenLabels++;
    }
    return undefined;
  }

  private join(key: string, p: PredictionTelemetry, f: FeedbackTelemetry): LabelledPrediction {
    this.counts.joined++;
    this.joined.add(key);
    if (this.joined.size > this.maxPredictions) this.joined.delete(this.joined.values().next().value as string);
    return {
      model: p.model,
      version: p.version,
      arm: p.arm,
      prediction: p.prediction,
      ...(p.probabilities ? { probabilities: p.probabilities } : {}),
      label: f.label,
      features: p.features,
      predictedAt: p.at,
      labelledAt: f.at,
    };
  }
}
