import { ValidationError } from '@mlp/contracts';

/** A class label: numbers and strings as in sklearn's `y`. */
export type Label = string | number;

/** Row indices of one train/test partition. */
export interface IndexSplit {
  train: number[];
  test: number[];
}

export function invalid(path: string, message: string): ValidationError {
  return new ValidationError(`${path} ${message}`, [{ path, message }]);
}

export function requireSameLength(a: ArrayLike<unknown>, b: ArrayLike<unknown>, aName: string, bName: string): void {
  if (a.length === 0) throw invalid(aName, 'must not be empty');
  if (a.length !== b.length) throw invalid(bName, `must have the same length as ${aName} (${a.length}), received ${b.length}`);
}

export function requireFinite(values: readonly number[], name: string): void {
  values.forEach((v, i) => {
    if (typeof v !== 'number' || !Number.isFinite(v)) throw invalid(`${name}[${i}]`, `must be a finite number, received ${v}`);
  });
}

/** Distinct labels in sklearn's order: numbers ascending, then strings by code unit. */
export function sortedLabels(...arrays: ReadonlyArray<readonly Label[]>): Label[] {
  const distinct = new Set<Label>();
  for (const array of arrays) for (const label of array) distinct.add(label);
  return [...distinct].sort(compareLabels);
}

export function compareLabels(a: Label, b: Label): number {
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  if (typeof a === 'number') return -1;
  if (typeof b === 'number') return 1;
  return a < b ? -1 : a > b ? 1 : 0;
}

/** 0 when the denominator is 0, like sklearn's default `zero_division` value. */
export function safeDivide(numerator: number, denominator: number): number {
  return denominator === 0 ? 0 : numerator / denominator;
}

export function mean(values: readonly number[]): number {
  let sum = 0;
  for (const v of values) sum += v;
  return sum / values.length;
}

/** A fraction strictly between 0 and 1 (`test` of a split). */
export function requireFraction(value: number, path: string): void {
  if (!(typeof value === 'number' && value > 0 && value < 1)) throw invalid(path, `must be a fraction strictly between 0 and 1, received ${value}`);
}

/** An integer fold count k with 2 <= k <= n. */
export function requireFoldCount(k: number, n: number, unit: string): void {
  if (!Number.isInteger(k) || k < 2) throw invalid('k', `must be an integer of at least 2, received ${k}`);
  if (k > n) throw invalid('k', `cannot exceed the number of ${unit} (${n}), received ${k}`);
}

export function range(lo: number, hi: number): number[] {
  return Array.from({ length: Math.max(0, hi - lo) }, (_, i) => lo + i);
}

/** Indices 0..n-1 not in `test`, ascending. */
export function complement(n: number, test: readonly number[]): number[] {
  const inTest = new Uint8Array(n);
  for (const i of test) inTest[i] = 1;
  const train: number[] = [];
  for (let i = 0; i < n; i++) if (!inTest[i]) train.push(i);
  return train;
}

export const ascending = (a: number, b: number): number => a - b;
