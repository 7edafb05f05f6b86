import { availableParallelism, loadavg } from 'node:os';
import { DriftReference, driftReport, populationStd, wassersteinDistance, type DriftColumn, type DriftReport } from '@mlp/ml/drift';
import { printFigures } from './report';
import { median, peakRssMb, resetPeakRss } from './rss';

/**
 * The drift bench's process (see drift.bench.ts): a full drift report (Evidently's
 * default test per column) of a 1M-row current window against a 1M-row reference,
 * 20 mixed features (12 numeric Float64Array: 10 continuous, half of them lognormal,
 * 2 with 4 values; 8 categorical Int32Array dictionary codes, 2 of them binary),
 * against one plain pass over the same columns (sum and count of the non-missing
 * values) in the same run:
 * - from scratch: `driftReport(reference, current)` vs the plain pass over both tables;
 * - with the reference prepared once (`DriftReference.build`, as a monitor keeps it):
 *   `reference.report(current)` vs the plain pass over the current table;
 * - streamed: the current table pushed into a `DriftWindow` in 65 536-row chunks,
 *   then its report, vs the plain pass over the current table.
 * This process imports only @mlp/ml/drift (not the whole library with tfjs).
 * Times are medians of 3 runs, as wall time and as this process's CPU time (steadier
 * when other processes share the cores). Peak RSS is this process's VmHWM over the timed runs (reset after a full GC before
 * each run), against the columns' raw bytes; the runtime's own RSS (node, the
 * TypeScript loader, @mlp/ml with tfjs) is printed too.
 */
const ROWS = Number(process.env.DRIFT_BENCH_ROWS ?? 1_000_000);
const RUNS = 3;
const CHUNK = 65536;

interface Table {
  columns: Record<string, DriftColumn>;
  bytes: number;
}

/**
 * Seeded uniform and normal draws for the bench data (mulberry32, Box–Muller), so
 * this process loads @mlp/ml/drift and nothing else of the library.
 */
function generator(seed: number): { next: () => number; normal: (mean: number, sd: number) => number } {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const normal = (mean: number, sd: number) => mean + sd * Math.sqrt(-2 * Math.log(1 - next())) * Math.cos(2 * Math.PI * next());
  return { next, normal };
}

function makeTables(): { reference: Table; current: Table } {
  const rng = generator(15);
  const categories = Array.from({ length: 12 }, (_, i) => `c${i}`);
  const binary = ['no', 'yes'];
  const build = (shift: boolean): Table => {
    const columns: Record<string, DriftColumn> = {};
    let bytes = 0;
    for (let f = 0; f < 10; f++) {
      const a = new Float64Array(ROWS);
      const mean = shift && f < 3 ? 0.5 : 0;
      for (let i = 0; i < ROWS; i++) a[i] = f % 2 ? Math.exp(rng.normal(mean, 0.8)) : rng.normal(mean + f, 1 + f / 10);
      columns[`num${f}`] = a;
      bytes += a.byteLength;
    }
    for (let f = 0; f < 2; f++) {
      const a = new Float64Array(ROWS);
      for (let i = 0; i < ROWS; i++) a[i] = Math.floor(rng.next() * 4);
      columns[`level${f}`] = a;
      bytes += a.byteLength;
    }
    for (let f = 0; f < 8; f++) {
      const isBinary = f >= 6;
      const k = isBinary ? 2 : categories.length;
      const codes = new Int32Array(ROWS);
      const skew = shift && f === 0;
      for (let i = 0; i < ROWS; i++) {
        const u = rng.next();
        codes[i] = skew ? Math.floor(u * u * k) : Math.floor(u * k);
        if (u < 0.001) codes[i] = -1; // missing
      }
      columns[`cat${f}`] = { codes, categories: isBinary ? binary : categories };
      bytes += codes.byteLength;
    }
    return { columns, bytes };
  };
  return { reference: build(false), current: build(true) };
}

/** The bare baseline: one pass over every column of the tables, summing and counting the non-missing values. */
function plainPass(tables: Table[]): number {
  let total = 0;
  for (const t of tables) {
    for (const c of Object.values(t.columns)) {
      const values = 'codes' in c ? c.codes : (c as Float64Array);
      let sum = 0;
      let count = 0;
      if ('codes' in c) {
        for (let i = 0; i < values.length; i++) {
          const v = values[i];
          if (v >= 0) {
            sum += v;
            count++;
          }
        }
      } else {
        for (let i = 0; i < values.length; i++) {
          const v = values[i];
          if (v === v) {
            sum += v;
            count++;
          }
        }
      }
      total += sum / count;
    }
  }
  return total;
}

/** The current table's rows [start, end) as a chunk of column views (no copy). */
function chunkOf(t: Table, start: number, end: number): Record<string, DriftColumn> {
  const out: Record<string, DriftColumn> = {};
  for (const [name, c] of Object.entries(t.columns)) {
    out[name] = 'codes' in c ? { codes: c.codes.subarray(start, end), categories: c.categories } : (c as Float64Array).subarray(start, end);
  }
  return out;
}

/** Wall and CPU (user + system of this process) seconds of `fn`: on a shared machine the CPU time is the steadier figure. */
function seconds(fn: () => void, cpu: number[]): number {
  const start = process.hrtime.bigint();
  const cpuStart = process.cpuUsage();
  fn();
  const used = process.cpuUsage(cpuStart);
  cpu.push((used.user + used.system) / 1e6);
  return Number(process.hrtime.bigint() - start) / 1e9;
}

function main(): void {
  const rssRuntime = process.memoryUsage().rss / 1024 / 1024;
  const { reference, current } = makeTables();
  const rawMb = (reference.bytes + current.bytes) / 1024 / 1024;
  const rssLoaded = process.memoryUsage().rss / 1024 / 1024;
  // warm every code path once (JIT), then alternate the timed runs
  plainPass([reference, current]);
  let report: DriftReport = driftReport(reference.columns, current.columns);
  let prepared = DriftReference.build(reference.columns);
  prepared.report(current.columns);
  const times = { plainBoth: [] as number[], plainCurrent: [] as number[], scratch: [] as number[], build: [] as number[], cached: [] as number[], streamed: [] as number[] };
  const cpu = { plainBoth: [] as number[], plainCurrent: [] as number[], scratch: [] as number[], cached: [] as number[], streamed: [] as number[] };
  const unused: number[] = [];
  let streamedReport = report;
  let peak = 0;
  const gc = (globalThis as { gc?: () => void }).gc ?? (() => undefined);
  for (let r = 0; r < RUNS; r++) {
    gc();
    const reset = resetPeakRss();
    times.plainBoth.push(seconds(() => plainPass([reference, current]), cpu.plainBoth));
    times.plainCurrent.push(seconds(() => plainPass([current]), cpu.plainCurrent));
    times.scratch.push(seconds(() => (report = driftReport(reference.columns, current.columns)), cpu.scratch));
    times.build.push(seconds(() => (prepared = DriftReference.build(reference.columns)), unused));
    prepared.report(current.columns); // the first report fills the reference's caches (grid, distinct values)
    times.cached.push(seconds(() => prepared.report(current.columns), cpu.cached));
    times.streamed.push(
      seconds(() => {
        const window = prepared.window();
        for (let start = 0; start < ROWS; start += CHUNK) window.push(chunkOf(current, start, Math.min(ROWS, start + CHUNK)));
        streamedReport = window.report();
      }, cpu.streamed),
    );
    if (reset) peak = Math.max(peak, peakRssMb());
  }
  if (peak === 0) peak = peakRssMb();
  const ms = (xs: number[]) => median(xs) * 1000;
  const both = { name: 'plain pass, both tables', value: ms(times.plainBoth) };
  const cur = { name: 'plain pass, current', value: ms(times.plainCurrent) };
  const maxError = Math.max(0, ...report.features.map((f) => f.approximation?.maxError ?? 0));
  // the grid estimates against the exact distance (untimed)
  let actualError = 0;
  for (const f of report.features) {
    if (f.approximation?.from !== 'grid') continue;
    const [u, v] = [reference.columns[f.name] as Float64Array, current.columns[f.name] as Float64Array];
    actualError = Math.max(actualError, Math.abs(f.statistic - wassersteinDistance(u, v) / Math.max(populationStd(u), 0.001)));
  }
  printFigures(`drift: ${ROWS.toLocaleString('en-US')} rows × 20 features (reference and current), ${loadavg()[0].toFixed(1)} load on ${availableParallelism()} cores`, [
    { name: 'plain pass (sum and count, both tables)', value: both.value, unit: 'ms' },
    { name: 'plain pass (sum and count, current table)', value: cur.value, unit: 'ms' },
    { name: 'full drift report from scratch', value: ms(times.scratch), unit: 'ms', baseline: both, goal: '≤ 3×' },
    { name: '  reference prepared once (build)', value: ms(times.build), unit: 'ms', baseline: both },
    { name: '  report against the prepared reference', value: ms(times.cached), unit: 'ms', baseline: cur },
    { name: '  streamed window (64k-row chunks + report)', value: ms(times.streamed), unit: 'ms', baseline: cur },
    { name: 'CPU time: plain pass, both tables', value: ms(cpu.plainBoth), unit: 'ms' },
    { name: 'CPU time: full drift report from scratch', value: ms(cpu.scratch), unit: 'ms', baseline: { name: 'plain pass', value: ms(cpu.plainBoth) }, goal: '≤ 3×' },
    { name: 'CPU time: report, prepared reference', value: ms(cpu.cached), unit: 'ms', baseline: { name: 'plain pass, current', value: ms(cpu.plainCurrent) } },
    { name: 'CPU time: streamed window', value: ms(cpu.streamed), unit: 'ms', baseline: { name: 'plain pass, current', value: ms(cpu.plainCurrent) } },
    { name: 'raw column bytes (both tables)', value: rawMb, unit: 'MB' },
    { name: 'RSS of the runtime before the columns', value: rssRuntime, unit: 'MB' },
    { name: 'RSS with the columns loaded', value: rssLoaded, unit: 'MB', baseline: { name: 'raw', value: rawMb } },
    { name: 'peak RSS during the runs', value: peak, unit: 'MB', baseline: { name: 'raw', value: rawMb }, goal: '≤ 2×' },
  ]);
  const methods = new Map<string, number>();
  for (const f of report.features) methods.set(f.method, (methods.get(f.method) ?? 0) + 1);
  console.log(
    `methods: ${[...methods].map(([m, n]) => `${m} ×${n}`).join(', ')}; drifted: ${report.features.filter((f) => f.drifted).map((f) => f.name).join(', ') || 'none'}; share ${report.driftShare.toFixed(2)}, dataset drift ${report.datasetDrift}`,
  );
  console.log(
    `Wasserstein from the grid (windows > 100k values): error bound ${maxError.toExponential(1)}, actual error ${actualError.toExponential(1)} reference stds (worst column); ` +
      `streamed report drifted: ${streamedReport.features.filter((f) => f.drifted).map((f) => f.name).join(', ') || 'none'}`,
  );
}

main();
