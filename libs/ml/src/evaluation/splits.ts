/**
 * Single train/test splits returning row indices (ascending). `test` is the
 * fraction held out; random splits draw from the given seeded rng, so the
 * same seed gives the same split.
 */
import { SeededRng } from '../random/seeded-rng';
import { IndexSplit, Label, ascending, complement, invalid, requireFraction, sortedLabels } from './metric-inputs';

export interface RandomSplitOptions {
  /** Fraction of rows (of groups, for groupSplit) in the test set, in (0, 1). */
  test: number;
  rng: SeededRng;
}

/** Test set size as sklearn's train_test_split: ceil(test · n), leaving at least one row on each side. */
function testCount(n: number, test: number, unit: string): number {
  requireFraction(test, 'test');
  const count = Math.ceil(test * n);
  if (n < 2 || count >= n) throw invalid('test', `leaves no ${unit} for training (${n} ${unit}, test fraction ${test})`);
  return count;
}

function requireRowCount(n: number): void {
  if (!Number.isSafeInteger(n) || n < 0) throw invalid('n', `must be a non-negative integer, received ${n}`);
}

export function randomSplit(n: number, options: RandomSplitOptions): IndexSplit {
  requireRowCount(n);
  const count = testCount(n, options.test, 'rows');
  const test = options.rng.permutation(n).slice(0, count).sort(ascending);
  return { train: complement(n, test), test };
}

/**
 * Each class contributes to the test set in proportion to its size: counts
 * are apportioned by largest remainder, so every class is within one row of
 * its exact share and the total is ceil(test · n).
 */
export function stratifiedSplit(labels: readonly Label[], options: RandomSplitOptions): IndexSplit {
  const n = labels.length;
  const count = testCount(n, options.test, 'rows');
  const classes = sortedLabels(labels);
  const members = new Map<Label, number[]>(classes.map((c) => [c, []]));
  labels.forEach((label, i) => (members.get(label) as number[]).push(i));
  const quotas = classes.map((c) => ((members.get(c) as number[]).length * count) / n);
  const allotted = quotas.map(Math.floor);
  let remaining = count - allotted.reduce((s, a) => s + a, 0);
  const byRemainder = classes.map((_, i) => i).sort((a, b) => quotas[b] - allotted[b] - (quotas[a] - allotted[a]) || a - b);
  for (const i of byRemainder) {
    if (remaining === 0) break;
    allotted[i]++;
    remaining--;
  }
  const test: number[] = [];
  classes.forEach((c, i) => {
    const rows = options.rng.shuffle([...(members.get(c) as number[])]);
    test.push(...rows.slice(0, allotted[i]));
  });
  test.sort(ascending);
  return { train: complement(n, test), test };
}

/**
 * The latest rows are the test set: every test time is later than every
 * training time. Rows with equal times stay on the same side, so the test set
 * may differ from ceil(test · n) by up to the size of the tie at the cut.
 */
export function timeSplit(times: readonly (number | Date)[], options: { test: number }): IndexSplit {
  const n = times.length;
  const target = testCount(n, options.test, 'rows');
  const t = times.map((value, i) => {
    const ms = value instanceof Date ? value.getTime() : value;
    if (typeof ms !== 'number' || !Number.isFinite(ms)) throw invalid(`times[${i}]`, `must be a finite number or valid Date, received ${String(value)}`);
    return ms;
  });
  const order = t.map((_, i) => i).sort((a, b) => t[a] - t[b] || a - b);
  let cut = n - target; // order[cut..] is the test set
  if (t[order[cut - 1]] === t[order[cut]]) {
    let start = cut;
    while (start > 0 && t[order[start - 1]] === t[order[cut]]) start--;
    let end = cut;
    while (end < n && t[order[end]] === t[order[cut]]) end++;
    // Move the whole tie to one side: the nearer one that leaves both sides non-empty.
    const candidates = [end, start].filter((c) => c > 0 && c < n).sort((a, b) => Math.abs(a - cut) - Math.abs(b - cut));
    if (candidates.length === 0) throw invalid('times', 'are all equal: no split keeps tied times on one side');
    cut = candidates[0];
  }
  return { train: order.slice(0, cut).sort(ascending), test: order.slice(cut).sort(ascending) };
}

/**
 * No group has rows on both sides. As sklearn's GroupShuffleSplit, `test` is
 * the fraction of groups (ceil(test · groups)) held out, not of rows.
 */
export function groupSplit(groups: readonly Label[], options: RandomSplitOptions): IndexSplit {
  const distinct = sortedLabels(groups);
  const count = testCount(distinct.length, options.test, 'groups');
  const testGroups = new Set(options.rng.shuffle(distinct).slice(0, count));
  const split: IndexSplit = { train: [], test: [] };
  groups.forEach((g, i) => (testGroups.has(g) ? split.test : split.train).push(i));
  return split;
}
