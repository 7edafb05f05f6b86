import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { repoRoot } from '@mlp/testing';
import { printFigures, type Figure } from './report';

const CSV_ROWS = 1_000_000;
const PARQUET_ROWS = 3_000_000;

const SCHEMA = `dataset: transactions
primaryKey: [txn_id]
columns:
  txn_id:   {type: string, required: true, unique: true}
  amount:   {type: float, min: 0, max: 100000}
  country:  {type: category, values: [US, DE, FR, GB, ES]}
  ts:       {type: datetime, required: true}
  email:    {type: string, pattern: '^[^@]+@[^@]+$', nullable: true}
  qty:      {type: int, min: 0}
`;

interface Run {
  seconds: number;
  cpuSeconds: number;
  rows: number;
  peakRssMb: number;
}

function run(mode: string, path: string, format: string, schema: string, dir: string): Run {
  const work = join(dir, `${mode}-${format}`);
  mkdirSync(work, { recursive: true });
  const out = execFileSync(process.execPath, ['-r', join(repoRoot, 'tools/scripts/register.js'), join(repoRoot, 'tools/bench/src/ingest-worker.ts'), mode, path, format, schema, work], {
    cwd: repoRoot,
    encoding: 'utf8',
    maxBuffer: 1 << 20,
  });
  return JSON.parse(out) as Run;
}

/** Generated data with ~0.1% bad rows so validation has work to do. */
async function generate(dir: string): Promise<{ csv: string; parquet: string }> {
  const c = await (await DuckDBInstance.create(':memory:')).connect();
  const select = (n: number) => `SELECT 't' || i AS txn_id,
      CASE WHEN i % 1000 = 7 THEN 'n/a' ELSE CAST(round(random() * 1000, 2) AS VARCHAR) END AS amount,
      ['US','DE','FR','GB','ES','XX'][1 + (i % 6) * (CASE WHEN i % 997 = 0 THEN 1 ELSE 0 END) + (i % 5) * (CASE WHEN i % 997 = 0 THEN 0 ELSE 1 END)] AS country,
      TIMESTAMP '2024-01-01' + INTERVAL (i) SECOND AS ts,
      CASE WHEN i % 10 = 0 THEN NULL ELSE 'user' || (i % 5000) || '@example.com' END AS email,
      CAST(i % 50 AS BIGINT) AS qty
    FROM range(${n}) t(i)`;
  const csv = join(dir, 'transactions.csv');
  const parquet = join(dir, 'transactions.parquet');
  await c.run(`COPY (${select(CSV_ROWS)}) TO '${csv}' (HEADER)`);
  await c.run(`COPY (${select(PARQUET_ROWS)}) TO '${parquet}' (FORMAT PARQUET)`);
  return { csv, parquet };
}

/** Runs per contender, alternating, so a burst of load elsewhere hits both alike; the best time counts. */
const REPEATS = 3;

function best(runs: Run[]): Run {
  const fastest = runs.reduce((a, b) => (b.seconds < a.seconds ? b : a));
  // Peak RSS barely varies between runs; the highest one is the conservative figure.
  return { ...fastest, cpuSeconds: Math.min(...runs.map((r) => r.cpuSeconds)), peakRssMb: Math.max(...runs.map((r) => r.peakRssMb)) };
}

export async function benchIngest(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'mlp-bench-ingest-'));
  try {
    const schema = join(dir, 'schema.yaml');
    writeFileSync(schema, SCHEMA);
    const files = await generate(dir);
    const figures: Figure[] = [];
    for (const [format, path, rows] of [['csv', files.csv, CSV_ROWS], ['parquet', files.parquet, PARQUET_ROWS]] as const) {
      run('scan', path, format, schema, dir); // warm the page cache for every contender alike
      const copies: Run[] = [];
      const ingests: Run[] = [];
      for (let i = 0; i < REPEATS; i++) {
        copies.push(run('rewrite', path, format, schema, dir));
        ingests.push(run('ingest', path, format, schema, dir));
      }
      const copy = best(copies);
      const ours = best(ingests);
      const mb = statSync(path).size / 1e6;
      const label = `${format} ${rows.toLocaleString('en-US')} rows (${mb.toFixed(0)} MB)`;
      figures.push(
        {
          name: `ingest+validate ${label}`,
          value: ours.rows / ours.seconds,
          unit: 'rows/s',
          baseline: { name: 'bare DuckDB COPY to Parquet', value: copy.rows / copy.seconds },
          goal: '≥ 0.6×',
        },
        { name: `  same, by CPU time (load-independent)`, value: ours.rows / ours.cpuSeconds, unit: 'rows/cpu-s', baseline: { name: 'bare COPY', value: copy.rows / copy.cpuSeconds } },
        { name: `  peak RSS ingest+validate`, value: ours.peakRssMb, unit: 'MB', baseline: { name: 'bare COPY peak RSS', value: copy.peakRssMb }, goal: '≤ 1.5×' },
      );
    }
    printFigures(`ingestion (DuckDB engine, declared schema, 6 columns, ~0.2% bad rows; best of ${REPEATS} alternating runs)`, figures);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
