import { mkdtempSync, rmSync } from 'node:fs';
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
const SECONDS = Number(process.env.MLP_BENCH_SECONDS ?? 8);

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

/** 32 clients for SECONDS with autocannon. Latencies in ms. */
async function cannon(url: string): Promise<Run> {
  const r = await autocannon({ url, method: 'POST', connections: CLIENTS, duration: SECONDS, headers: { 'content-type': 'application/json' }, body: body(0) });
  return { rps: r.requests.average, p50: r.latency.p50, p99: r.latency.p99, errors: r.errors + r.timeouts + r.non2xx };
}

/** One client in a loop (low load), timed with hrtime: latency in ms with µs resolution. */
async function oneClient(port: number, path: string): Promise<Run> {
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  const latencies: number[] = [];
  let errors = 0;
  const end = Date.now() + SECONDS * 1000;
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
  return { rps: latencies.length / SECONDS, ...percentiles(latencies), errors };
}

/** 32 concurrent grpc-js loops calling ModelInfer with one row each. */
async function grpcClients(port: number): Promise<Run> {
  const Client = loadV2Service();
  const client = new Client(`127.0.0.1:${port}`, grpc.credentials.createInsecure()) as unknown as { ModelInfer(req: unknown, cb: (err: unknown, res: unknown) => void): void; close(): void };
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
  const end = Date.now() + SECONDS * 1000;
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
  return { rps: latencies.length / SECONDS, ...percentiles(latencies), errors };
}

function percentiles(values: number[]): { p50: number; p99: number } {
  const s = [...values].sort((a, b) => a - b);
  const at = (q: number) => s[Math.min(s.length - 1, Math.floor(q * s.length))] ?? NaN;
  return { p50: at(0.5), p99: at(0.99) };
}

/**
 * `npm run bench -- serving`: one-row requests from 32 concurrent clients
 * for a fixed time against (a) a bare node:http handler doing JSON → saved
 * pipeline → model.predict → JSON on the same model and backend (wasm), (b)
 * serving over REST unbatched (MLP_SERVING_MAX_BATCH_SIZE=1), (c) serving
 * over REST with adaptive batching, (d) serving over gRPC unbatched. Each
 * server runs in its own process; the clients run here. Then one client
 * (low load) against the bare handler and serving, for the p99 overhead.
 */
export async function benchServing(): Promise<void> {
  const home = mkdtempSync(join(tmpdir(), 'mlp-bench-serving-'));
  try {
    const keys = await prepareBenchModel(home);
    const predictPath = `/v1/models/${MODEL}:predict`;
    const servingEnv = (batch: number) => ({ MLP_SERVING_GRPC_PORT: '0', MLP_SERVING_MAX_BATCH_SIZE: String(batch), MLP_SERVING_MAX_LATENCY_MS: '2', MLP_AUTH: 'off' });

    const bare = await startServer(['bare', home, keys.modelKey, keys.preprocessingKey], {});
    const bareRun = await cannon(`http://127.0.0.1:${bare.port}${predictPath}`);
    const bareLow = await oneClient(bare.port, predictPath);
    const barePeak = await stopServer(bare);

    const unbatched = await startServer(['serving', home], servingEnv(1));
    const restUnbatched = await cannon(`http://127.0.0.1:${unbatched.port}${predictPath}`);
    const grpcUnbatched = await grpcClients(unbatched.grpcPort!);
    const servingLow = await oneClient(unbatched.port, predictPath);
    const unbatchedPeak = await stopServer(unbatched);

    const batched = await startServer(['serving', home], servingEnv(64));
    const restBatched = await cannon(`http://127.0.0.1:${batched.port}${predictPath}`);
    const batchedLow = await oneClient(batched.port, predictPath);
    const batchedPeak = await stopServer(batched);

    const base = { name: 'bare', value: bareRun.rps };
    const throughput = (name: string, r: Run, goal?: string): Figure => ({ name, value: r.rps, unit: 'req/s', baseline: base, ...(goal ? { goal } : {}) });
    const latency = (name: string, v: number, baseline: number): Figure => ({ name, value: v, unit: 'ms', baseline: { name: 'bare', value: baseline } });
    printFigures(`serving: ${CLIENTS} clients × ${SECONDS}s, one-row requests (wasm, MLP 64-32)`, [
      throughput('bare node:http + model.predict', bareRun),
      throughput('REST unbatched', restUnbatched, '≥ 0.9× bare'),
      throughput('REST adaptive batching', restBatched, '≥ 3× bare'),
      throughput('gRPC unbatched', grpcUnbatched),
      latency('bare p50', bareRun.p50, bareRun.p50),
      latency('bare p99', bareRun.p99, bareRun.p99),
      latency('REST unbatched p50', restUnbatched.p50, bareRun.p50),
      latency('REST unbatched p99', restUnbatched.p99, bareRun.p99),
      latency('REST adaptive batching p50', restBatched.p50, bareRun.p50),
      latency('REST adaptive batching p99', restBatched.p99, bareRun.p99),
      latency('gRPC unbatched p50', grpcUnbatched.p50, bareRun.p50),
      latency('gRPC unbatched p99', grpcUnbatched.p99, bareRun.p99),
    ]);
    printFigures('serving: one client (low load)', [
      { name: 'bare p50', value: bareLow.p50, unit: 'ms' },
      { name: 'bare p99', value: bareLow.p99, unit: 'ms' },
      latency('REST unbatched p50', servingLow.p50, bareLow.p50),
      latency('REST unbatched p99', servingLow.p99, bareLow.p99),
      { name: 'REST unbatched p99 overhead over bare', value: servingLow.p99 - bareLow.p99, unit: 'ms', goal: '≤ 1 ms' },
      latency('REST adaptive batching p99', batchedLow.p99, bareLow.p99),
      { name: 'REST adaptive p99 overhead over bare', value: batchedLow.p99 - bareLow.p99, unit: 'ms', goal: '≤ 1 ms' },
    ]);
    printFigures('serving: peak RSS per server process', [
      { name: 'bare', value: barePeak, unit: 'MiB' },
      { name: 'serving (unbatched run)', value: unbatchedPeak, unit: 'MiB', baseline: { name: 'bare', value: barePeak } },
      { name: 'serving (batched run)', value: batchedPeak, unit: 'MiB', baseline: { name: 'bare', value: barePeak } },
    ]);
    const errors = bareRun.errors + restUnbatched.errors + restBatched.errors + grpcUnbatched.errors + bareLow.errors + servingLow.errors + batchedLow.errors;
    console.log(`errors (non-2xx, timeouts, gRPC failures): ${errors}`);

    await benchShadow(home, MODEL, { start: () => startServer(['serving', home], servingEnv(64)), stop: stopServer, cannon, oneClient });

    await benchBatch(home, keys, MODEL, { start: (env = {}) => startServer(['serving', home], { ...servingEnv(64), ...env }), stop: stopServer });
  } finally {
    rmSync(home, { recursive: true, force: true });
  }
}
