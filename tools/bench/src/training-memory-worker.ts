import { readFileSync } from 'node:fs';
import { FsArtifactStore } from '@mlp/artifacts';
import { fitOnRows, initBackend, modelSpecFor, prepareTrainingData } from '@mlp/ml';
import { loadParquetFrame, type LoadedFrame } from '@mlp/service-training';
import { memorySpec, MEMORY_SEED } from './training-shared';

/** Current RSS (VmRSS) of this process in MB. */
function rssMb(): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'));
  return m ? Number(m[1]) / 1024 : process.memoryUsage().rss / 1024 / 1024;
}

/** Peak RSS (VmHWM) of this process since it started, in MB. */
function peakMb(): number {
  const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'));
  return m ? Number(m[1]) / 1024 : Number.NaN;
}

/**
 * `training-memory-worker.ts <artifact root> <key> <sha256>`: the real
 * training path in a fresh process, as a worker runs it: the Parquet
 * artifact → typed columns (loadParquetFrame) → prepareTrainingData →
 * fitOnRows (impute + scale + a small MLP). Prints
 * `RESULT {idleMb, afterLoadPeakMb, afterPreparePeakMb, peakMb, …}`: the RSS
 * once everything is imported and the backend is up, then the peak (VmHWM)
 * after each phase. The process is new, so VmHWM before loading is the idle RSS.
 */
async function main(): Promise<void> {
  const [root, key, sha256] = process.argv.slice(2);
  await initBackend('wasm');
  const store = new FsArtifactStore({ root });
  const spec = memorySpec();
  const idleMb = rssMb();
  const idlePeakMb = peakMb();
  const t0 = performance.now();
  let loaded: LoadedFrame | undefined = await loadParquetFrame(store, key, sha256);
  const t1 = performance.now();
  const afterLoadPeakMb = peakMb();
  const prepared = prepareTrainingData(loaded.frame, loaded.types, spec, { nonFinite: loaded.nonFinite });
  const columnKinds = Object.fromEntries(Object.entries(loaded.frame).map(([c, v]) => [c, v.constructor.name]));
  loaded = undefined; // as in a training worker: only the prepared columns stay
  const afterPreparePeakMb = peakMb();
  const rows = Array.from({ length: prepared.rows }, (_, i) => i);
  const t2 = performance.now();
  const trained = await fitOnRows(prepared, spec, rows, undefined, modelSpecFor(spec, {}), MEMORY_SEED);
  const t3 = performance.now();
  const peak = peakMb();
  const losses = trained.model.history.map((h) => h.loss);
  trained.model.dispose();
  const result = {
    rows: prepared.rows,
    features: trained.featureNames.length,
    columnKinds,
    idleMb,
    idlePeakMb,
    afterLoadPeakMb,
    afterPreparePeakMb,
    peakMb: peak,
    loadSeconds: (t1 - t0) / 1000,
    fitSeconds: (t3 - t2) / 1000,
    losses,
  };
  process.stdout.write(`RESULT ${JSON.stringify(result)}\n`);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
