import { SeededRng } from '../random/seeded-rng';
import { driftReport, featureDrift, DriftInputError } from './report';
import { wassersteinBucketed, wassersteinSorted } from './wasserstein';
import { ks2samp } from './ks';

const random = new SeededRng(7);
const rng = (): number => random.next();
const normal = (n: number, mean = 0, sd = 1): Float64Array => Float64Array.from({ length: n }, () => random.normal(mean, sd));
const ints = (n: number, k: number): Float64Array => Float64Array.from({ length: n }, () => Math.floor(rng() * k));
const pick = (n: number, values: string[]): string[] => Array.from({ length: n }, () => values[Math.floor(rng() * values.length)]);

describe("Evidently's default test selection (one case per row of the issue's table)", () => {
  it('reference <= 1000 rows, numeric with > 5 unique values: KS, drift when p < 0.05', () => {
    const f = featureDrift('amount', normal(500), normal(400, 1));
    expect(f).toMatchObject({ method: 'ks', threshold: 0.05 });
    expect(f.pValue).not.toBeNull();
    expect(f.drifted).toBe((f.pValue as number) <= 0.05);
    expect(featureDrift('amount', normal(500), normal(400, 1)).drifted).toBe(true);
  });
  it('reference <= 1000 rows, categorical: chi-squared; numeric with <= 5 unique values too', () => {
    const cat = featureDrift('plan', pick(600, ['a', 'b', 'c']), pick(300, ['a', 'b', 'c', 'c', 'c']));
    expect(cat).toMatchObject({ method: 'chisquare', threshold: 0.05, drifted: true });
    const few = featureDrift('rooms', ints(600, 5), ints(300, 5));
    expect(few.method).toBe('chisquare');
    expect(few.drifted).toBe((few.pValue as number) < 0.05);
  });
  it('reference <= 1000 rows, binary: Z-test', () => {
    const bin = featureDrift('churned', pick(800, ['no', 'yes']), pick(700, ['no', 'yes']));
    expect(bin).toMatchObject({ method: 'ztest', threshold: 0.05 });
    expect(featureDrift('flag', ints(800, 2), ints(500, 2)).method).toBe('ztest');
  });
  it('reference > 1000 rows, numeric: Wasserstein distance normed by the reference std, drift when >= 0.1', () => {
    const same = featureDrift('amount', normal(5000), normal(3000));
    expect(same).toMatchObject({ method: 'wasserstein', threshold: 0.1, pValue: null, drifted: false });
    const shifted = featureDrift('amount', normal(5000), normal(3000, 0.5));
    expect(shifted).toMatchObject({ method: 'wasserstein', drifted: true });
    expect(shifted.statistic).toBeGreaterThan(0.4);
  });
  it('reference > 1000 rows, categorical: Jensen–Shannon distance, drift when >= 0.1', () => {
    const f = featureDrift('plan', pick(3000, ['a', 'b', 'c']), pick(2000, ['a', 'b', 'c']));
    expect(f).toMatchObject({ method: 'jensenshannon', threshold: 0.1, pValue: null, drifted: false });
    expect(featureDrift('plan', pick(3000, ['a', 'b', 'c']), pick(2000, ['c'])).drifted).toBe(true);
  });
});

describe('driftReport', () => {
  const reference = { a: normal(300), b: normal(300), c: pick(300, ['x', 'y', 'z']), d: ints(300, 2) };
  const current = { a: normal(200, 2), b: normal(200), c: pick(200, ['x', 'y', 'z']), d: ints(200, 2) };

  it('returns one row per feature with the drift share and the dataset flag', () => {
    const r = driftReport(reference, current);
    expect(r.features.map((f) => [f.name, f.method])).toEqual([
      ['a', 'ks'],
      ['b', 'ks'],
      ['c', 'chisquare'],
      ['d', 'ztest'],
    ]);
    const drifted = r.features.filter((f) => f.drifted).length;
    expect(r.features[0].drifted).toBe(true);
    expect(r.driftShare).toBe(drifted / 4);
    expect(r.datasetDrift).toBe(r.driftShare >= 0.5);
  });
  it('takes the method and threshold per feature, the columns and the share threshold from options', () => {
    const r = driftReport(reference, current, {
      columns: ['a', 'b'],
      features: { a: { method: 'psi', threshold: 0.2 }, b: { method: 'anderson' } },
      driftShareThreshold: 0.5,
    });
    expect(r.features.map((f) => [f.name, f.method, f.threshold, f.pValue === null])).toEqual([
      ['a', 'psi', 0.2, true],
      ['b', 'anderson', 0.1, false],
    ]);
    expect(r.features[0].drifted).toBe(r.features[0].statistic >= 0.2);
    expect(r.datasetDrift).toBe(r.driftShare >= 0.5);
    const strict = driftReport(reference, current, { columns: ['a', 'b'], driftShareThreshold: 1 });
    expect(strict.datasetDrift).toBe(strict.features.every((f) => f.drifted));
  });
  it('drops NaN and infinities from numeric columns and nulls from categorical ones', () => {
    const withGaps = Float64Array.from([...normal(100), NaN, Infinity, -Infinity]);
    const clean = withGaps.subarray(0, 100);
    const a = ks2samp(clean, Float64Array.from([1, 2, 3]));
    expect(featureDrift('x', withGaps, Float64Array.from([1, 2, 3, NaN]), { method: 'ks' })).toMatchObject({ statistic: a.statistic, pValue: a.pValue });
    const cats = featureDrift('c', ['a', 'b', null, 'a', undefined], ['a', 'b', 'b'], { method: 'chisquare' });
    const same = featureDrift('c', ['a', 'b', 'a'], ['a', 'b', 'b'], { method: 'chisquare' });
    expect(cats.statistic).toBe(same.statistic);
  });
  it('dictionary codes give the same result as strings', () => {
    const categories = ['x', 'y', 'z'];
    const ref = Int32Array.from({ length: 400 }, () => Math.floor(rng() * 3));
    const cur = Int32Array.from({ length: 300 }, () => Math.floor(rng() * 3));
    cur[0] = -1;
    const byCodes = featureDrift('c', { codes: ref, categories }, { codes: cur, categories });
    const byStrings = featureDrift('c', Array.from(ref, (c) => categories[c]), Array.from(cur, (c) => (c < 0 ? null : categories[c])));
    expect(byCodes).toEqual(byStrings);
  });
  it('rejects numeric-only methods on categorical columns, unknown methods and unknown columns', () => {
    expect(() => featureDrift('c', ['a', 'b'], ['a'], { method: 'ks' })).toThrow(DriftInputError);
    expect(() => featureDrift('c', ['a', 'b'], ['a'], { method: 'nope' as never })).toThrow(/unknown drift method 'nope'/);
    expect(() => driftReport(reference, current, { columns: ['missing'] })).toThrow(/not in the reference/);
    expect(() => driftReport(reference, current, { features: { zz: { method: 'psi' } } })).toThrow(/not a compared column/);
  });
});

describe('bucketed Wasserstein', () => {
  const sorted = (a: Float64Array) => Float64Array.from(a).sort();
  const cases: [string, Float64Array, Float64Array][] = [
    ['same distribution', normal(60000), normal(50000)],
    ['shifted', normal(60000), normal(50000, 0.3, 1.2)],
    ['heavy ties', ints(40000, 7), ints(30000, 8)],
    ['outliers (segments bucketed again)', Float64Array.from([...normal(30000), 1e6, -1e5]), normal(30000)],
    ['skewed lognormal', normal(80000).map(Math.exp).map((x) => x ** 3), normal(60000, 0.05).map(Math.exp).map((x) => x ** 3)],
  ];
  for (const [name, u, v] of cases) {
    it(`equals the sort-and-walk integral: ${name}`, () => {
      const exact = wassersteinSorted(sorted(u), sorted(v));
      const bucketed = wassersteinBucketed(u, v);
      expect(Math.abs(bucketed - exact) / exact).toBeLessThan(1e-9);
      const coarse = wassersteinBucketed(u, v, 64);
      expect(Math.abs(coarse - exact) / exact).toBeLessThan(1e-9);
    });
  }
});
