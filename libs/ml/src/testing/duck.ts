import { DuckDBInstance } from '@duckdb/node-api';

/**
 * Test-only: an in-memory DuckDB to execute generated SQL. Not exported from
 * the library (libs/ml does no I/O); values come back as plain JS: BIGINT →
 * number, TIMESTAMP/DATE → 'YYYY-MM-DD HH:MM:SS' / 'YYYY-MM-DD' strings.
 */
export interface TestDuck {
  run(sql: string): Promise<void>;
  all(sql: string): Promise<Record<string, unknown>[]>;
  /** Column names and DuckDB types of a query's result. */
  describe(sql: string): Promise<{ name: string; type: string }[]>;
  close(): void;
}

export async function openTestDuck(): Promise<TestDuck> {
  const instance = await DuckDBInstance.create(':memory:', { threads: '1' });
  const connection = await instance.connect();
  return {
    async run(sql) {
      await connection.run(sql);
    },
    async all(sql) {
      const reader = await connection.runAndReadAll(sql);
      return reader.getRowObjects().map((row) => Object.fromEntries(Object.entries(row).map(([k, v]) => [k, plain(v)])));
    },
    async describe(sql) {
      const reader = await connection.runAndReadAll(`DESCRIBE (${sql})`);
      return reader.getRowObjectsJson().map((r) => ({ name: String(r.column_name), type: String(r.column_type) }));
    },
    close() {
      connection.closeSync();
      instance.closeSync();
    },
  };
}

function plain(value: unknown): unknown {
  if (typeof value === 'bigint') return Number(value);
  if (value === null || typeof value !== 'object') return value;
  return String(value);
}

/** `2024-01-01 00:00:00` plus days (fractions allowed), as a TIMESTAMP literal's text. */
export function day(days: number): string {
  return new Date(Date.UTC(2024, 0, 1) + Math.round(days * 86_400_000)).toISOString().replace('T', ' ').slice(0, 19);
}
