import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { FsArtifactStore } from '@mlp/artifacts';
import { jsonRowBatches, openDuck } from '@mlp/duckdb';
import { initBackend, loadModel, Pipeline } from '@mlp/ml';
import { rowsToFrame, type BenchRow } from './serving-shared';

/**
 * The bare baseline of the batch bench, in its own process: `<home> <input.parquet> <chunkRows> <modelKey> <preKey>`.
 * Reads every row into memory first (not timed), in chunks of `chunkRows`,
 * runs the saved pipeline on each (timed apart), then times a bare loop of
 * model.predict over the same matrices. Prints `BARE <rows> <predictSeconds> <preprocessSeconds> <predictCpuSeconds>`
 * and `PEAK <MiB>`.
 */
async function main(): Promise<void> {
  const [home, input, chunkRowsText, modelKey, preKey] = process.argv.slice(2);
  const chunkRows = Number(chunkRowsText);
  await initBackend('wasm');
  const artifacts = new FsArtifactStore({ root: join(home, 'artifacts') });
  const bundle = JSON.parse((await artifacts.getBuffer(preKey)).toString()) as { pipeline: unknown };
  const modelJson = JSON.parse((await artifacts.getBuffer(modelKey)).toString()) as { weightsManifest: { paths: string[] }[] };
  const weights = await artifacts.getBuffer(`sha256/${modelJson.weightsManifest[0].paths[0]}`);
  const model = await loadModel(modelJson, new Uint8Array(weights));
  const pipeline = Pipeline.fromJSON(bundle.pipeline);

  const duck = await openDuck(join(home, 'bare-duck'));
  const chunks: BenchRow[][] = [];
  let current: BenchRow[] = [];
  for await (const batch of jsonRowBatches(duck, `SELECT tenure, monthly, plan FROM read_parquet('${input}')`, ['tenure', 'monthly', 'plan'])) {
    for (const row of batch) {
      current.push(row as unknown as BenchRow);
      if (current.length === chunkRows) {
        chunks.push(current);
        current = [];
      }
    }
  }
  if (current.length) chunks.push(current);
  duck.close();

  let t = process.hrtime.bigint();
  const matrices = chunks.map((c) => pipeline.transformToMatrix(rowsToFrame(c)));
  const preprocessSeconds = Number(process.hrtime.bigint() - t) / 1e9;
  model.predict(matrices[0].x, matrices[0].n); // warm-up, as serving warms a version up
  t = process.hrtime.bigint();
  const cpu0 = process.cpuUsage();
  let rows = 0;
  for (const m of matrices) {
    model.predict(m.x, m.n);
    rows += m.n;
  }
  const predictSeconds = Number(process.hrtime.bigint() - t) / 1e9;
  const cpu = process.cpuUsage(cpu0);
  const peak = /VmHWM:\s+(\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'));
  console.log(`BARE ${rows} ${predictSeconds} ${preprocessSeconds} ${(cpu.user + cpu.system) / 1e6}`);
  console.log(`PEAK ${peak ? Number(peak[1]) / 1024 : process.memoryUsage().rss / 1024 / 1024}`);
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
