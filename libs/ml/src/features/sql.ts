/** Small helpers for generated DuckDB SQL (identifiers and string literals: `ident`/`literal` from @mlp/data). */

/** A numeric literal in parentheses (so `x < (-5)` never reads as an operator pair). */
export function numberLiteral(value: number): string {
  if (!Number.isFinite(value)) throw new RangeError(`not a finite number: ${value}`);
  return `(${String(value)})`;
}

/** An exact INTERVAL of whole microseconds. */
export function microsecondsInterval(micros: number): string {
  if (!Number.isSafeInteger(micros) || micros < 0) throw new RangeError(`not a whole number of microseconds: ${micros}`);
  return `INTERVAL '${micros} microseconds'`;
}

export const identifierPattern = /^[A-Za-z_][A-Za-z0-9_]*$/;
