import { isCodes, type CategoricalArray, type CategoricalCodes, type NumericArray, type PairCounts } from './types';

/** One pass over a numeric column: its finite values' min, max and sum, and how many values are NaN or infinite. */
export interface NumericSummary {
  min: number;
  max: number;
  sum: number;
  nonFinite: number;
}

export function numericSummary(values: NumericArray): NumericSummary {
  let min = Infinity;
  let max = -Infinity;
  let sum = 0;
  let nonFinite = 0;
  for (let i = 0; i < values.length; i++) {
    const x = values[i];
    if (x - x !== 0) {
      nonFinite++;
      continue;
    }
    if (x < min) min = x;
    if (x > max) max = x;
    sum += x;
  }
  return { min, max, sum, nonFinite };
}

/** Numeric values without NaN/±Infinity (Evidently replaces infinities by NaN and drops NaN); the input itself when already clean. */
export function finiteValues(values: NumericArray, nonFinite?: number): NumericArray {
  let bad = nonFinite ?? -1;
  if (bad < 0) {
    bad = 0;
    for (let i = 0; i < values.length; i++) {
      const x = values[i];
      if (x - x !== 0) bad++;
    }
  }
  if (bad === 0) return values;
  const out = new Float64Array(values.length - bad);
  let k = 0;
  for (let i = 0; i < values.length; i++) {
    const x = values[i];
    if (x - x === 0) out[k++] = x;
  }
  return out;
}

/**
 * The distinct values of `arrays` together, up to `limit + 1` of them: enough to
 * answer "more than `limit` unique values?" (Evidently's nunique() <= 5 and > 20
 * rules) without a hash set or a sort over a large continuous column.
 */
export function distinctUpTo(arrays: readonly NumericArray[], limit: number): number[] {
  const seen: number[] = [];
  for (const a of arrays) {
    outer: for (let i = 0; i < a.length; i++) {
      const x = a[i];
      for (let j = 0; j < seen.length; j++) if (seen[j] === x) continue outer;
      seen.push(x);
      if (seen.length > limit) return seen;
    }
  }
  return seen;
}

function finishCounts(map: Map<string | number, [number, number]>, referenceSize: number, currentSize: number, numeric: boolean): PairCounts {
  const keys = [...map.keys()];
  if (numeric) (keys as number[]).sort((a, b) => a - b);
  else (keys as string[]).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  const reference = new Float64Array(keys.length);
  const current = new Float64Array(keys.length);
  keys.forEach((k, i) => {
    const c = map.get(k) as [number, number];
    reference[i] = c[0];
    current[i] = c[1];
  });
  return { keys, reference, current, referenceSize, currentSize };
}

/** Keys tracked in a small array (linear search from the last hit) before numericPairCounts falls back to a Map. */
const SMALL_KEYS = 32;

/** Value counts of two numeric samples (finite values only) over the union of their values. */
export function numericPairCounts(reference: NumericArray, current: NumericArray): PairCounts {
  const small = smallNumericCounts(reference, current);
  if (small) return small;
  const map = new Map<number, [number, number]>();
  for (let i = 0; i < reference.length; i++) {
    const x = reference[i];
    const c = map.get(x);
    if (c) c[0]++;
    else map.set(x, [1, 0]);
  }
  for (let i = 0; i < current.length; i++) {
    const x = current[i];
    const c = map.get(x);
    if (c) c[1]++;
    else map.set(x, [0, 1]);
  }
  return finishCounts(map as Map<string | number, [number, number]>, reference.length, current.length, true);
}

/** Counting into typed arrays while there are at most SMALL_KEYS distinct values (no per-value allocation); null past that. */
export function smallNumericCounts(reference: NumericArray, current: NumericArray): PairCounts | null {
  return mergeSmallCounts(sampleSmallCounts(reference), sampleSmallCounts(current));
}

/** One sample's distinct values (ascending) and their counts, when there are at most SMALL_KEYS of them. */
export interface SmallCounts {
  keys: number[];
  counts: Float64Array;
  size: number;
}

/** SmallCounts of one sample, or null when it holds more than SMALL_KEYS distinct values (stops there). */
export function sampleSmallCounts(values: NumericArray): SmallCounts | null {
  return smallIntegerCounts(values) ?? smallKeyCounts(values);
}

/** Two samples' SmallCounts over the union of their keys; null when either is null or the union has more than SMALL_KEYS keys. */
export function mergeSmallCounts(a: SmallCounts | null, b: SmallCounts | null): PairCounts | null {
  if (!a || !b) return null;
  const keys = [...new Set([...a.keys, ...b.keys])].sort((x, y) => x - y);
  if (keys.length > SMALL_KEYS) return null;
  const at = (s: SmallCounts) => {
    const out = new Float64Array(keys.length);
    let j = 0;
    for (let i = 0; i < keys.length && j < s.keys.length; i++) if (keys[i] === s.keys[j]) out[i] = s.counts[j++];
    return out;
  };
  return { keys, reference: at(a), current: at(b), referenceSize: a.size, currentSize: b.size };
}

const DIRECT = 4096;

/** Direct counting when every value is an integer in [0, 4096) (codes, levels, counts); null at the first value that is not. */
function smallIntegerCounts(values: NumericArray): SmallCounts | null {
  const c = new Float64Array(DIRECT);
  for (let i = 0; i < values.length; i++) {
    const x = values[i];
    if (!(x >= 0 && x < DIRECT && (x | 0) === x)) return null;
    c[x]++;
  }
  const keys: number[] = [];
  for (let k = 0; k < DIRECT; k++) if (c[k] > 0) keys.push(k);
  if (keys.length > SMALL_KEYS) return null;
  return { keys, counts: Float64Array.from(keys, (k) => c[k]), size: values.length };
}

/** Linear search over at most SMALL_KEYS keys, starting from the last hit. */
function smallKeyCounts(values: NumericArray): SmallCounts | null {
  const tracker = new SmallKeyTracker();
  for (let i = 0; i < values.length; i++) if (!tracker.add(values[i])) return null;
  return tracker.counts();
}

/** Distinct values and counts while there are at most SMALL_KEYS; `add` returns false once there are more (and the tracker stops). */
export class SmallKeyTracker {
  private readonly keys = new Float64Array(SMALL_KEYS);
  private readonly c = new Float64Array(SMALL_KEYS);
  private n = 0;
  private last = 0;
  private size = 0;
  overflow = false;

  add(x: number): boolean {
    if (this.overflow) return false;
    const keys = this.keys;
    this.size++;
    if (this.n > 0 && keys[this.last] === x) {
      this.c[this.last]++;
      return true;
    }
    let k = 0;
    while (k < this.n && keys[k] !== x) k++;
    if (k === this.n) {
      if (this.n === SMALL_KEYS) {
        this.overflow = true;
        return false;
      }
      keys[this.n++] = x;
    }
    this.c[k]++;
    this.last = k;
    return true;
  }

  /** Adds a chunk's SmallCounts (null: the chunk alone has too many values). */
  addCounts(chunk: SmallCounts | null): void {
    if (this.overflow) return;
    if (chunk === null) {
      this.overflow = true;
      return;
    }
    for (let i = 0; i < chunk.keys.length; i++) {
      let k = 0;
      while (k < this.n && this.keys[k] !== chunk.keys[i]) k++;
      if (k === this.n) {
        if (this.n === SMALL_KEYS) {
          this.overflow = true;
          return;
        }
        this.keys[this.n++] = chunk.keys[i];
      }
      this.c[k] += chunk.counts[i];
    }
    this.size += chunk.size;
  }

  counts(): SmallCounts | null {
    if (this.overflow) return null;
    const order = Array.from({ length: this.n }, (_, i) => i).sort((a, b) => this.keys[a] - this.keys[b]);
    return { keys: order.map((i) => this.keys[i]), counts: Float64Array.from(order, (i) => this.c[i]), size: this.size };
  }
}

/** Value counts of two categorical samples over the union of their non-missing values. */
export function categoricalPairCounts(reference: CategoricalArray, current: CategoricalArray): PairCounts {
  if (isCodes(reference) && isCodes(current) && reference.categories === current.categories) {
    return codesPairCounts(reference.codes, current.codes, reference.categories);
  }
  const map = new Map<string, [number, number]>();
  let nRef = 0;
  let nCur = 0;
  forEachCategory(reference, (v) => {
    nRef++;
    const c = map.get(v);
    if (c) c[0]++;
    else map.set(v, [1, 0]);
  });
  forEachCategory(current, (v) => {
    nCur++;
    const c = map.get(v);
    if (c) c[1]++;
    else map.set(v, [0, 1]);
  });
  return finishCounts(map as Map<string | number, [number, number]>, nRef, nCur, false);
}

function forEachCategory(column: CategoricalArray, fn: (v: string) => void): void {
  if (isCodes(column)) {
    const { codes, categories } = column;
    for (let i = 0; i < codes.length; i++) if (codes[i] >= 0) fn(categories[codes[i]]);
    return;
  }
  for (const v of column) if (v !== null && v !== undefined) fn(v);
}

/** Counting sort over shared dictionary codes: one pass per sample, no per-value allocation. */
function codesPairCounts(ref: CategoricalCodes['codes'], cur: CategoricalCodes['codes'], categories: readonly string[]): PairCounts {
  const k = categories.length;
  const rc = new Float64Array(k);
  const cc = new Float64Array(k);
  let nRef = 0;
  let nCur = 0;
  for (let i = 0; i < ref.length; i++) {
    const c = ref[i];
    if (c >= 0) {
      rc[c]++;
      nRef++;
    }
  }
  for (let i = 0; i < cur.length; i++) {
    const c = cur[i];
    if (c >= 0) {
      cc[c]++;
      nCur++;
    }
  }
  const order: number[] = [];
  for (let i = 0; i < k; i++) if (rc[i] > 0 || cc[i] > 0) order.push(i);
  order.sort((a, b) => (categories[a] < categories[b] ? -1 : categories[a] > categories[b] ? 1 : 0));
  const reference = new Float64Array(order.length);
  const current = new Float64Array(order.length);
  order.forEach((c, i) => {
    reference[i] = rc[c];
    current[i] = cc[c];
  });
  return { keys: order.map((c) => categories[c]), reference, current, referenceSize: nRef, currentSize: nCur };
}
