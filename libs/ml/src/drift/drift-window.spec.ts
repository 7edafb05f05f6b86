import { SeededRng } from '../random/seeded-rng';
import { ks2samp, KsAgainstReference, sortedCopy } from './ks';
import { DriftReference } from './reference';
import { DriftInputError, driftReport, type DriftReport } from './report';
import { populationStd } from './stats';
import type { DriftColumn } from './types';
import { addToGrid, createGrid, EXACT_WINDOW, GRID_TOLERANCE, gridWasserstein, wassersteinSorted } from './wasserstein';

const random = new SeededRng(11);
const normal = (n: number, mean = 0, sd = 1): Float64Array => Float64Array.from({ length: n }, () => random.normal(mean, sd));
const lognormal = (n: number, mean = 0, sd = 1): Float64Array => normal(n, mean, sd).map(Math.exp);
const ints = (n: number, k: number, from = 0): Float64Array => Float64Array.from({ length: n }, () => from + Math.floor(random.next() * k));
const pick = (n: number, values: readonly string[]): string[] => Array.from({ length: n }, () => values[Math.floor(random.next() * values.length)]);
const codes = (n: number, k: number): Int32Array => Int32Array.from({ length: n }, () => (random.next() < 0.01 ? -1 : Math.floor(random.next() * k)));
const plans = ['basic', 'pro', 'team', 'enterprise'];

/** Rows [start, end) of every column. */
function slice(columns: Record<string, DriftColumn>, start: number, end: number): Record<string, DriftColumn> {
  const out: Record<string, DriftColumn> = {};
  for (const [name, c] of Object.entries(columns)) {
    if (typeof c === 'object' && 'codes' in c) out[name] = { codes: c.codes.subarray(start, end), categories: c.categories };
    else out[name] = ArrayBuffer.isView(c) ? (c as Float64Array).subarray(start, end) : (c as string[]).slice(start, end);
  }
  return out;
}

function feed(reference: DriftReference, current: Record<string, DriftColumn>, rows: number, chunk: number) {
  const w = reference.window();
  for (let start = 0; start < rows; start += chunk) w.push(slice(current, start, Math.min(rows, start + chunk)));
  return w;
}

const byName = (r: DriftReport) => Object.fromEntries(r.features.map((f) => [f.name, f]));

describe('DriftWindow within its exact limit', () => {
  const n = 3000;
  const reference = { amount: normal(1500), rooms: ints(1500, 4), plan: pick(1500, plans), code: { codes: codes(1500, 5), categories: ['a', 'b', 'c', 'd', 'e'] } };
  const amount = normal(n, 0.2);
  amount[7] = NaN;
  const plan: (string | null)[] = pick(n, plans);
  plan[3] = null;
  const current: Record<string, DriftColumn> = { amount, rooms: ints(n, 5), plan, code: { codes: codes(n, 5), categories: ['a', 'b', 'c', 'd', 'e'] } };

  it('chunks of any size and single rows give driftReport on the same rows, exactly', () => {
    const prepared = DriftReference.build(reference);
    const expected = driftReport(reference, current);
    expect(feed(prepared, current, n, 1000).report()).toEqual(expected);
    expect(feed(prepared, current, n, 7).report()).toEqual(expected);
    const rows = prepared.window();
    const codeColumn = current.code as { codes: Int32Array; categories: string[] };
    for (let i = 0; i < n; i++) {
      const c = codeColumn.codes[i];
      rows.pushRow({ amount: amount[i], rooms: (current.rooms as Float64Array)[i], plan: plan[i], code: c < 0 ? null : codeColumn.categories[c] });
    }
    expect(rows.rows).toBe(n);
    expect(rows.report()).toEqual(expected);
    // the prepared reference's caches do not change a later report
    expect(prepared.report(current)).toEqual(expected);
  });

  it('takes methods, thresholds and the share threshold from the reference options', () => {
    const options = { features: { amount: { method: 'anderson' as const }, plan: { method: 'psi' as const, threshold: 0.3 } }, driftShareThreshold: 0.25 };
    const prepared = DriftReference.build(reference, options);
    expect(feed(prepared, current, n, 512).report()).toEqual(driftReport(reference, current, options));
  });

  it('empty windows, missing values only and an empty reference give NaN statistics, not errors', () => {
    const prepared = DriftReference.build({ x: normal(3000), p: pick(3000, plans) }, { exactLimit: 10 });
    expect(prepared.window().report().features.map((f) => f.statistic)).toEqual([NaN, NaN]);
    const missing = prepared.window();
    for (let i = 0; i < 50; i++) missing.pushRow({ x: 'n/a', p: null });
    expect(missing.report().features.map((f) => [f.statistic, f.drifted])).toEqual([
      [NaN, false],
      [NaN, false],
    ]);
    const empty = DriftReference.build({ x: new Float64Array(0) }, { exactLimit: 5 }).window();
    empty.push({ x: normal(50) });
    expect(empty.report().features[0]).toMatchObject({ statistic: NaN, drifted: false });
  });

  it('refuses bad options when the reference is built, and malformed chunks', () => {
    expect(() => DriftReference.build(reference, { features: { plan: { method: 'ks' } } })).toThrow(/needs a numeric column/);
    expect(() => DriftReference.build(reference, { features: { amount: { method: 'magic' as never } } })).toThrow(DriftInputError);
    expect(() => DriftReference.build(reference, { exactLimit: 0 })).toThrow(/exactLimit/);
    const w = DriftReference.build(reference).window();
    expect(() => w.push({ amount: normal(3), rooms: ints(3, 2), plan: pick(3, plans) })).toThrow(/'code' is not in the chunk/);
    expect(() => w.push({ ...slice(current, 0, 3), rooms: ints(4, 2) })).toThrow(/has 4 rows/);
    expect(() => w.push({ ...slice(current, 0, 3), amount: ['x', 'y', 'z'] })).toThrow(/numeric in the reference/);
  });
});

describe('DriftWindow past its exact limit (bounded memory)', () => {
  const limit = 2000;
  const rows = 60000;
  const reference = { amount: normal(5000, 10, 2), skewed: lognormal(5000), rooms: ints(5000, 4), plan: pick(5000, plans) };
  const current = { amount: normal(rows, 10.3, 2), skewed: lognormal(rows, 0.05), rooms: ints(rows, 4), plan: pick(rows, plans) };
  const prepared = DriftReference.build(reference, { exactLimit: limit, features: { rooms: { method: 'chisquare' } } });
  const window = feed(prepared, current, rows, 4096);
  const report = byName(window.report());
  const exact = byName(driftReport(reference, current, { features: { rooms: { method: 'chisquare' } } }));

  it('holds at most exactLimit values per numeric column whatever the rows', () => {
    expect(window.rows).toBe(rows);
    expect(window.heldValues).toBe(3 * limit);
  });

  it('Wasserstein from the grid is within its bound of the exact distance', () => {
    for (const name of ['amount', 'skewed']) {
      const f = report[name];
      expect(f.method).toBe('wasserstein');
      expect(f.approximation?.from).toBe('grid');
      const maxError = f.approximation?.maxError as number;
      expect(maxError).toBeLessThan(GRID_TOLERANCE);
      expect(Math.abs(f.statistic - exact[name].statistic)).toBeLessThanOrEqual(maxError);
      expect(f.drifted).toBe(exact[name].drifted);
    }
  });

  it('counts stay exact: chi-squared on few values, categorical columns', () => {
    expect(report.rooms).toEqual(exact.rooms);
    expect(report.plan).toEqual(exact.plan);
  });

  it('JS/PSI/KL and Hellinger on many-valued columns use Sturges bins filled from the grid', () => {
    for (const method of ['jensenshannon', 'psi', 'kl', 'hellinger'] as const) {
      const options = { exactLimit: limit, features: { amount: { method } } };
      const approx = byName(feed(DriftReference.build(reference, options), current, rows, 8192).report()).amount;
      const truth = byName(driftReport(reference, current, { features: { amount: { method } } })).amount;
      expect(approx.approximation).toEqual({ from: 'grid' });
      expect(Math.abs(approx.statistic - truth.statistic)).toBeLessThan(5e-5);
    }
  });

  it('KS counts the window per reference interval: scipy D and p, exactly', () => {
    const options = { exactLimit: limit, features: { amount: { method: 'ks' as const } } };
    for (const amount of [normal(rows, 10.05, 2), normal(rows, 10, 2)]) {
      const f = byName(feed(DriftReference.build(reference, options), { ...current, amount }, rows, 4096).report()).amount;
      const sorted = ks2samp(reference.amount, amount); // the sort-and-merge two-sample test
      expect([f.statistic, f.pValue]).toEqual([sorted.statistic, sorted.pValue]);
    }
    // the default test of a reference of <= 1000 rows is KS: the same counts
    const small = { amount: normal(800, 10, 2) };
    const big = { amount: normal(rows, 10.02, 2) };
    expect(feed(DriftReference.build(small, { exactLimit: limit }), big, rows, 5000).report()).toEqual(driftReport(small, big));
  });

  it('Anderson–Darling runs on the reservoir sample, which still finds a real shift', () => {
    const options = { exactLimit: limit, features: { amount: { method: 'anderson' as const } } };
    const shifted = normal(rows, 10.5, 2);
    shifted[rows - 10] = NaN; // a chunk past the limit with a missing value
    const f = byName(feed(DriftReference.build(reference, options), { ...current, amount: shifted }, rows, 4096).report()).amount;
    expect(f.approximation).toEqual({ from: 'sample', sampleSize: limit });
    expect(f.drifted).toBe(true);
    const same = byName(feed(DriftReference.build(reference, options), { ...current, amount: normal(rows, 10, 2) }, rows, 4096).report()).amount;
    expect(same.approximation).toEqual({ from: 'sample', sampleSize: limit });
    expect(same.pValue).toBeGreaterThan(0.001);
  });
});

describe('DriftWindow categories unseen in the reference', () => {
  it('keeps maxUnseenCategories of them and counts the rest as one, which leaves JS, Hellinger and chi-squared unchanged', () => {
    const reference = { plan: pick(3000, plans) };
    const unseen = Array.from({ length: 40 }, (_, i) => `new${i}`);
    const current = { plan: [...pick(5000, plans), ...pick(2000, unseen)] };
    for (const method of ['jensenshannon', 'hellinger', 'chisquare', 'psi'] as const) {
      const prepared = DriftReference.build(reference, { maxUnseenCategories: 5, features: { plan: { method } } });
      const w = feed(prepared, current, 7000, 333);
      const f = w.report().features[0];
      const exact = driftReport(reference, current, { features: { plan: { method } } }).features[0];
      expect(f.approximation).toEqual({ from: 'capped' });
      if (method === 'psi') expect(f.statistic).not.toBe(exact.statistic);
      else if (method === 'chisquare') expect([f.statistic, f.pValue]).toEqual([Infinity, 0]);
      else expect(f.statistic).toBeCloseTo(exact.statistic, 12);
    }
    const rows = DriftReference.build(reference, { maxUnseenCategories: 5 }).window();
    for (const plan of current.plan) rows.pushRow({ plan });
    expect(rows.report().features[0].approximation).toEqual({ from: 'capped' });
    // within the cap the counts are exact
    expect(feed(DriftReference.build(reference), current, 7000, 1000).report()).toEqual(driftReport(reference, current));
  });
});

describe('KsAgainstReference', () => {
  it('gives ks2samp\'s statistic and p-value, bit for bit, from counts per reference interval', () => {
    const cases: [Float64Array, Float64Array][] = [
      [normal(300), normal(5000, 0.1)],
      [ints(200, 6), ints(3000, 8, -1)], // ties, values below, between and above the reference's
      [normal(1000).map((x) => Math.round(x * 10) / 10), normal(20000, 0.05).map((x) => Math.round(x * 10) / 10)],
      [normal(50), normal(60, 3)], // exact p-value branch
    ];
    for (const [reference, current] of cases) {
      const counts = new KsAgainstReference(sortedCopy(reference));
      for (let start = 0; start < current.length; start += 777) counts.add(current.subarray(start, start + 777));
      expect(counts.result()).toEqual(ks2samp(reference, current));
    }
  });
});

describe('grid Wasserstein', () => {
  const exact = (u: Float64Array, v: Float64Array) => wassersteinSorted(Float64Array.from(u).sort(), Float64Array.from(v).sort());
  const cases: [string, Float64Array, Float64Array][] = [
    ['same distribution', normal(50000), normal(40000)],
    ['shifted and wider', normal(50000), normal(40000, 0.3, 1.5)],
    ['lognormal', lognormal(50000), lognormal(40000, 0.02)],
    ['heavy ties', ints(50000, 7), ints(40000, 9, -1)],
    ['outliers in the reference', Float64Array.from([...normal(30000), 1e5]), normal(30000)],
  ];
  for (const [name, u, v] of cases) {
    it(`estimate within its bound of the exact integral: ${name}`, () => {
      let lo = Infinity;
      let hi = -Infinity;
      for (const x of u) [lo, hi] = [Math.min(lo, x), Math.max(hi, x)];
      for (const buckets of [64, 4096, 65536]) {
        const gu = createGrid(lo, hi, buckets);
        const gv = createGrid(lo, hi, buckets);
        addToGrid(gu, u);
        addToGrid(gv, v);
        const d = gridWasserstein(gu, gv);
        const e = exact(u, v);
        expect(Math.abs(d.distance - e)).toBeLessThanOrEqual(d.maxError + 1e-12 * e);
      }
    });
  }
  it('values outside the reference range are integrated exactly (no bound needed)', () => {
    const u = normal(30000);
    const v = normal(30000, 20);
    const gu = createGrid(Math.min(...u), Math.max(...u));
    const gv = createGrid(gu.lo, gu.hi);
    addToGrid(gu, u);
    addToGrid(gv, v);
    const d = gridWasserstein(gu, gv);
    expect(d.maxError).toBe(0);
    expect(Math.abs(d.distance - exact(u, v)) / exact(u, v)).toBeLessThan(1e-12);
  });
});

describe('driftReport on large windows', () => {
  const reference = { x: lognormal(20000) };
  const exact = (u: Float64Array, v: Float64Array) => wassersteinSorted(Float64Array.from(u).sort(), Float64Array.from(v).sort());
  it(`is exact up to ${EXACT_WINDOW} current values, and within a bound of ${GRID_TOLERANCE} reference stds above`, () => {
    const small = normal(EXACT_WINDOW).map(Math.exp);
    const atLimit = driftReport(reference, { x: small }).features[0];
    expect(atLimit.approximation).toBeUndefined();
    const std = populationStd(reference.x);
    expect(Math.abs(atLimit.statistic - exact(reference.x, small) / std) / atLimit.statistic).toBeLessThan(1e-9);
    const large = lognormal(EXACT_WINDOW + 50000);
    const f = driftReport(reference, { x: large }).features[0];
    expect(f.approximation?.from).toBe('grid');
    expect(f.approximation?.maxError).toBeLessThanOrEqual(GRID_TOLERANCE);
    expect(Math.abs(f.statistic - exact(reference.x, large) / std)).toBeLessThanOrEqual(f.approximation?.maxError as number);
  });
});
