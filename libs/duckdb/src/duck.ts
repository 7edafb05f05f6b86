import { mkdirSync } from 'node:fs';
import { DuckDBInstance, type DuckDBConnection, type DuckDBDataChunk } from '@duckdb/node-api';

export type { DuckDBDataChunk };

export interface Duck {
  run(sql: string): Promise<void>;
  all<T = Record<string, unknown>>(sql: string): Promise<T[]>;
  one<T = Record<string, unknown>>(sql: string): Promise<T>;
  /** Streams a result chunk by chunk (about 2048 rows each), for readers that fill columns and never hold row objects. */
  chunks(sql: string): AsyncIterable<DuckDBDataChunk>;
  close(): void;
}

/**
 * A private in-memory DuckDB for one job. It spills to `tempDir` past its
 * memory limit, so large inputs stay within bounded memory.
 */
export async function openDuck(tempDir: string, options: { threads?: number; memoryLimit?: string } = {}): Promise<Duck> {
  mkdirSync(tempDir, { recursive: true });
  const instance = await DuckDBInstance.create(':memory:', {
    threads: String(options.threads ?? 2),
    memory_limit: options.memoryLimit ?? process.env.MLP_DUCKDB_MEMORY_LIMIT ?? '1GB',
    temp_directory: tempDir,
    preserve_insertion_order: 'true',
  });
  const connection: DuckDBConnection = await instance.connect();
  // Times without a zone are UTC on the platform: TIMESTAMPTZ ↔ TIMESTAMP casts never use the machine's local zone.
  // (The setting belongs to the ICU extension, loaded on first use: it cannot go into the instance options.)
  await connection.run(`SET TimeZone = 'UTC'`);
  return {
    async run(sql) {
      const t = startTrace();
      await connection.run(sql);
      endTrace(t, sql);
    },
    async all<T>(sql: string) {
      const t = startTrace();
      const reader = await connection.runAndReadAll(sql);
      endTrace(t, sql);
      return reader.getRowObjectsJson() as T[];
    },
    async one<T>(sql: string) {
      const t = startTrace();
      const reader = await connection.runAndReadAll(sql);
      endTrace(t, sql);
      return reader.getRowObjectsJson()[0] as T;
    },
    async *chunks(sql: string) {
      const result = await connection.stream(sql);
      for (;;) {
        const chunk = await result.fetchChunk();
        if (!chunk || chunk.rowCount === 0) return;
        yield chunk;
      }
    },
    close() {
      connection.closeSync();
      instance.closeSync();
    },
  };
}

/** `MLP_DUCK_TRACE=1`: each statement's wall time and CPU time (DuckDB's threads included) on stderr, its SQL cut at `MLP_DUCK_TRACE_LEN` characters (110) */
function startTrace(): { wall: number; cpu: NodeJS.CpuUsage } | null {
  return process.env.MLP_DUCK_TRACE ? { wall: Date.now(), cpu: process.cpuUsage() } : null;
}

function endTrace(t: { wall: number; cpu: NodeJS.CpuUsage } | null, sql: string): void {
  if (!t) return;
  const cpu = process.cpuUsage(t.cpu);
  console.error(`${Date.now() - t.wall}ms (cpu ${Math.round((cpu.user + cpu.system) / 1000)}ms) ${sql.replace(/\s+/g, ' ').slice(0, Number(process.env.MLP_DUCK_TRACE_LEN ?? 110))}`);
}
