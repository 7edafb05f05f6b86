/**
 * K-fold cross-validation index generators with scikit-learn semantics. Each
 * returns one `{train, test}` of ascending row indices per fold.
 */
import { SeededRng } from '../random/seeded-rng';
import { IndexSplit, Label, ascending, complement, invalid, range, requireFoldCount, sortedLabels } from './metric-inputs';

function requireRowCount(n: number): void {
  if (!Number.isSafeInteger(n) || n < 0) throw invalid('n', `must be a non-negative integer, received ${n}`);
}

/** Folds from an assignment of each row to a fold 0..k-1. */
function foldsFromAssignment(assignment: readonly number[], k: number): IndexSplit[] {
  const tests: number[][] = range(0, k).map(() => []);
  assignment.forEach((fold, row) => tests[fold].push(row));
  return tests.map((test) => ({ train: complement(assignment.length, test), test }));
}

/**
 * sklearn KFold: contiguous test folds of size n // k, the first n % k one
 * larger; with `shuffle` the rows are permuted first by `rng`.
 */
export function kFold(n: number, k: number, options: { shuffle?: boolean; rng?: SeededRng } = {}): IndexSplit[] {
  requireRowCount(n);
  requireFoldCount(k, n, 'rows');
  if (options.shuffle && !options.rng) throw invalid('rng', 'is required when shuffle is true');
  const rows = options.shuffle ? (options.rng as SeededRng).permutation(n) : range(0, n);
  const folds: IndexSplit[] = [];
  let start = 0;
  for (let fold = 0; fold < k; fold++) {
    const size = Math.floor(n / k) + (fold < n % k ? 1 : 0);
    const test = rows.slice(start, start + size).sort(ascending);
    folds.push({ train: complement(n, test), test });
    start += size;
  }
  return folds;
}

/**
 * Stratified k-fold: rows are grouped by class (shuffled within each class
 * when an rng is given) and dealt to folds round-robin, continuing across
 * classes. Each fold then holds ⌊c/k⌋ or ⌈c/k⌉ rows of a class of size c, and
 * fold sizes differ by at most one.
 */
export function stratifiedKFold(labels: readonly Label[], k: number, rng?: SeededRng): IndexSplit[] {
  requireFoldCount(k, labels.length, 'rows');
  const classes = sortedLabels(labels);
  const members = new Map<Label, number[]>(classes.map((c) => [c, []]));
  labels.forEach((label, i) => (members.get(label) as number[]).push(i));
  const assignment = new Array<number>(labels.length);
  let position = 0;
  for (const c of classes) {
    const rows = members.get(c) as number[];
    if (rng) rng.shuffle(rows);
    for (const row of rows) assignment[row] = position++ % k;
  }
  return foldsFromAssignment(assignment, k);
}

/**
 * sklearn TimeSeriesSplit: k test folds of n // (k + 1) consecutive rows at
 * the end; each training set is every row before its test fold.
 */
export function timeSeriesSplit(n: number, k: number): IndexSplit[] {
  requireRowCount(n);
  if (!Number.isInteger(k) || k < 2) throw invalid('k', `must be an integer of at least 2, received ${k}`);
  if (k + 1 > n) throw invalid('k', `needs k + 1 <= number of rows (${n}), received k = ${k}`);
  const size = Math.floor(n / (k + 1));
  const folds: IndexSplit[] = [];
  for (let start = n - k * size; start < n; start += size) folds.push({ train: range(0, start), test: range(start, start + size) });
  return folds;
}

/**
 * sklearn GroupKFold: groups, largest first (ties by label order), each go to
 * the fold with the fewest rows so far (ties to the lowest fold). A group is
 * never split across folds.
 */
export function groupKFold(groups: readonly Label[], k: number): IndexSplit[] {
  const distinct = sortedLabels(groups);
  requireFoldCount(k, distinct.length, 'groups');
  const sizes = new Map<Label, number>(distinct.map((g) => [g, 0]));
  for (const g of groups) sizes.set(g, (sizes.get(g) as number) + 1);
  const bySize = [...distinct].sort((a, b) => (sizes.get(b) as number) - (sizes.get(a) as number));
  const load = new Array<number>(k).fill(0);
  const foldOf = new Map<Label, number>();
  for (const g of bySize) {
    const lightest = load.indexOf(Math.min(...load));
    foldOf.set(g, lightest);
    load[lightest] += sizes.get(g) as number;
  }
  return foldsFromAssignment(
    groups.map((g) => foldOf.get(g) as number),
    k,
  );
}
