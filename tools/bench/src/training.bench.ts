import { createReadStream } from 'node:fs';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { FsArtifactStore } from '@mlp/artifacts';
import { literal, openDuck } from '@mlp/duckdb';
import * as tf from '@tensorflow/tfjs';
import { buildModel, fitModel, fitOnRows, initBackend, modelSpecFor, prepareTrainingData, resolveModelSpec, type ModelSpec } from '@mlp/ml';
import { spawnTs } from '@mlp/testing';
import { printFigures, timed } from './report';
import {
  benchSpec,
  median,
  MEMORY_MODEL,
  MEMORY_ROWS,
  memoryRowsSql,
  peakRssMb,
  resetPeakRss,
  runTrials,
  SEARCH_FOLDS,
  SEARCH_ROWS,
  SEARCH_TRIALS,
  searchWorkload,
  SEED,
  FEATURES,
  syntheticRows,
  toFrame,
  type Rows,
} from './training-shared';

const FIT_ROWS = 20_000;
const FIT_MODEL = { type: 'mlp', layers: [64, 32], epochs: 10, batchSize: 256 } satisfies ModelSpec;
const RUNS = 3;
/** Epochs of the wasm-vs-cpu fit: the cpu backend takes ~2 s an epoch here, so fewer than the overhead fits. */
const BACKEND_EPOCHS = 3;

interface Sample {
  seconds: number[];
  /** Process CPU time (user + system) of each run: less sensitive than wall time to other load on the machine. */
  cpuSeconds: number[];
  peakRssMb: number;
}

const sample = (): Sample => ({ seconds: [], cpuSeconds: [], peakRssMb: 0 });

/** Times one run into `into`; peak RSS is this run's own where the kernel lets us reset VmHWM. */
async function measure(into: Sample, fn: () => Promise<void>): Promise<void> {
  resetPeakRss();
  const cpu = process.cpuUsage();
  const { seconds } = await timed(fn);
  const used = process.cpuUsage(cpu);
  into.seconds.push(seconds);
  into.cpuSeconds.push((used.user + used.system) / 1e6);
  into.peakRssMb = Math.max(into.peakRssMb, peakRssMb());
}

const loadNote = () => `load average ${loadavg()[0].toFixed(1)} on ${availableParallelism()} cores`;

/**
 * What a hand-written tfjs fit does: same layers, initializers, optimizer and
 * loss (buildModel), tensors, then one multi-epoch `model.fit` or, with
 * `perEpoch`, one `model.fit({epochs: 1})` per epoch (what fitModel does, minus its row order).
 */
async function bareFit(rows: Rows, epochs: number, perEpoch = false): Promise<void> {
  const spec = resolveModelSpec(FIT_MODEL);
  const model = buildModel(spec, { nFeatures: rows.d, task: 'binary' }, { seed: SEED });
  const xs = tf.tensor2d(rows.x, [rows.n, rows.d]);
  const ys = tf.tensor2d(rows.y, [rows.n, 1]);
  try {
    const losses: number[] = [];
    for (const e of perEpoch ? Array.from({ length: epochs }, () => 1) : [epochs]) {
      const h = await model.fit(xs, ys, { epochs: e, batchSize: spec.batchSize, shuffle: false, verbose: 0 });
      losses.push(...(h.history.loss as number[]));
    }
    requireFiniteLoss('bare fit', losses);
  } finally {
    tf.dispose([xs, ys]);
    model.optimizer.dispose();
    model.dispose();
  }
}

function requireFiniteLoss(what: string, losses: readonly number[]): void {
  if (losses.length === 0 || !losses.every(Number.isFinite)) throw new Error(`${what}: loss not finite (${losses.join(', ')})`);
}

/**
 * 1. fitModel and the trainer's fitOnRows (standard scaler + fitModel) against
 *    a bare tfjs fit of the same model on the same rows, wasm backend. One
 *    warm-up round, then RUNS rounds with the order rotated each round.
 */
async function pipelineOverhead(): Promise<void> {
  await initBackend('wasm');
  const rows = syntheticRows(FIT_ROWS, SEED);
  const spec = benchSpec(FIT_MODEL);
  const { frame, types } = toFrame(rows);
  const prepared = prepareTrainingData(frame, types, spec);
  const allRows = Array.from({ length: rows.n }, (_, i) => i);

  const contenders: { sample: Sample; run: (epochs: number) => Promise<void> }[] = [
    { sample: sample(), run: (epochs) => bareFit(rows, epochs) },
    { sample: sample(), run: (epochs) => bareFit(rows, epochs, true) },
    {
      sample: sample(),
      run: async (epochs) => {
        const fitted = await fitModel({ ...FIT_MODEL, epochs }, { x: rows.x, y: rows.y, n: rows.n, d: rows.d, task: 'binary' }, { seed: SEED });
        requireFiniteLoss('fitModel', fitted.history.map((h) => h.loss));
        fitted.dispose();
      },
    },
    {
      sample: sample(),
      run: async (epochs) => {
        const trained = await fitOnRows(prepared, spec, allRows, undefined, modelSpecFor(spec, { epochs }), SEED);
        requireFiniteLoss('fitOnRows', trained.model.history.map((h) => h.loss));
        trained.model.dispose();
      },
    },
  ];
  for (const c of contenders) await c.run(1);
  for (let round = 0; round < RUNS; round++) {
    for (let k = 0; k < contenders.length; k++) {
      const c = contenders[(round + k) % contenders.length];
      await measure(c.sample, () => c.run(FIT_MODEL.epochs));
    }
  }
  const [bare, bareLoop, ours, trainer] = contenders.map((c) => c.sample);
  const bareBaseline = { name: 'bare model.fit', value: median(bare.seconds) };
  printFigures(
    `training: fit overhead (wasm, ${FIT_ROWS.toLocaleString('en-US')} rows × ${rows.d} features, MLP [${FIT_MODEL.layers.join(', ')}], ${FIT_MODEL.epochs} epochs, batch ${FIT_MODEL.batchSize}; median of ${RUNS})`,
    [
      { name: 'fitModel (seeded order, one fit per epoch)', value: median(ours.seconds), unit: 's', baseline: bareBaseline, goal: '≤ 1.10×' },
      { name: 'fitOnRows (standard scaler + fitModel)', value: median(trainer.seconds), unit: 's', baseline: bareBaseline, goal: '≤ 1.10×' },
      { name: '  fitModel against a bare 1-epoch fit loop', value: median(ours.seconds), unit: 's', baseline: { name: 'bare loop', value: median(bareLoop.seconds) } },
      { name: '  fitModel, process CPU time', value: median(ours.cpuSeconds), unit: 's', baseline: { name: 'bare model.fit', value: median(bare.cpuSeconds) } },
      { name: '  fitOnRows, process CPU time', value: median(trainer.cpuSeconds), unit: 's', baseline: { name: 'bare model.fit', value: median(bare.cpuSeconds) } },
      { name: '  peak RSS during fitModel', value: ours.peakRssMb, unit: 'MB', baseline: { name: 'during bare fit', value: bare.peakRssMb } },
      { name: '  peak RSS during fitOnRows', value: trainer.peakRssMb, unit: 'MB', baseline: { name: 'during bare fit', value: bare.peakRssMb } },
    ],
  );
  console.log(
    `bare = buildModel + tensors + one model.fit({epochs: ${FIT_MODEL.epochs}, shuffle: false}); bare loop = the same with ${FIT_MODEL.epochs} × model.fit({epochs: 1}).\n` +
      `Wall times: bare ${fmtRuns(bare)}, bare loop ${fmtRuns(bareLoop)}, fitModel ${fmtRuns(ours)}, fitOnRows ${fmtRuns(trainer)}; ${loadNote()}.`,
  );
}

const fmtRuns = (s: Sample) => s.seconds.map((x) => x.toFixed(2)).join('/') + ' s';

/** 2. The same bare fit on wasm and on cpu, alternating which goes first. */
async function wasmVsCpu(): Promise<void> {
  const rows = syntheticRows(FIT_ROWS, SEED);
  const backends: Record<'wasm' | 'cpu', Sample> = { wasm: sample(), cpu: sample() };
  await initBackend('cpu');
  await bareFit(rows, 1); // warm-up; wasm is warm from the overhead runs
  for (let round = 0; round < RUNS; round++) {
    const order: ('wasm' | 'cpu')[] = round % 2 === 0 ? ['wasm', 'cpu'] : ['cpu', 'wasm'];
    for (const name of order) {
      await initBackend(name);
      await measure(backends[name], () => bareFit(rows, BACKEND_EPOCHS));
    }
  }
  await initBackend('wasm');
  const perSecond = (s: Sample) => (rows.n * BACKEND_EPOCHS) / median(s.seconds);
  printFigures(`training: backend (bare fit, ${BACKEND_EPOCHS} epochs, same model and rows; median of ${RUNS})`, [
    { name: 'bare fit on wasm (SIMD, 1 thread)', value: perSecond(backends.wasm), unit: 'samples/s', baseline: { name: 'same fit on cpu', value: perSecond(backends.cpu) } },
    { name: '  peak RSS on wasm', value: backends.wasm.peakRssMb, unit: 'MB', baseline: { name: 'on cpu', value: backends.cpu.peakRssMb } },
  ]);
}

interface WorkerResult {
  startMs: number;
  endMs: number;
  cpuSeconds: number;
  scores: Record<number, number>;
  peakRssMb: number;
}

function requireSameScores(what: string, expected: Record<number, number>, actual: Record<number, number>): void {
  if (JSON.stringify(expected) !== JSON.stringify(actual)) throw new Error(`${what} scored the trials differently: ${JSON.stringify(actual)} vs sequential ${JSON.stringify(expected)}`);
}

async function runWorker(trials: number[]): Promise<WorkerResult> {
  const worker = spawnTs('tools/bench/src/training-worker.ts', [trials.join(',')], {});
  const code = await worker.exited;
  const line = worker
    .output()
    .split('\n')
    .find((l) => l.startsWith('RESULT '));
  if (code !== 0 || !line) throw new Error(`training worker exited with ${code}:\n${worker.output()}`);
  return JSON.parse(line.slice('RESULT '.length)) as WorkerResult;
}

/**
 * 3. Trials per minute of a small search (runTrial: preprocessing + CV fits
 *    + scoring per fold) with 1 and 2 in-process workers, and with 2 worker
 *    processes that each take half the trials. Each process runs its trials
 *    once untimed first, and every way must score every trial the same.
 */
async function trialThroughput(): Promise<void> {
  const workload = searchWorkload();
  const all = SEARCH_TRIALS.map((_, i) => i);
  await runTrials(workload, all, 1); // warm-up, as the worker processes do
  const one = sample();
  const two = sample();
  let sequentialScores: Record<number, number> = {};
  let pooledScores: Record<number, number> = {};
  await measure(one, async () => void (sequentialScores = await runTrials(workload, all, 1)));
  await measure(two, async () => void (pooledScores = await runTrials(workload, all, 2)));

  const halves = [all.filter((t) => t % 2 === 0), all.filter((t) => t % 2 === 1)];
  const { seconds: wallSeconds, result: workers } = await timed(() => Promise.all(halves.map(runWorker)));
  // Same seeds, same backend: every way of running the search must score each trial identically.
  requireSameScores('2 in-process workers', sequentialScores, pooledScores);
  requireSameScores('2 worker processes', sequentialScores, Object.assign({}, ...workers.map((w) => w.scores)) as Record<number, number>);
  const spanSeconds = (Math.max(...workers.map((w) => w.endMs)) - Math.min(...workers.map((w) => w.startMs))) / 1000;

  const perMinute = (seconds: number) => (all.length / seconds) * 60;
  const sequential = { name: '1 in-process worker', value: perMinute(one.seconds[0]) };
  const trainRows = workload.folds[0].train.length;
  printFigures(
    `training: search throughput (${all.length} trials × ${SEARCH_FOLDS}-fold CV, ~${trainRows.toLocaleString('en-US')} training rows a fold of ${SEARCH_ROWS.toLocaleString('en-US')}, small MLPs, wasm)`,
    [
      { name: '1 in-process worker (sequential)', value: sequential.value, unit: 'trials/min' },
      { name: '2 in-process workers (pool of 2, 1 thread)', value: perMinute(two.seconds[0]), unit: 'trials/min', baseline: sequential },
      { name: '2 worker processes (half the trials each)', value: perMinute(spanSeconds), unit: 'trials/min', baseline: sequential },
      { name: '  same, counting spawn + load + warm-up', value: perMinute(wallSeconds), unit: 'trials/min', baseline: sequential },
      { name: '  peak RSS, 1 in-process worker', value: one.peakRssMb, unit: 'MB' },
      { name: '  peak RSS, 2 in-process workers', value: two.peakRssMb, unit: 'MB', baseline: { name: '1 worker', value: one.peakRssMb } },
      { name: '  peak RSS, each worker process (max)', value: Math.max(...workers.map((w) => w.peakRssMb)), unit: 'MB', baseline: { name: '1 in-process worker', value: one.peakRssMb } },
    ],
  );
  const busy = (cpuSeconds: number, seconds: number) => (cpuSeconds / seconds).toFixed(2);
  const workerCpu = workers.reduce((sum, w) => sum + w.cpuSeconds, 0);
  console.log(
    'In-process workers share one JS thread (and wasm runs single-threaded), so a pool of 2 only overlaps the awaits between epochs;\n' +
      'it is not expected to double throughput. Separate worker processes (the JetStream trial queue) each get their own thread/core.\n' +
      `CPU cores kept busy: 1 in-process worker ${busy(one.cpuSeconds[0], one.seconds[0])}, pool of 2 ${busy(two.cpuSeconds[0], two.seconds[0])}, ` +
      `2 processes ${busy(workerCpu, spanSeconds)} (CPU-seconds a trial: ${(one.cpuSeconds[0] / all.length).toFixed(2)} in-process, ${(workerCpu / all.length).toFixed(2)} in the processes); ${loadNote()}.`,
  );
}

interface MemoryResult {
  rows: number;
  features: number;
  columnKinds: Record<string, string>;
  idleMb: number;
  idlePeakMb: number;
  afterLoadPeakMb: number;
  afterPreparePeakMb: number;
  peakMb: number;
  loadSeconds: number;
  fitSeconds: number;
  losses: number[];
}

/**
 * 4. Peak RSS of training on 1M rows × 20 features through the real path
 *    (Parquet artifact → typed columns → impute + scale → one MLP epoch), in
 *    a fresh worker process, against the bytes of the float32 matrix the
 *    model trains on (n × d × 4). Goal: ≤ 3×. Both the raw peak and the peak
 *    above the worker's idle RSS (imports, Nest, tfjs and its wasm backend
 *    loaded, before any data) are printed.
 */
export async function memoryRatio(): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'mlp-bench-memory-'));
  try {
    const parquet = join(dir, 'rows.parquet');
    const duck = await openDuck(join(dir, 'duck'));
    try {
      await duck.run(`COPY (${memoryRowsSql(MEMORY_ROWS)}) TO ${literal(parquet)} (FORMAT PARQUET)`);
    } finally {
      duck.close();
    }
    const root = join(dir, 'artifacts');
    const put = await new FsArtifactStore({ root }).put(createReadStream(parquet), { size: (await stat(parquet)).size });
    const worker = spawnTs('tools/bench/src/training-memory-worker.ts', [root, put.key, put.sha256], {});
    const code = await worker.exited;
    const line = worker
      .output()
      .split('\n')
      .find((l) => l.startsWith('RESULT '));
    if (code !== 0 || !line) throw new Error(`training memory worker exited with ${code}:\n${worker.output()}`);
    const r = JSON.parse(line.slice('RESULT '.length)) as MemoryResult;
    requireFiniteLoss('memory fit', r.losses);
    const matrixMb = (r.rows * FEATURES * 4) / 1024 / 1024;
    const matrix = { name: 'the float32 matrix', value: matrixMb };
    printFigures(
      `training: memory (${r.rows.toLocaleString('en-US')} rows × ${r.features} features, Parquet ${(put.size / 1024 / 1024).toFixed(0)} MB → typed columns → impute + scale → MLP [${MEMORY_MODEL.layers?.join(', ')}], ${MEMORY_MODEL.epochs} epoch, wasm; fresh worker process)`,
      [
        { name: 'float32 matrix (n × d × 4 bytes)', value: matrixMb, unit: 'MB' },
        { name: 'peak RSS above idle (VmHWM − idle RSS)', value: r.peakMb - r.idleMb, unit: 'MB', baseline: matrix, goal: '≤ 3×' },
        { name: 'peak RSS, raw (VmHWM)', value: r.peakMb, unit: 'MB', baseline: matrix, goal: '≤ 3×' },
        { name: '  idle RSS (imports + tfjs wasm, no data)', value: r.idleMb, unit: 'MB' },
        { name: '  peak above idle after loading the columns', value: r.afterLoadPeakMb - r.idleMb, unit: 'MB', baseline: matrix },
        { name: '  peak above idle after prepareTrainingData', value: r.afterPreparePeakMb - r.idleMb, unit: 'MB', baseline: matrix },
        { name: '  load (Parquet → typed columns)', value: r.loadSeconds, unit: 's' },
        { name: '  fit (preprocessing + 1 epoch)', value: r.fitSeconds, unit: 's' },
      ],
    );
    const kinds = [...new Set(Object.values(r.columnKinds))].join(', ');
    console.log(`Columns loaded as ${kinds}. MB = 2^20 bytes; RSS from /proc/self/status of the worker (VmHWM is its peak since it started).`);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/**
 * Training: our fit paths against a bare tfjs fit of the same model, wasm
 * against cpu, search throughput with 1 and 2 workers, and the peak memory
 * of training on 1M rows. Goals: fitModel and fitOnRows within 10% of the
 * bare fit; peak RSS ≤ 3× the float32 matrix.
 */
export async function benchTraining(): Promise<void> {
  await memoryRatio();
  await pipelineOverhead();
  await wasmVsCpu();
  await trialThroughput();
}
