import { literal } from '@mlp/data';

/** SQL text helpers for DuckDB: every identifier and literal goes through these (one implementation, in @mlp/data). */
export { ident, literal } from '@mlp/data';

/** A file path as a string literal (DuckDB table functions take paths as strings). */
export const pathLiteral = (path: string): string => literal(path);
