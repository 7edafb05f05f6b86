import type { EventData } from '@mlp/contracts';
import { cellAt, predictRows, predictions, SeededRng, type Category, type Cell, type PreparedData, type TrainedPipeline, type TrainingSpec } from '@mlp/ml';

/** Rows of the reference sample kept for drift (a seeded sample of the training rows). */
export const BASELINE_SAMPLE_ROWS = 5_000;
const TOP_CATEGORIES = 50;

type ColumnBaseline = EventData<'BaselineRecorded'>['prediction'];

/** The reference sample artifact: columns of the sampled training rows plus `prediction`, the model's outputs on them. */
export interface BaselineSample {
  columns: Record<string, Cell[]>;
}

/**
 * Monitoring's reference for a run: statistics of every input column over
 * the training rows, and a seeded sample of those rows (at most
 * BASELINE_SAMPLE_ROWS) with the final model's outputs, in the form serving
 * publishes them (class labels, or values for regression).
 */
export function buildBaseline(
  prepared: PreparedData,
  trained: TrainedPipeline,
  trainRows: readonly number[],
  task: TrainingSpec['task'],
  seed: number,
): { stats: Omit<EventData<'BaselineRecorded'>, 'runId' | 'experiment' | 'sampleArtifactKey'>; sample: BaselineSample } {
  const picked = sampleRows(trainRows, BASELINE_SAMPLE_ROWS, seed);
  const columns: Record<string, Cell[]> = {};
  const stats: Record<string, ColumnBaseline> = {};
  for (const [name, col] of Object.entries(prepared.features)) {
    stats[name] = columnStats(trainRows.map((r) => cellAt(col, r)));
    columns[name] = picked.map((r) => normalized(cellAt(col, r)));
  }
  const out = picked.length ? predictions(predictRows(trained, prepared, picked, task)) : [];
  columns.prediction = task === 'regression' ? out : out.map((i) => prepared.classes[i] as Category);
  return {
    stats: { task, classes: prepared.classes, rows: trainRows.length, columns: stats, prediction: columnStats(columns.prediction), sampleRows: picked.length, seed },
    sample: { columns },
  };
}

/** `n` distinct rows chosen by a seeded partial Fisher–Yates shuffle, in their original order. */
export function sampleRows(rows: readonly number[], n: number, seed: number): number[] {
  if (rows.length <= n) return [...rows];
  const a = [...rows];
  const rng = new SeededRng(seed);
  for (let i = 0; i < n; i++) {
    const j = rng.int(i, a.length);
    [a[i], a[j]] = [a[j], a[i]];
  }
  return a.slice(0, n).sort((x, y) => x - y);
}

const isMissing = (v: Cell): v is null => v === null || (typeof v === 'number' && !Number.isFinite(v));
const normalized = (v: Cell): Cell => (isMissing(v) ? null : v);

/** Numeric when every present value is a number; else value counts (the most frequent TOP_CATEGORIES). */
export function columnStats(values: readonly Cell[]): ColumnBaseline {
  let missing = 0;
  let numeric = true;
  for (const v of values) {
    if (isMissing(v)) missing++;
    else if (typeof v !== 'number') numeric = false;
  }
  const count = values.length - missing;
  if (numeric) {
    let mean = 0;
    let m2 = 0;
    let min = Infinity;
    let max = -Infinity;
    let k = 0;
    for (const v of values) {
      if (isMissing(v)) continue;
      const x = v as number;
      k++;
      const d = x - mean;
      mean += d / k;
      m2 += d * (x - mean);
      if (x < min) min = x;
      if (x > max) max = x;
    }
    return { kind: 'numeric', count, missing, mean: k ? mean : null, std: k > 1 ? Math.sqrt(m2 / (k - 1)) : null, min: k ? min : null, max: k ? max : null };
  }
  const counts = new Map<string, number>();
  for (const v of values) if (!isMissing(v)) counts.set(String(v), (counts.get(String(v)) ?? 0) + 1);
  const top = [...counts].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1)).slice(0, TOP_CATEGORIES);
  return { kind: 'categorical', count, missing, top: Object.fromEntries(top), distinct: counts.size };
}
