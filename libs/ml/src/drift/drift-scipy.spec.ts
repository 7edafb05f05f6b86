import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { chi2Sf, ndtr } from './special';
import { kstwoSf, smirnovSf } from './kolmogorov';
import { DriftReference } from './reference';
import { DRIFT_METHODS, driftReport, featureDrift, type DriftMethod, type FeatureDrift } from './report';

/**
 * Every statistic and p-value against scipy (tools/drift-reference/generate.py writes
 * fixtures.json with numpy/scipy and re-implemented Evidently wrappers). Tolerance: 1e-6
 * relative; an absolute floor only where scipy's value is an exact zero or below 1e-300
 * (then ours must be below 1e-300 too). Infinities and NaN must match exactly. A statistic
 * the library marks approximate (Wasserstein over a window of more than 100 000 values,
 * from its grid) must lie within the bound it states of scipy's exact value.
 */
type Num = number | 'inf' | '-inf' | 'nan';
/** Parameters of generate.py's weyl_normal (samples too large to store). */
interface Weyl {
  weyl: { n: number; s1: number; s2: number; mean?: number; sd?: number; lognormal?: boolean };
}
interface Fixtures {
  samples: Record<string, Num[]>;
  cases: {
    id: string;
    note: string;
    kind: 'numeric' | 'categorical';
    reference: (Num | string)[] | string | Weyl;
    current: (Num | string)[] | string | Weyl;
    methods: Partial<Record<DriftMethod, { statistic: Num; pValue: Num | null; exact?: boolean }>>;
    default: { method: DriftMethod; threshold: number; drifted: boolean };
  }[];
  kstwo: { n: number; x: number; sf: Num }[];
  chi2: { x: number; k: number; sf: Num }[];
  ndtr: { x: number; cdf: Num }[];
  smirnov: { n: number; x: number; sf: Num }[];
}

const fixtures: Fixtures = JSON.parse(readFileSync(join(__dirname, '../../../../tools/drift-reference/fixtures.json'), 'utf8'));
const num = (v: Num): number => (v === 'inf' ? Infinity : v === '-inf' ? -Infinity : v === 'nan' ? NaN : v);

function expectClose(actual: number | null, expected: Num | null, what: string): void {
  if (expected === null) {
    expect({ what, actual }).toEqual({ what, actual: null });
    return;
  }
  const e = num(expected);
  if (actual === null) throw new Error(`${what}: expected ${e}, got null`);
  if (Number.isNaN(e) || !Number.isFinite(e)) {
    expect({ what, actual }).toEqual({ what, actual: e });
    return;
  }
  if (e === 0 || Math.abs(e) < 1e-300) {
    if (!(Math.abs(actual) < 1e-300)) throw new Error(`${what}: expected ${e}, got ${actual}`);
    return;
  }
  const rel = Math.abs(actual - e) / Math.abs(e);
  if (!(rel <= 1e-6)) throw new Error(`${what}: expected ${e}, got ${actual} (relative error ${rel.toExponential(2)})`);
}

/** generate.py's weyl_normal, operation for operation. */
function weylNormal({ n, s1, s2, mean = 0, sd = 1, lognormal = false }: Weyl['weyl']): Float64Array {
  const a1 = (Math.sqrt(5) - 1) / 2;
  const a2 = Math.SQRT2 - 1;
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const u = Math.max(((i + 0.5) * a1 + s1) % 1, 2 ** -53);
    const v = ((i + 0.5) * a2 + s2) % 1;
    const x = mean + sd * (Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v));
    out[i] = lognormal ? Math.exp(x) : x;
  }
  return out;
}

/** Within 1e-6 relative, or, where the library reports its statistic as approximate, within its stated bound of scipy's. */
function expectStatistic(r: FeatureDrift, expected: Num, what: string): void {
  const bound = r.approximation?.maxError;
  if (bound === undefined) return expectClose(r.statistic, expected, what);
  const e = num(expected);
  if (!(Math.abs(r.statistic - e) <= bound + 1e-6 * Math.abs(e))) throw new Error(`${what}: expected ${e} within ${bound}, got ${r.statistic}`);
}

function column(kind: 'numeric' | 'categorical', data: (Num | string)[] | string | Weyl): Float64Array | string[] {
  if (typeof data === 'object' && 'weyl' in data) return weylNormal(data.weyl);
  const values = typeof data === 'string' ? fixtures.samples[data] : data;
  return kind === 'numeric' ? Float64Array.from(values as Num[], num) : (values as string[]);
}

describe('drift statistics against scipy fixtures', () => {
  it('the fixtures cover every method, exact and asymptotic KS, and each default rule', () => {
    const methods = new Set(fixtures.cases.flatMap((c) => Object.keys(c.methods)));
    expect([...methods].sort()).toEqual([...DRIFT_METHODS].sort());
    const ks = fixtures.cases.map((c) => c.methods.ks).filter((k) => k !== undefined);
    expect(ks.some((k) => k?.exact)).toBe(true);
    expect(ks.some((k) => k?.exact === false)).toBe(true);
    expect(new Set(fixtures.cases.map((c) => c.default.method))).toEqual(new Set(['ks', 'chisquare', 'ztest', 'wasserstein', 'jensenshannon']));
    // a window past EXACT_WINDOW values: the grid estimate is checked against scipy's exact distance
    const large = fixtures.cases.find((c) => c.id === 'window-150k') as Fixtures['cases'][number];
    const w = featureDrift('x', column('numeric', large.reference), column('numeric', large.current));
    expect(w.approximation?.from).toBe('grid');
  });

  for (const c of fixtures.cases) {
    describe(`${c.id} (${c.note})`, () => {
      const reference = column(c.kind, c.reference);
      const current = column(c.kind, c.current);
      for (const [method, expected] of Object.entries(c.methods) as [DriftMethod, NonNullable<Fixtures['cases'][number]['methods'][DriftMethod]>][]) {
        it(method, () => {
          const r = featureDrift('x', reference, current, { method, kind: c.kind });
          expectStatistic(r, expected.statistic, `${c.id} ${method} statistic`);
          expectClose(r.pValue, expected.pValue, `${c.id} ${method} p-value`);
        });
      }
      it(`default selection: ${c.default.method}`, () => {
        const report = driftReport({ x: reference }, { x: current }, { features: { x: { kind: c.kind } } });
        const f = report.features[0];
        expect({ method: f.method, threshold: f.threshold, drifted: f.drifted }).toEqual(c.default);
        const expected = c.methods[c.default.method];
        expectStatistic(f, expected?.statistic ?? 'nan', `${c.id} default statistic`);
      });
    });
  }

  it.each(['window-150k', 'window-150k-lognormal'])('a streamed window of 150 000 values (DriftWindow past its exact limit) against scipy: %s', (id) => {
    const c = fixtures.cases.find((x) => x.id === id) as Fixtures['cases'][number];
    const reference = column('numeric', c.reference) as Float64Array;
    const current = column('numeric', c.current) as Float64Array;
    for (const method of ['wasserstein', 'ks', 'jensenshannon', 'psi', 'kl', 'hellinger'] as const) {
      const window = DriftReference.build({ x: reference }, { features: { x: { method } } }).window();
      for (let start = 0; start < current.length; start += 10000) window.push({ x: current.subarray(start, start + 10000) });
      const f = window.report().features[0];
      const expected = c.methods[method] as { statistic: Num; pValue: Num | null };
      if (method === 'wasserstein') expectStatistic(f, expected.statistic, 'streamed wasserstein');
      else if (method === 'ks') {
        // counts per reference interval: exact
        expect(f.approximation).toBeUndefined();
        expectClose(f.statistic, expected.statistic, 'streamed ks statistic');
        expectClose(f.pValue, expected.pValue, 'streamed ks p-value');
      } else {
        // Sturges bins filled by the grid's bucket means (measured: within 4e-6)
        expect(f.approximation).toEqual({ from: 'grid' });
        expect(Math.abs(f.statistic - num(expected.statistic))).toBeLessThan(2e-5);
      }
    }
  });

  it('kstwo.sf in every branch of scipy _kolmogn', () => {
    for (const k of fixtures.kstwo) expectClose(kstwoSf(k.x, k.n), k.sf, `kstwo.sf(${k.x}, ${k.n})`);
  });
  it('smirnov', () => {
    for (const k of fixtures.smirnov) expectClose(smirnovSf(k.n, k.x), k.sf, `smirnov(${k.n}, ${k.x})`);
  });
  it('chi2.sf', () => {
    for (const k of fixtures.chi2) expectClose(chi2Sf(k.x, k.k), k.sf, `chi2.sf(${k.x}, ${k.k})`);
  });
  it('norm.cdf', () => {
    for (const k of fixtures.ndtr) expectClose(ndtr(k.x), k.cdf, `ndtr(${k.x})`);
  });
});
