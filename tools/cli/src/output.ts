/** Human tables by default, `--json` for machines. */
export function printTable(rows: Record<string, unknown>[], columns: string[], options: TableOptions = {}): void {
  for (const line of formatTable(rows, columns, options)) console.log(line);
}

export interface TableOptions {
  /** Columns aligned right (numbers). */
  right?: string[];
  /** Header text per column (default: the column name in upper case). */
  headers?: Record<string, string>;
}

/** The lines of a table: a header, then one line per row; `(none)` when there are no rows. Trailing spaces are trimmed. */
export function formatTable(rows: Record<string, unknown>[], columns: string[], options: TableOptions = {}): string[] {
  if (rows.length === 0) return ['(none)'];
  const right = new Set(options.right ?? []);
  const header = (c: string) => options.headers?.[c] ?? c.toUpperCase();
  const cell = (v: unknown) => (v === undefined || v === null ? '' : typeof v === 'object' ? JSON.stringify(v) : String(v));
  const widths = columns.map((c) => Math.max(header(c).length, ...rows.map((r) => cell(r[c]).length)));
  const line = (values: string[]) =>
    values
      .map((v, i) => (right.has(columns[i]) ? v.padStart(widths[i]) : v.padEnd(widths[i])))
      .join('  ')
      .trimEnd();
  return [line(columns.map(header)), ...rows.map((r) => line(columns.map((c) => cell(r[c]))))];
}

export function printJson(value: unknown): void {
  console.log(JSON.stringify(value, null, 2));
}

/** A number for people: integers as they are, others with 4 significant digits (1 decimal from 1000 on). */
export function formatNumber(value: number | string | null | undefined): string {
  if (value === null || value === undefined) return '';
  if (typeof value === 'string') return value;
  if (!Number.isFinite(value)) return String(value);
  if (Number.isInteger(value)) return String(value);
  if (Math.abs(value) >= 1000) return value.toFixed(1);
  return String(Number(value.toPrecision(4)));
}

/** 0.0316 → "3.2%"; 0 → "0%". */
export function formatPercent(fraction: number): string {
  if (fraction === 0) return '0%';
  return `${(fraction * 100).toFixed(1)}%`;
}

/** Decimal units: 999 B, 1.5 kB, 13.0 MB, 2.10 GB. */
export function formatBytes(bytes: number): string {
  if (bytes < 1000) return `${Math.round(bytes)} B`;
  const units = ['kB', 'MB', 'GB', 'TB'];
  let value = bytes / 1000;
  let unit = 0;
  while (value >= 1000 && unit < units.length - 1) {
    value /= 1000;
    unit++;
  }
  return `${value.toFixed(unit >= 2 ? 2 : 1)} ${units[unit]}`;
}

/** Cuts a string to `max` characters, ending with … when cut. */
export function truncate(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, Math.max(0, max - 1))}…`;
}
