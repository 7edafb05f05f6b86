import { scoreTask, type ModelOutput } from '@mlp/ml';
import type { LabelledPrediction } from './feedback-join';

export type Task = 'binary' | 'multiclass' | 'regression';

/** Metrics of a set of labelled predictions, named and computed as training's holdout metrics (scoreTask). */
export interface WindowMetrics {
  labelled: number;
  /** Classification: predictions equal to their label. */
  correct?: number;
  metrics: Record<string, number>;
  /** Labels that are not one of the model's classes (left out of the metrics). */
  unknownLabels: number;
}

/**
 * The last `size` labelled predictions of one version and arm (a ring
 * buffer), scored every `step` new labels.
 */
export class PerformanceWindow {
  private readonly rows: LabelledPrediction[] = [];
  private next = 0;
  /** Labels joined so far. */
  seq = 0;

  constructor(
    readonly size: number,
    readonly step: number,
  ) {}

  /** Adds one; true when a step is complete and the window should be scored. */
  add(row: LabelledPrediction): boolean {
    if (this.rows.length < this.size) this.rows.push(row);
    else this.rows[this.next] = row;
    this.next = (this.next + 1) % this.size;
    this.seq++;
    return this.seq % this.step === 0;
  }

  contents(): LabelledPrediction[] {
    return this.rows.length < this.size ? [...this.rows] : [...this.rows.slice(this.next), ...this.rows.slice(0, this.next)];
  }
}

/** Scores labelled predictions of a model with `classes` (its output order; binary: [negative, positive]). */
export function scoreLabelled(rows: readonly LabelledPrediction[], task: Task, classes: readonly (string | number | boolean)[]): WindowMetrics {
  if (task === 'regression') {
    const kept = rows.filter((r) => typeof r.label === 'number' && typeof r.prediction === 'number');
    const out: ModelOutput = { task, nClasses: 1, values: kept.map((r) => r.prediction as number) };
    return { labelled: kept.length, metrics: kept.length ? scoreTask(kept.map((r) => r.label as number), out) : {}, unknownLabels: rows.length - kept.length };
  }
  const index = new Map(classes.map((c, i) => [String(c), i]));
  const kept = rows.filter((r) => index.has(String(r.label)));
  const y = kept.map((r) => index.get(String(r.label))!);
  const k = classes.length;
  const values: number[] = [];
  for (const r of kept) {
    const p = r.probabilities?.length === k ? r.probabilities : classes.map((c) => (String(c) === String(r.prediction) ? 1 : 0));
    if (task === 'binary') values.push(p[1]);
    else values.push(...p);
  }
  const correct = kept.filter((r) => String(r.prediction) === String(r.label)).length;
  const metrics = kept.length ? scoreTask(y, { task, nClasses: Math.max(k, 1), values }) : {};
  return { labelled: kept.length, correct, metrics, unknownLabels: rows.length - kept.length };
}
