import { type Label, invalid, sortedLabels } from '../evaluation/metric-inputs';

/**
 * sklearn `compute_class_weight('balanced', ...)`: n_samples / (n_classes ·
 * count_c), so every class carries the same total weight. Keys follow the
 * sorted class order.
 */
export function classWeights(y: readonly Label[], mode: 'balanced' = 'balanced'): Map<Label, number> {
  if (mode !== 'balanced') throw invalid('mode', `must be 'balanced', received ${JSON.stringify(mode)}`);
  if (y.length === 0) throw invalid('y', 'must not be empty');
  const counts = countLabels(y);
  const classes = sortedLabels(y);
  return new Map(classes.map((c) => [c, y.length / (classes.length * counts.get(c)!)]));
}

/** The weight of each row's class; every label of `y` must have a weight. */
export function sampleWeights(y: readonly Label[], weights: ReadonlyMap<Label, number>): number[] {
  return y.map((label, i) => {
    const w = weights.get(label);
    if (w === undefined) throw invalid(`y[${i}]`, `has no class weight for label ${JSON.stringify(label)}`);
    return w;
  });
}

function countLabels(y: readonly Label[]): Map<Label, number> {
  const counts = new Map<Label, number>();
  for (const label of y) counts.set(label, (counts.get(label) ?? 0) + 1);
  return counts;
}
