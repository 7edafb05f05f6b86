import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import autocannon from 'autocannon';
import { loadV2Service } from '@mlp/service-serving';
import { spawnTs, type SpawnedProcess } from '@mlp/testing';
import { printFigures, type Figure } from './report';
import { benchRows, MODEL, prepareBenchModel } from './serving-shared';
import { benchBatch } from './batch.bench';
import { benchShadow } from './serving-shadow.bench';

const CLIENTS = 32;
/** Seconds per configuration, split into ROUNDS turns. */
const SECONDS = Number(process.env.MLP_BENCH_SECONDS ?? 9);
const ROUNDS = Number(process.env.MLP_BENCH_ROUNDS ?? 3);

interface Server {
  proc: SpawnedProcess;
  port: number;
  grpcPort?: number;
}

interface Run {
  rps: number;
  p50: number;
  p99: number;
  errors: number;
  /** Server CPU (all its threads) per answered request, µs; less sensitive to a shared machine than req/s. */
  cpuUs?: number;
}

/** CPU seconds the process has used so far (user + system, all threads), from /proc. */
function cpuSeconds(pid: number | undefined): number {
  if (pid === undefined) return NaN;
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return NaN;
  }
}

/** `run` with the server's CPU per request added. */
async function withCpu(s: Server, run: () => Promise<Run & { total: number }>): Promise<Run> {
  const before = cpuSeconds(s.proc.child.pid);
  const r = await run();
  const cpu = cpuSeconds(s.proc.child.pid) - before;
  return { rps: r.rps, p50: r.p50, p99: r.p99, errors: r.errors, cpuUs: r.total > 0 ? (cpu * 1e6) / r.total : NaN };
}

async function startServer(args: string[], env: NodeJS.ProcessEnv): Promise<Server> {
  const proc = spawnTs('tools/bench/src/serving-worker.ts', args, env);
  const line = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`server did not start:\n${proc.output()}`)), 120_000);
    proc.child.stdout!.on('data', () => {
      const m = /^READY .*$/m.exec(proc.output());
      if (m) {
        clearTimeout(timer);
        resolve(m[0]);
      }
    });
    void proc.exited.then((code) => reject(new Error(`server exited ${code}:\n${proc.output()}`)));
  });
  const [, port, grpcPort] = line.split(' ');
  return { proc, port: Number(port), ...(grpcPort ? { grpcPort: Number(grpcPort) } : {}) };
}

/** Stops a server; its peak RSS in MiB. */
async function stopServer(s: Server): Promise<number> {
  await s.proc.kill('SIGTERM');
  const m = /PEAK ([\d.]+)/.exec(s.proc.output());
  return m ? Number(m[1]) : NaN;
}

const body = (i: number) => JSON.stringify({ instances: [benchRows(64)[i % 64]] });

/** 32 clients for `seconds` with autocannon. Latencies in ms. */
async function cannon(url: string, seconds: number): Promise<Run & { total: number }> {
  const r = await autocannon({ url, method: 'POST', connections: CLIENTS, duration: seconds, headers: { 'content-type': 'application/json' }, body: body(0) });
  return { rps: r.requests.average, p50: r.latency.p50, p99: r.latency.p99, errors: r.errors + r.timeouts + r.non2xx, total: r.requests.total };
}

/** One client in a loop (low load) for `seconds`, timed with hrtime: latencies in ms with µs resolution. */
async function oneClient(port: number, path: string, seconds: number): Promise<{ latencies: number[]; errors: number }> {
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  const latencies: number[] = [];
  let errors = 0;
  const end = Date.now() + seconds * 1000;
  for (let i = 0; Date.now() < end; i++) {
    const payload = body(i);
    const start = process.hrtime.bigint();
    const status = await new Promise<number>((resolve, reject) => {
      const req = request({ host: '127.0.0.1', port, path, method: 'POST', agent, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) } }, (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      });
      req.on('error', reject);
      req.end(payload);
    });
    latencies.push(Number(process.hrtime.bigint() - start) / 1e6);
    if (status !== 200) errors++;
  }
  agent.destroy();
  return { latencies, errors };
}

/** 32 concurrent grpc-js loops calling ModelInfer with one row each, for `seconds`. */
async function grpcClients(port: number, seconds: number): Promise<Run & { total: number }> {
  const Client = loadV2Service();
  const client = new Client(`127.0.0.1:${port}`, grpc.credentials.createInsecure(), { 'grpc.enable_channelz': 0 }) as unknown as { ModelInfer(req: unknown, cb: (err: unknown, res: unknown) => void): void; close(): void };
  const rows = benchRows(64);
  const requestFor = (i: number) => {
    const r = rows[i % 64];
    return {
      model_name: MODEL,
      inputs: [
        { name: 'tenure', datatype: 'FP64', shape: [1], contents: { fp64_contents: [r.tenure ?? NaN] } },
        { name: 'monthly', datatype: 'FP64', shape: [1], contents: { fp64_contents: [r.monthly] } },
        { name: 'plan', datatype: 'BYTES', shape: [1], contents: { bytes_contents: [Buffer.from(r.plan)] } },
      ],
    };
  };
  const latencies: number[] = [];
  let errors = 0;
  const end = Date.now() + seconds * 1000;
  const loop = async (c: number) => {
    for (let i = c; Date.now() < end; i += CLIENTS) {
      const start = process.hrtime.bigint();
      const ok = await new Promise<boolean>((resolve) => client.ModelInfer(requestFor(i), (err) => resolve(!err)));
      latencies.push(Number(process.hrtime.bigint() - start) / 1e6);
      if (!ok) errors++;
    }
  };
  await Promise.all(Array.from({ length: CLIENTS }, (_, c) => loop(c)));
  client.close();
  return { rps: latencies.length / seconds, ...percentiles(latencies), errors, total: latencies.length };
}

function percentiles(values: number[]): { p50: number; p99: number } {
  const s = [...values].sort((a, b) => a - b);
  const at = (q: number) => s[Math.min(s.length - 1, Math.floor(q * s.length))] ?? NaN;
  return { p50: at(0.5), p99: at(0.99) };
}

/** Throughput over all rounds; p50/p99 as the median of the rounds' own. */
function merge(runs: Run[], seconds: number): Run {
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  return {
    rps: runs.reduce((a, r) => a + r.rps * seconds, 0) / (seconds * runs.length),
    p50: median(runs.map((r) => r.p50)),
    p99: median(runs.map((r) => r.p99)),
    errors: runs.reduce((a, r) => a + r.errors, 0),
    cpuUs: median(runs.map((r) => r.cpuUs ?? NaN)),
  };
}

/**
 * `npm run bench -- serving`: one-row requests from 32 concurrent clients
 * against (a) a bare node:http handler doing JSON → saved pipeline →
 * model.predict → JSON on the same model and backend (wasm), (b) serving
 * over REST unbatched (MLP_SERVING_MAX_BATCH_SIZE=1), (c) serving over REST
 * with adaptive batching, (d) serving over gRPC unbatched, and (e) gRPC with
 * adaptive batching. Serving runs with its defaults otherwise (fast path on,
 * telemetry of every prediction to SQLite, metrics). Each server runs in its
 * own process; the clients run here. The machine may be shared, so the
 * configurations take turns: ROUNDS rounds of SECONDS/ROUNDS each, bare
 * first in every round, and each figure is against the bare handler of the
 * same rounds. Then one client (low load), taking turns the same way, for
 * the p99 overhead.
 */
export async function benchServing(): Promise<void> {
  const home = mkdtempSync(join(tmpdir(), 'mlp-bench-serving-'));
  const servers: Server[] = [];
  try {
    const keys = await prepareBenchModel(home);
    const predictPath = `/v1/models/${MODEL}:predict`;
    const servingEnv = (batch: number) => ({ MLP_SERVING_GRPC_PORT: '0', MLP_SERVING_RPC_PORT: '0', MLP_SERVING_MAX_BATCH_SIZE: String(batch), MLP_AUTH: 'off' });

    const bare = await startServer(['bare', home, keys.modelKey, keys.preprocessingKey], {});
    servers.push(bare);
    const unbatched = await startServer(['serving', home], servingEnv(1));
    servers.push(unbatched);
    const batched = await startServer(['serving', home], servingEnv(64));
    servers.push(batched);
    const url = (s: Server) => `http://127.0.0.1:${s.port}${predictPath}`;
    const slice = SECONDS / ROUNDS;

    const runs = { bare: [] as Run[], restUnbatched: [] as Run[], restBatched: [] as Run[], grpcUnbatched: [] as Run[], grpcBatched: [] as Run[] };
    // Warm-up: JIT, sockets and the batchers' sense of the load, not measured.
    for (const s of servers) await cannon(url(s), 1);
    await grpcClients(unbatched.grpcPort!, 1);
    await grpcClients(batched.grpcPort!, 1);
    for (let r = 0; r < ROUNDS; r++) {
      runs.bare.push(await withCpu(bare, () => cannon(url(bare), slice)));
      runs.restUnbatched.push(await withCpu(unbatched, () => cannon(url(unbatched), slice)));
      runs.restBatched.push(await withCpu(batched, () => cannon(url(batched), slice)));
      runs.grpcUnbatched.push(await withCpu(unbatched, () => grpcClients(unbatched.grpcPort!, slice)));
      runs.grpcBatched.push(await withCpu(batched, () => grpcClients(batched.grpcPort!, slice)));
    }
    const low = { bare: [] as number[], unbatched: [] as number[], batched: [] as number[] };
    let lowErrors = 0;
    for (let r = 0; r < ROUNDS; r++) {
      for (const [name, s] of [['bare', bare], ['unbatched', unbatched], ['batched', batched]] as const) {
        const one = await oneClient(s.port, predictPath, slice);
        low[name].push(...one.latencies);
        lowErrors += one.errors;
      }
    }
    const peaks: number[] = [];
    for (const s of servers.splice(0)) peaks.push(await stopServer(s));
    const [barePeak, unbatchedPeak, batchedPeak] = peaks;

    const bareRun = merge(runs.bare, slice);
    const restUnbatched = merge(runs.restUnbatched, slice);
    const restBatched = merge(runs.restBatched, slice);
    const grpcUnbatched = merge(runs.grpcUnbatched, slice);
    const grpcBatched = merge(runs.grpcBatched, slice);
    const bareLow = percentiles(low.bare);
    const servingLow = percentiles(low.unbatched);
    const batchedLow = percentiles(low.batched);

    const base = { name: 'bare', value: bareRun.rps };
    const throughput = (name: string, r: Run, goal?: string): Figure => ({ name, value: r.rps, unit: 'req/s', baseline: base, ...(goal ? { goal } : {}) });
    const latency = (name: string, v: number, baseline: number): Figure => ({ name, value: v, unit: 'ms', baseline: { name: 'bare', value: baseline } });
    printFigures(`serving: ${CLIENTS} clients, ${ROUNDS} rounds × ${slice.toFixed(1)}s per configuration, one-row requests (wasm, MLP 64-32)`, [
      throughput('bare node:http + model.predict', bareRun),
      throughput('REST unbatched', restUnbatched, '≥ 0.9× bare'),
      throughput('REST adaptive batching', restBatched, '≥ 3× bare'),
      throughput('gRPC unbatched', grpcUnbatched),
      throughput('gRPC adaptive batching', grpcBatched),
      latency('bare p50', bareRun.p50, bareRun.p50),
      latency('bare p99', bareRun.p99, bareRun.p99),
      latency('REST unbatched p50', restUnbatched.p50, bareRun.p50),
      latency('REST unbatched p99', restUnbatched.p99, bareRun.p99),
      latency('REST adaptive batching p50', restBatched.p50, bareRun.p50),
      latency('REST adaptive batching p99', restBatched.p99, bareRun.p99),
      latency('gRPC unbatched p50', grpcUnbatched.p50, bareRun.p50),
      latency('gRPC unbatched p99', grpcUnbatched.p99, bareRun.p99),
      latency('gRPC adaptive batching p50', grpcBatched.p50, bareRun.p50),
      latency('gRPC adaptive batching p99', grpcBatched.p99, bareRun.p99),
    ]);
    const cpu = (name: string, r: Run): Figure => ({ name, value: r.cpuUs ?? NaN, unit: 'µs/req', baseline: { name: 'bare', value: bareRun.cpuUs ?? NaN } });
    printFigures('serving: server CPU per request (all threads; median of rounds)', [
      { name: 'bare', value: bareRun.cpuUs ?? NaN, unit: 'µs/req' },
      cpu('REST unbatched', restUnbatched),
      cpu('REST adaptive batching', restBatched),
      cpu('gRPC unbatched', grpcUnbatched),
      cpu('gRPC adaptive batching', grpcBatched),
    ]);
    console.log(`per round, req/s (bare / REST unbatched / REST adaptive / gRPC unbatched / gRPC adaptive): ${runs.bare.map((b, i) => [b, runs.restUnbatched[i], runs.restBatched[i], runs.grpcUnbatched[i], runs.grpcBatched[i]].map((x) => Math.round(x.rps)).join(' / ')).join('; ')}`);
    printFigures('serving: one client (low load)', [
      { name: 'bare p50', value: bareLow.p50, unit: 'ms' },
      { name: 'bare p99', value: bareLow.p99, unit: 'ms' },
      latency('REST unbatched p50', servingLow.p50, bareLow.p50),
      latency('REST unbatched p99', servingLow.p99, bareLow.p99),
      { name: 'REST unbatched p99 overhead over bare', value: servingLow.p99 - bareLow.p99, unit: 'ms', goal: '≤ 1 ms' },
      latency('REST adaptive batching p50', batchedLow.p50, bareLow.p50),
      latency('REST adaptive batching p99', batchedLow.p99, bareLow.p99),
      { name: 'REST adaptive p99 overhead over bare', value: batchedLow.p99 - bareLow.p99, unit: 'ms', goal: '≤ 1 ms' },
    ]);
    printFigures('serving: peak RSS per server process', [
      { name: 'bare', value: barePeak, unit: 'MiB' },
      { name: 'serving (unbatched)', value: unbatchedPeak, unit: 'MiB', baseline: { name: 'bare', value: barePeak } },
      { name: 'serving (adaptive batching)', value: batchedPeak, unit: 'MiB', baseline: { name: 'bare', value: barePeak } },
    ]);
    const errors = [bareRun, restUnbatched, restBatched, grpcUnbatched, grpcBatched].reduce((a, r) => a + r.errors, 0) + lowErrors;
    console.log(`errors (non-2xx, timeouts, gRPC failures): ${errors}`);

    // MLP_BENCH_SERVING_ONLY=1: the serving figures alone (no shadow or batch inference part).
    if (process.env.MLP_BENCH_SERVING_ONLY === '1') return;
    await benchShadow(home, MODEL, {
      start: () => startServer(['serving', home], servingEnv(64)),
      stop: stopServer,
      cannon,
      oneClient,
      cpuSeconds: (s) => cpuSeconds(s.proc.child.pid),
      seconds: SECONDS,
      rounds: ROUNDS,
    });

    await benchBatch(home, keys, MODEL, { start: (env = {}) => startServer(['serving', home], { ...servingEnv(64), ...env }), stop: stopServer });
  } finally {
    for (const s of servers) await stopServer(s).catch(() => undefined);
    rmSync(home, { recursive: true, force: true });
  }
}
