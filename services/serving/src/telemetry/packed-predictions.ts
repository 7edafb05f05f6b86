import type { PredictionEntry } from './prediction-entry';

/**
 * A flush's prediction entries as a few flat arrays of primitives, for the
 * trip to the telemetry worker: a structured clone of one object per request
 * (with its frame, outputs and per-row probability arrays) cost more, on both
 * threads, than the SQLite insert of its rows; flat arrays of numbers and
 * strings clone for a fraction of that. Repeated strings (model, arm,
 * instance, key hash, column names) are sent once.
 */
export interface PackedPredictions {
  /** Requests. */
  count: number;
  requestIds: string[];
  /** Distinct strings referred to by `refs`. */
  strings: string[];
  /** Per request: model, arm, instance, keyHash (-1: none), column set: indexes into `strings` / `columnSets`. */
  refs: number[];
  /** Per request: version, latencyMs, at (epoch ms), rows. */
  nums: number[];
  /** Distinct input column lists. */
  columnSets: string[][];
  /** Per request, column by column, row by row: the input cells. */
  cells: unknown[];
  /** Per row: the prediction. */
  predictions: unknown[];
  /** Per row: how many probabilities follow in `probabilities` (-1: none). */
  probabilityCounts: number[];
  probabilities: number[];
}

const REFS = 5;
const NUMS = 4;

export function packPredictions(entries: readonly PredictionEntry[]): PackedPredictions {
  const strings: string[] = [];
  const index = new Map<string, number>();
  const ref = (s: string) => {
    let i = index.get(s);
    if (i === undefined) {
      i = strings.length;
      strings.push(s);
      index.set(s, i);
    }
    return i;
  };
  const columnSets: string[][] = [];
  const setIndex = new Map<string, number>();
  const packed: PackedPredictions = { count: entries.length, requestIds: [], strings, refs: [], nums: [], columnSets, cells: [], predictions: [], probabilityCounts: [], probabilities: [] };
  const { requestIds, refs, nums, cells, predictions, probabilityCounts, probabilities } = packed;
  let lastNames: string[] = [];
  let lastSet = -1;
  for (const e of entries) {
    const names = Object.keys(e.features);
    let set = lastSet;
    if (!sameNames(names, lastNames)) {
      const setKey = names.join('\u0000');
      set = setIndex.get(setKey) ?? -1;
      if (set < 0) {
        set = columnSets.length;
        columnSets.push(names);
        setIndex.set(setKey, set);
      }
      lastNames = names;
      lastSet = set;
    }
    requestIds.push(e.requestId);
    refs.push(ref(e.model), ref(e.arm), ref(e.instance), e.keyHash ? ref(e.keyHash) : -1, set);
    nums.push(e.version, e.latencyMs, e.at, e.n);
    for (const c of names) {
      const column = e.features[c] as ArrayLike<unknown>;
      for (let r = 0; r < e.n; r++) cells.push(column[r] ?? null);
    }
    for (let r = 0; r < e.n; r++) {
      predictions.push(e.predictions[r] ?? null);
      const p = e.probabilities?.[r];
      probabilityCounts.push(p ? p.length : -1);
      if (p) for (let j = 0; j < p.length; j++) probabilities.push(p[j]);
    }
  }
  return packed;
}

function sameNames(a: readonly string[], b: readonly string[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** One request of a packed flush, as `forEachPacked` hands it over. */
export interface PackedRequest {
  requestId: string;
  model: string;
  arm: string;
  instance: string;
  keyHash: string | null;
  version: number;
  latencyMs: number;
  at: number;
  n: number;
  columns: readonly string[];
  /** Input cell of column `c` (index in `columns`), row `r`. */
  cell(c: number, r: number): unknown;
  prediction(r: number): unknown;
  /** The row's probabilities, or undefined. */
  probabilities(r: number): number[] | undefined;
}

/** Calls `visit` for each request of `packed`, in order (one reused view: read it during the call only). */
export function forEachPacked(packed: PackedPredictions, visit: (request: PackedRequest) => void): void {
  const { strings, refs, nums, columnSets, cells, predictions, probabilityCounts, probabilities } = packed;
  let cellAt = 0;
  let rowAt = 0;
  let probabilityAt = 0;
  const rowProbabilityStart: number[] = [];
  const view: PackedRequest = {
    requestId: '',
    model: '',
    arm: '',
    instance: '',
    keyHash: null,
    version: 0,
    latencyMs: 0,
    at: 0,
    n: 0,
    columns: [],
    cell: (c, r) => cells[cellAt + c * view.n + r],
    prediction: (r) => predictions[rowAt + r],
    probabilities: (r) => {
      const k = probabilityCounts[rowAt + r];
      return k < 0 ? undefined : probabilities.slice(rowProbabilityStart[r], rowProbabilityStart[r] + k);
    },
  };
  for (let i = 0; i < packed.count; i++) {
    const keyHash = refs[i * REFS + 3];
    view.requestId = packed.requestIds[i];
    view.model = strings[refs[i * REFS]];
    view.arm = strings[refs[i * REFS + 1]];
    view.instance = strings[refs[i * REFS + 2]];
    view.keyHash = keyHash < 0 ? null : strings[keyHash];
    view.columns = columnSets[refs[i * REFS + 4]];
    view.version = nums[i * NUMS];
    view.latencyMs = nums[i * NUMS + 1];
    view.at = nums[i * NUMS + 2];
    view.n = nums[i * NUMS + 3];
    rowProbabilityStart.length = 0;
    for (let r = 0; r < view.n; r++) {
      rowProbabilityStart.push(probabilityAt);
      probabilityAt += Math.max(0, probabilityCounts[rowAt + r]);
    }
    visit(view);
    cellAt += view.columns.length * view.n;
    rowAt += view.n;
  }
}
