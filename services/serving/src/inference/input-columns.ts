import type { Category, Cell, Column } from '@mlp/ml';
import type { CompiledInput, InputSchema } from './input-schema';

/**
 * One input column of many rows, as a columnar reader holds it: numbers by
 * row (`nulls[r] = 1` where the cell is null), or codes into a dictionary of
 * cells (-1 where the cell is null). A dictionary holds each distinct value
 * once, whatever its type (text a reader could not convert stays text).
 */
export type InputColumnValues =
  | { kind: 'numbers'; values: Float64Array; nulls: Uint8Array }
  | { kind: 'codes'; codes: Int32Array; dictionary: readonly unknown[] };

/** What checking a column gives: the column the saved pipeline reads, and the bad rows with their messages. */
export interface CheckedColumn {
  column: Column;
  /** Rows (ascending) whose cell failed the check, with the message `InputSchema.check` gives for it. */
  bad: { row: number; message: string }[];
}

/**
 * The columnar form of {@link InputSchema.check} over `n` rows: the same
 * decision and the same message for every cell, computed per distinct value
 * (a dictionary entry is checked once) or, for numbers, with the checks of a
 * finite number inlined and `check` itself called on any other value. Number
 * and integer inputs become a Float64Array (NaN where missing), other inputs
 * a coded column; a bad row's slot holds a missing value, so it must be left
 * out (transformToMatrix `rows`) rather than predicted.
 */
export function checkColumn(schema: InputSchema, input: CompiledInput, values: InputColumnValues, n: number): CheckedColumn {
  const bad: { row: number; message: string }[] = [];
  const numeric = input.kind === 'number' || input.kind === 'integer';
  if (values.kind === 'numbers') {
    const { values: v, nulls } = values;
    if (numeric && !input.values) {
      const out = new Float64Array(n);
      const nullMessage = input.nullable ? undefined : (schema.check(input, null) as string);
      const { min, max } = input;
      const integer = input.kind === 'integer';
      for (let r = 0; r < n; r++) {
        const x = v[r];
        if (nulls[r] === 1) {
          out[r] = NaN;
          if (nullMessage !== undefined) bad.push({ row: r, message: nullMessage });
        } else if (Number.isFinite(x) && (!integer || Number.isInteger(x)) && (min === undefined || x >= min) && (max === undefined || x <= max)) {
          out[r] = x;
        } else {
          // NaN, ±Infinity, a fraction or a bound: `check` decides (NaN may be a missing value) and says why.
          const checked = schema.check(input, x);
          if (typeof checked === 'string') bad.push({ row: r, message: checked });
          out[r] = typeof checked === 'string' || checked.value === null ? NaN : (checked.value as number);
        }
      }
      return { column: out, bad };
    }
    // Numbers for any other input: coded, each distinct number checked once.
    const codes = new Int32Array(n);
    const dictionary: unknown[] = [];
    const index = new Map<number, number>();
    for (let r = 0; r < n; r++) {
      if (nulls[r] === 1) {
        codes[r] = -1;
        continue;
      }
      const x = v[r];
      let code = index.get(x);
      if (code === undefined) {
        code = dictionary.length;
        dictionary.push(x);
        index.set(x, code);
      }
      codes[r] = code;
    }
    return checkCodes(schema, input, codes, dictionary, n, bad);
  }
  return checkCodes(schema, input, values.codes, values.dictionary, n, bad);
}

function checkCodes(schema: InputSchema, input: CompiledInput, codes: Int32Array, dictionary: readonly unknown[], n: number, bad: { row: number; message: string }[]): CheckedColumn {
  // Each dictionary entry once: its checked cell, or the message. A null entry is a missing value like code -1.
  const nullChecked = schema.check(input, null);
  const cells: (Cell | undefined)[] = new Array(dictionary.length);
  const messages: (string | undefined)[] = new Array(dictionary.length);
  for (let k = 0; k < dictionary.length; k++) {
    const checked = schema.check(input, dictionary[k]);
    if (typeof checked === 'string') messages[k] = checked;
    else cells[k] = checked.value;
  }
  const nullMessage = typeof nullChecked === 'string' ? nullChecked : undefined;
  if (input.kind === 'number' || input.kind === 'integer') {
    const out = new Float64Array(n);
    for (let r = 0; r < n; r++) {
      const code = codes[r];
      const message = code < 0 ? nullMessage : messages[code];
      if (message !== undefined) bad.push({ row: r, message });
      const cell = code < 0 ? null : cells[code];
      out[r] = typeof cell === 'number' ? cell : NaN;
    }
    return { column: out, bad };
  }
  // Codes into the checked values: a missing or bad cell is -1; values that check to null are missing too.
  const remap = new Int32Array(dictionary.length);
  const kept: Category[] = [];
  const position = new Map<Category, number>();
  for (let k = 0; k < dictionary.length; k++) {
    const cell = cells[k];
    if (cell === undefined || cell === null) {
      remap[k] = -1;
      continue;
    }
    let at = position.get(cell);
    if (at === undefined) {
      at = kept.length;
      kept.push(cell);
      position.set(cell, at);
    }
    remap[k] = at;
  }
  const out = new Int32Array(n);
  for (let r = 0; r < n; r++) {
    const code = codes[r];
    const message = code < 0 ? nullMessage : messages[code];
    if (message !== undefined) bad.push({ row: r, message });
    out[r] = code < 0 ? -1 : remap[code];
  }
  return { column: { kind: 'codes', codes: out, dictionary: kept }, bad };
}
