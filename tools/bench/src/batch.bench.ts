import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import type { BatchJobView } from '@mlp/contracts';
import { spawnTs, type SpawnedProcess } from '@mlp/testing';
import { printFigures } from './report';
import { MODEL, prepareBenchModel } from './serving-shared';

const CHUNK_ROWS = 10_000;
/** The old-space cap of the second run (--max-old-space-size). */
const HEAP_CAP_MIB = 160;

interface ServerHandle {
  port: number;
  proc?: { child: { pid?: number }; output?(): string };
}

/** CPU seconds (user + system, every thread) a process used so far, from /proc. */
function cpuSeconds(pid: number | undefined): number {
  if (pid === undefined) return NaN;
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

/** Rows of bench input: the serving bench's three inputs, with an id and one bad plan per 1000 rows. */
async function writeInput(path: string, rows: number): Promise<void> {
  const db = await (await DuckDBInstance.create(':memory:')).connect();
  await db.run(`COPY (
    SELECT i AS id,
           CASE WHEN i % 17 = 5 THEN NULL ELSE round((i * 7919 % 600) / 10.0, 1) END AS tenure,
           round(20 + (i * 104729 % 8000) / 100.0, 2) AS monthly,
           CASE WHEN i % 1000 = 999 THEN 'gold' ELSE ['basic', 'pro', 'team'][1 + i % 3] END AS plan
    FROM range(${rows}) t(i)) TO '${path}' (FORMAT parquet)`);
  db.closeSync();
}

/** Uploads the input, runs one job, and times it from the request to the completed job (polled every 20 ms). */
async function runJob(server: ServerHandle, input: string, model: string): Promise<{ seconds: number; cpu: number; job: BatchJobView }> {
  try {
    return await runJobOnce(server, input, model);
  } catch (err) {
    throw new Error(`${(err as Error).message}; serving printed:\n${server.proc?.output?.() ?? ''}`, { cause: err });
  }
}

async function runJobOnce(server: ServerHandle, input: string, model: string): Promise<{ seconds: number; cpu: number; job: BatchJobView }> {
  const base = `http://127.0.0.1:${server.port}`;
  const upload = await fetch(`${base}/batch/inputs`, { method: 'POST', headers: { 'content-type': 'application/octet-stream' }, body: readFileSync(input) });
  const { key } = (await upload.json()) as { key: string };
  const t0 = process.hrtime.bigint();
  const cpu0 = cpuSeconds(server.proc?.child.pid);
  const res = await fetch(`${base}/batch/jobs`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ model: `${model}@production`, input: { upload: key }, format: 'parquet', chunkRows: CHUNK_ROWS }),
  });
  let job = (await res.json()) as BatchJobView;
  if (res.status !== 202) throw new Error(`batch job refused: ${JSON.stringify(job)}`);
  while (job.status === 'running') {
    await new Promise((r) => setTimeout(r, 20));
    job = (await (await fetch(`${base}/batch/jobs/${job.jobId}`)).json()) as BatchJobView;
  }
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  const cpu = cpuSeconds(server.proc?.child.pid) - cpu0;
  if (job.status !== 'completed') throw new Error(`batch job failed: ${JSON.stringify(job.error)}`);
  return { seconds, cpu, job };
}

/**
 * Batch inference throughput (part of `npm run bench -- serving`): one job
 * over MLP_BENCH_BATCH_ROWS rows (default 1M) in a serving process of its
 * own (input download, columnar validation, saved pipeline, model, one
 * Parquet row group per chunk as a part file, checkpoints, assembly by
 * DuckDB), against a bare loop of
 * model.predict over the same rows in the same chunks, in another process,
 * with the rows already in memory and preprocessed. Peak RSS of both, and
 * of the job run again with V8's old space capped (memory it needs, not
 * what V8 keeps before collecting).
 */
export async function benchBatch(
  home: string,
  keys: { modelKey: string; preprocessingKey: string },
  model: string,
  serving: { start(env?: NodeJS.ProcessEnv): Promise<ServerHandle>; stop(server: ServerHandle): Promise<number> },
): Promise<void> {
  const rows = Number(process.env.MLP_BENCH_BATCH_ROWS ?? 1_000_000);
  const input = join(home, 'batch-input.parquet');
  await writeInput(input, rows);

  const bare = spawnTs('tools/bench/src/batch-worker.ts', [home, input, String(CHUNK_ROWS), keys.modelKey, keys.preprocessingKey], {});
  const exit = await bare.exited;
  const out = /^BARE (\d+) ([\d.e-]+) ([\d.e-]+) ([\d.e-]+)$/m.exec(bare.output());
  if (exit !== 0 || !out) throw new Error(`bare batch loop failed:\n${bare.output()}`);
  const [bareRows, predictSeconds, preprocessSeconds, predictCpu] = [Number(out[1]), Number(out[2]), Number(out[3]), Number(out[4])];
  const barePeak = Number(/PEAK ([\d.]+)/.exec(bare.output())?.[1] ?? NaN);

  // MLP_BENCH_BATCH_PROFILE=<dir>: the first job's serving process is started with `-r <dir>/cpuprof-hook.js` (a profiler hook of your own, not in the repo; MLP_PROF_OUT=<dir>).
  const profile = process.env.MLP_BENCH_BATCH_PROFILE;
  const server = await serving.start({ MLP_BATCH_STAGES: '1', ...(profile ? { NODE_OPTIONS: `-r ${profile}/cpuprof-hook.js`, MLP_PROF_OUT: profile } : {}) });
  const { seconds, cpu, job } = await runJob(server, input, model);
  const servingPeak = await serving.stop(server);
  // Stage times of the first job (ms, MLP_BATCH_STAGES): the submit's checks, then the run's stages.
  const stageLines = (server.proc?.output?.() ?? '').split('\n').filter((l) => l.startsWith('BATCH_STAGES '));
  // V8 grows its heap lazily under this allocation rate: the same job again with the old space capped shows what it needs.
  const capped = await serving.start({ NODE_OPTIONS: `--max-old-space-size=${HEAP_CAP_MIB}` });
  const cappedRun = await runJob(capped, input, model);
  const cappedPeak = await serving.stop(capped);

  const predictOnly = { name: 'bare model.predict loop', value: bareRows / predictSeconds };
  printFigures(`serving: batch inference, ${rows.toLocaleString('en-US')} rows in chunks of ${CHUNK_ROWS.toLocaleString('en-US')} (wasm, MLP 64-32)`, [
    { name: 'bare model.predict loop (rows in memory)', value: predictOnly.value, unit: 'rows/s' },
    { name: 'bare pipeline + model.predict loop', value: bareRows / (predictSeconds + preprocessSeconds), unit: 'rows/s', baseline: predictOnly },
    { name: 'batch job (read, validate, predict, store)', value: rows / seconds, unit: 'rows/s', baseline: predictOnly, goal: '≥ 0.8× bare' },
    { name: `batch job: ${job.predicted} predicted, ${job.rejected} rejected`, value: seconds, unit: 's' },
    // Per CPU second (every thread of the process): steadier than wall time on a shared machine.
    { name: 'bare model.predict loop, per CPU second', value: bareRows / predictCpu, unit: 'rows/cpu-s' },
    { name: 'batch job, per CPU second', value: rows / cpu, unit: 'rows/cpu-s', baseline: { name: 'bare', value: bareRows / predictCpu }, goal: '≥ 0.8× bare' },
    { name: 'bare model.predict loop, CPU per row', value: (predictCpu * 1e6) / bareRows, unit: 'µs/row' },
    { name: 'batch job, CPU per row (all threads, model load and assembly included)', value: (cpu * 1e6) / rows, unit: 'µs/row', baseline: { name: 'bare', value: (predictCpu * 1e6) / bareRows } },
    { name: 'peak RSS, bare loop (all rows in memory)', value: barePeak, unit: 'MiB' },
    { name: 'peak RSS, serving running the job', value: servingPeak, unit: 'MiB', baseline: { name: 'bare', value: barePeak } },
    { name: `peak RSS, same job, old space ≤ ${HEAP_CAP_MIB} MiB`, value: cappedPeak, unit: 'MiB', baseline: { name: 'bare', value: barePeak } },
    { name: `batch job with old space ≤ ${HEAP_CAP_MIB} MiB`, value: rows / cappedRun.seconds, unit: 'rows/s', baseline: predictOnly },
  ]);
  for (const line of stageLines) console.log(`batch job stages (ms): ${line.slice('BATCH_STAGES '.length)}`);
}

/** A serving process of the bench (serving-worker.ts), up when it prints `READY <port>`. */
async function startServing(home: string, env: NodeJS.ProcessEnv): Promise<ServerHandle & { proc: SpawnedProcess }> {
  const proc = spawnTs('tools/bench/src/serving-worker.ts', ['serving', home], env);
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`serving did not start:\n${proc.output()}`)), 120_000);
    proc.child.stdout!.on('data', () => {
      const m = /^READY (\d+)/m.exec(proc.output());
      if (m) {
        clearTimeout(timer);
        resolve(Number(m[1]));
      }
    });
    void proc.exited.then((code) => reject(new Error(`serving exited ${code}:\n${proc.output()}`)));
  });
  return { proc, port };
}

/** `npm run bench -- batch`: the batch figures alone, on the serving bench's model, in a home of their own. */
export async function benchBatchAlone(): Promise<void> {
  const home = mkdtempSync(join(tmpdir(), 'mlp-bench-batch-'));
  try {
    const keys = await prepareBenchModel(home);
    const env = { MLP_SERVING_GRPC_PORT: '0', MLP_SERVING_RPC_PORT: '0', MLP_SERVING_MAX_BATCH_SIZE: '64', MLP_AUTH: 'off' };
    await benchBatch(home, keys, MODEL, {
      start: (extra = {}) => startServing(home, { ...env, ...extra }),
      stop: async (server) => {
        const proc = (server as ServerHandle & { proc: SpawnedProcess }).proc;
        await proc.kill('SIGTERM');
        return Number(/PEAK ([\d.]+)/.exec(proc.output())?.[1] ?? NaN);
      },
    });
  } finally {
    rmSync(home, { recursive: true, force: true });
  }
}
