import { availableParallelism, loadavg } from 'node:os';
import { driftReport, SeededRng, type DriftColumn, type DriftReport } from '@mlp/ml';
import { printFigures } from './report';
import { median, peakRssMb, resetPeakRss } from './training-shared';

/**
 * `npm run bench -- drift`: a full drift report (Evidently's default test per column)
 * of a 1M-row current window against a 1M-row reference, 20 mixed features
 * (12 numeric Float64Array: 10 continuous, 2 with 4 values; 8 categorical Int32Array
 * dictionary codes, 2 of them binary), against one plain pass over the same columns
 * (sum and count of the non-missing values) in the same run. Peak RSS is the process's
 * VmHWM while the report runs (reset first), against the raw bytes of the columns.
 */
const ROWS = Number(process.env.DRIFT_BENCH_ROWS ?? 1_000_000);
const RUNS = 3;

interface Table {
  columns: Record<string, DriftColumn>;
  bytes: number;
}

function makeTables(): { reference: Table; current: Table } {
  const rng = new SeededRng(15);
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

/** The bare baseline: one pass over every column of both tables, summing and counting the non-missing values. */
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

function seconds(fn: () => void): number {
  const start = process.hrtime.bigint();
  fn();
  return Number(process.hrtime.bigint() - start) / 1e9;
}

export async function benchDrift(): Promise<void> {
  const { reference, current } = makeTables();
  const rawMb = (reference.bytes + current.bytes) / 1024 / 1024;
  // warm both code paths once (JIT), then alternate the timed runs
  plainPass([reference, current]);
  let report: DriftReport = driftReport(reference.columns, current.columns);
  const plain: number[] = [];
  const drift: number[] = [];
  let peak = 0;
  const rssBefore = process.memoryUsage().rss / 1024 / 1024;
  for (let r = 0; r < RUNS; r++) {
    plain.push(seconds(() => plainPass([reference, current])));
    const reset = resetPeakRss();
    drift.push(seconds(() => (report = driftReport(reference.columns, current.columns))));
    if (reset) peak = Math.max(peak, peakRssMb());
  }
  if (peak === 0) peak = peakRssMb();
  const p = median(plain);
  const d = median(drift);
  printFigures(`drift: ${ROWS.toLocaleString('en-US')} rows × 20 features (reference and current), ${loadavg()[0].toFixed(1)} load on ${availableParallelism()} cores`, [
    { name: 'plain pass (sum and count, both tables)', value: p * 1000, unit: 'ms' },
    { name: 'full drift report', value: d * 1000, unit: 'ms', baseline: { name: 'plain pass', value: p * 1000 }, goal: '≤ 3×' },
    { name: 'raw column bytes (both tables)', value: rawMb, unit: 'MB' },
    { name: 'RSS with the columns loaded', value: rssBefore, unit: 'MB', baseline: { name: 'raw', value: rawMb } },
    { name: 'peak RSS during the report', value: peak, unit: 'MB', baseline: { name: 'raw', value: rawMb }, goal: '≤ 2×' },
  ]);
  const methods = new Map<string, number>();
  for (const f of report.features) methods.set(f.method, (methods.get(f.method) ?? 0) + 1);
  console.log(
    `methods: ${[...methods].map(([m, n]) => `${m} ×${n}`).join(', ')}; drifted: ${report.features.filter((f) => f.drifted).map((f) => f.name).join(', ') || 'none'}; share ${report.driftShare.toFixed(2)}, dataset drift ${report.datasetDrift}`,
  );
}
