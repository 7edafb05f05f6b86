import { readFileSync } from 'node:fs';
import { DuckDBInstance } from '@duckdb/node-api';
import { parseSchemaYaml } from '@mlp/data';
import { processFile } from '@mlp/service-ingestion';

/** One measurement in a fresh process, so peak RSS (VmHWM) is this run's alone. */
function peakRssMb(): number {
  const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'));
  return m ? Number(m[1]) / 1024 : process.memoryUsage().rss / 1024 / 1024;
}

async function main(): Promise<void> {
  const [mode, path, format, schemaPath, workDir] = process.argv.slice(2);
  const start = process.hrtime.bigint();
  const cpu = process.cpuUsage();
  let rows = 0;
  if (mode === 'scan' || mode === 'rewrite') {
    const db = await DuckDBInstance.create(':memory:', { threads: '2', temp_directory: `${workDir}/duck`, memory_limit: '1GB' });
    const c = await db.connect();
    const reader = format === 'csv' ? `read_csv('${path}')` : `read_parquet('${path}')`;
    if (mode === 'scan') await c.run(`CREATE TABLE t AS SELECT * FROM ${reader}`);
    else await c.run(`COPY (SELECT * FROM ${reader}) TO '${workDir}/rewrite.parquet' (FORMAT PARQUET)`);
    rows = Number((await c.runAndReadAll(mode === 'scan' ? 'SELECT count(*) AS n FROM t' : `SELECT count(*) AS n FROM '${workDir}/rewrite.parquet'`)).getRowObjectsJson()[0].n);
  } else {
    const schema = parseSchemaYaml(readFileSync(schemaPath, 'utf8'));
    const result = await processFile({ path, format: format as 'csv' }, { dataset: schema.dataset, schema, workDir });
    rows = result.rows;
    if (result.accepted + result.quarantined !== result.rows) throw new Error('counts do not reconcile');
  }
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  const used = process.cpuUsage(cpu);
  // CPU seconds (DuckDB's threads included): steadier than wall time when other work shares the cores.
  process.stdout.write(JSON.stringify({ seconds, cpuSeconds: (used.user + used.system) / 1e6, rows, peakRssMb: peakRssMb() }));
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
