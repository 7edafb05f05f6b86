/** A numeric column: a typed array (or plain numbers). NaN and ±Infinity are missing values. */
export type NumericArray =
  | Float64Array
  | Float32Array
  | Int32Array
  | Int16Array
  | Int8Array
  | Uint32Array
  | Uint16Array
  | Uint8Array
  | readonly number[];

/** A categorical column as dictionary codes: `codes[i]` indexes `categories`; a negative code is a missing value. */
export interface CategoricalCodes {
  readonly codes: Int32Array | Int16Array | Int8Array;
  readonly categories: readonly string[];
}

/** A categorical column: strings (null/undefined missing) or dictionary codes. */
export type CategoricalArray = readonly (string | null | undefined)[] | CategoricalCodes;

export type DriftColumn = NumericArray | CategoricalArray;

/**
 * Value counts of two samples over the union of their values (Evidently's
 * `get_unique_not_nan_values_list_from_series` keys). `keys` is sorted ascending
 * (numbers numerically, strings by code point) so the Z-test's first key is Python's `sorted(keys)[0]`.
 */
export interface PairCounts {
  readonly keys: readonly (string | number)[];
  readonly reference: Float64Array;
  readonly current: Float64Array;
  readonly referenceSize: number;
  readonly currentSize: number;
}

export const isCodes = (c: unknown): c is CategoricalCodes =>
  typeof c === 'object' && c !== null && !Array.isArray(c) && !ArrayBuffer.isView(c) && 'codes' in c && 'categories' in c;

export const isIntegerTyped = (a: NumericArray): boolean =>
  a instanceof Int32Array || a instanceof Int16Array || a instanceof Int8Array || a instanceof Uint32Array || a instanceof Uint16Array || a instanceof Uint8Array;
