import { mkdtemp, rename, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { literal, openDuck } from '@mlp/duckdb';

/**
 * A downloaded Parquet file as CSV with a header (DuckDB's rendering:
 * timestamps as `2024-01-09 00:00:00`), written to a temp name then renamed.
 */
export async function parquetToCsv(source: string, output: string): Promise<void> {
  const work = await mkdtemp(join(tmpdir(), 'mlp-csv-'));
  const temp = join(dirname(resolve(output)), `.${process.pid}.csv.tmp`);
  const duck = await openDuck(join(work, 'duck'), { threads: 1 });
  try {
    await duck.run(`COPY (SELECT * FROM read_parquet(${literal(source)})) TO ${literal(temp)} (FORMAT CSV, HEADER true)`);
    await rename(temp, output);
  } finally {
    duck.close();
    await rm(temp, { force: true });
    await rm(work, { recursive: true, force: true });
  }
}
