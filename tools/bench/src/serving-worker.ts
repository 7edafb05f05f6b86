import { readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { Session } from 'node:inspector';
import { join } from 'node:path';
import { FsArtifactStore } from '@mlp/artifacts';
import { initBackend, loadModel, Pipeline } from '@mlp/ml';
import { startService } from '@mlp/service-kit';
import { GrpcInferenceServer, servingService } from '@mlp/service-serving';
import { rowsToFrame, type BenchRow } from './serving-shared';

/**
 * One server of the serving bench, in its own process (so the load
 * generator never shares its event loop): `bare <home> <modelKey> <preKey>`
 * is a node:http handler doing JSON → saved pipeline → model.predict → JSON
 * on the same model and backend; `serving <home>` is the serving service
 * (its batching settings come from the environment). Prints `READY <port>
 * [<grpcPort>]`, and `PEAK <MiB>` on SIGTERM.
 */
async function main(): Promise<void> {
  const [mode, home, modelKey, preKey] = process.argv.slice(2);
  const profile = cpuProfile(mode);
  process.on('SIGTERM', () => {
    const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'));
    console.log(`PEAK ${m ? Number(m[1]) / 1024 : process.memoryUsage().rss / 1024 / 1024}`);
    void profile().finally(() => process.exit(0));
  });
  if (mode === 'bare') {
    await initBackend('wasm');
    const artifacts = new FsArtifactStore({ root: join(home, 'artifacts') });
    const bundle = JSON.parse((await artifacts.getBuffer(preKey)).toString()) as { pipeline: unknown; classes: string[] };
    const modelJson = JSON.parse((await artifacts.getBuffer(modelKey)).toString()) as { weightsManifest: { paths: string[] }[] };
    const weights = await artifacts.getBuffer(`sha256/${modelJson.weightsManifest[0].paths[0]}`);
    const model = await loadModel(modelJson, new Uint8Array(weights));
    const pipeline = Pipeline.fromJSON(bundle.pipeline);
    const server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        try {
          const { instances } = JSON.parse(Buffer.concat(chunks).toString()) as { instances: BenchRow[] };
          const { x, n } = pipeline.transformToMatrix(rowsToFrame(instances));
          const out = model.predict(x, n);
          const body = JSON.stringify({ predictions: Array.from(out, (p) => bundle.classes[p >= 0.5 ? 1 : 0]), probabilities: Array.from(out, (p) => [1 - p, p]) });
          res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
          res.end(body);
        } catch (err) {
          res.writeHead(400);
          res.end(String(err));
        }
      });
    });
    server.keepAliveTimeout = 60_000;
    server.listen(0, '127.0.0.1', () => console.log(`READY ${(server.address() as { port: number }).port}`));
    return;
  }
  const started = await startService(servingService, { httpPort: 0, env: { ...process.env, MLP_HOME: home, LOG_LEVEL: 'silent' } });
  const grpcServer = started.app.get(GrpcInferenceServer);
  const deadline = Date.now() + 60_000;
  while (!(await fetch(`${started.url}/v2/models/benchchurn/ready`)).ok) {
    if (Date.now() > deadline) throw new Error('serving did not load the bench model');
    await new Promise((r) => setTimeout(r, 100));
  }
  console.log(`READY ${new URL(started.url).port} ${grpcServer.port}`);
}

/**
 * MLP_BENCH_CPU_PROF=<dir>: the main thread's V8 CPU profile, from start to
 * SIGTERM, written to `<dir>/<mode>-<pid>.cpuprofile` (node refuses
 * --cpu-prof in NODE_OPTIONS, and the bench spawns through spawnTs). The
 * returned function stops and writes it.
 */
function cpuProfile(mode: string): () => Promise<void> {
  const dir = process.env.MLP_BENCH_CPU_PROF;
  if (!dir) return () => Promise.resolve();
  const session = new Session();
  session.connect();
  session.post('Profiler.enable', () => session.post('Profiler.setSamplingInterval', { interval: 200 }, () => session.post('Profiler.start')));
  return () =>
    new Promise<void>((resolve) =>
      session.post('Profiler.stop', (err, result) => {
        if (!err) writeFileSync(join(dir, `${mode}-${process.pid}.cpuprofile`), JSON.stringify(result.profile));
        resolve();
      }),
    );
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
