import { type Label, ascending, compareLabels, invalid } from '../evaluation/metric-inputs';
import type { SeededRng } from '../random/seeded-rng';

/**
 * Random over- and under-sampling of a set of rows, like imbalanced-learn's
 * RandomOverSampler / RandomUnderSampler with `sampling_strategy='auto'`.
 * Both take the row indices to resample (e.g. one training fold) and the
 * labels of *all* rows, and only ever return indices from `indices`, so
 * resampling inside cross-validation never leaks test rows into training.
 */

/**
 * Every class except the majority is topped up to the majority count by
 * drawing its rows with replacement. Returns `indices` unchanged followed by
 * the drawn duplicates (class by class in sorted label order).
 */
export function randomOverSample(indices: readonly number[], labels: readonly Label[], rng: SeededRng): number[] {
  const byClass = groupByClass(indices, labels);
  const target = Math.max(...[...byClass.values()].map((rows) => rows.length));
  const out = [...indices];
  for (const rows of byClass.values()) {
    for (let i = rows.length; i < target; i++) out.push(rows[rng.int(0, rows.length)]);
  }
  return out;
}

/**
 * Every class except the minority is cut down to the minority count by
 * drawing its rows without replacement. Returns the kept indices ascending.
 */
export function randomUnderSample(indices: readonly number[], labels: readonly Label[], rng: SeededRng): number[] {
  const byClass = groupByClass(indices, labels);
  const target = Math.min(...[...byClass.values()].map((rows) => rows.length));
  const out: number[] = [];
  for (const rows of byClass.values()) out.push(...(rows.length > target ? rng.shuffle([...rows]).slice(0, target) : rows));
  return out.sort(ascending);
}

/** Rows of each class, in `indices` order, keyed in sorted label order. */
function groupByClass(indices: readonly number[], labels: readonly Label[]): Map<Label, number[]> {
  if (indices.length === 0) throw invalid('indices', 'must not be empty');
  const byClass = new Map<Label, number[]>();
  indices.forEach((row, i) => {
    if (!Number.isInteger(row) || row < 0 || row >= labels.length) {
      throw invalid(`indices[${i}]`, `must be a row index in [0, ${labels.length}), received ${row}`);
    }
    const label = labels[row];
    if (typeof label !== 'number' && typeof label !== 'string') throw invalid(`labels[${row}]`, 'must be a number or a string');
    const rows = byClass.get(label);
    if (rows) rows.push(row);
    else byClass.set(label, [row]);
  });
  return new Map([...byClass.entries()].sort(([a], [b]) => compareLabels(a, b)));
}
