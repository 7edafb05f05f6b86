/**
 * SQL text helpers: every identifier and string literal spliced into
 * generated SQL (DuckDB, PostgreSQL) goes through these two, and nothing
 * else in the repository quotes by hand. They live in this pure library so
 * that libs/ml (which generates DuckDB SQL but may not depend on an adapter)
 * and libs/duckdb (which re-exports them) share one implementation.
 */

/** `"`-quoted with `"` doubled: the quoting rule of SQL identifiers and of RFC 4180 CSV fields alike. */
export function doubleQuoted(text: string): string {
  return `"${text.replace(/"/g, '""')}"`;
}

/** A double-quoted identifier, `"` doubled: any name is safe to splice, reserved words (`order`) included. */
export function ident(name: string): string {
  return doubleQuoted(name);
}

/** A literal: strings single-quoted with `'` doubled, finite numbers as written, booleans, NULL. */
export function literal(value: string | number | boolean | null): string {
  if (value === null) return 'NULL';
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new RangeError(`not a finite number: ${value}`);
    return String(value);
  }
  if (typeof value === 'boolean') return value ? 'TRUE' : 'FALSE';
  return `'${value.replace(/'/g, "''")}'`;
}
