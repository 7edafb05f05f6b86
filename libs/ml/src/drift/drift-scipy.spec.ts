import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { chi2Sf, ndtr } from './special';
import { kstwoSf, smirnovSf } from './kolmogorov';
import { DRIFT_METHODS, driftReport, featureDrift, type DriftMethod } from './report';

/**
 * Every statistic and p-value against scipy (tools/drift-reference/generate.py writes
 * fixtures.json with numpy/scipy and re-implemented Evidently wrappers). Tolerance: 1e-6
 * relative; an absolute floor only where scipy's value is an exact zero or below 1e-300
 * (then ours must be below 1e-300 too). Infinities and NaN must match exactly.
 */
type Num = number | 'inf' | '-inf' | 'nan';
interface Fixtures {
  samples: Record<string, Num[]>;
  cases: {
    id: string;
    note: string;
    kind: 'numeric' | 'categorical';
    reference: (Num | string)[] | string;
    current: (Num | string)[] | string;
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

function column(kind: 'numeric' | 'categorical', data: (Num | string)[] | string): Float64Array | string[] {
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
  });

  for (const c of fixtures.cases) {
    describe(`${c.id} (${c.note})`, () => {
      const reference = column(c.kind, c.reference);
      const current = column(c.kind, c.current);
      for (const [method, expected] of Object.entries(c.methods) as [DriftMethod, NonNullable<Fixtures['cases'][number]['methods'][DriftMethod]>][]) {
        it(method, () => {
          const r = featureDrift('x', reference, current, { method, kind: c.kind });
          expectClose(r.statistic, expected.statistic, `${c.id} ${method} statistic`);
          expectClose(r.pValue, expected.pValue, `${c.id} ${method} p-value`);
        });
      }
      it(`default selection: ${c.default.method}`, () => {
        const report = driftReport({ x: reference }, { x: current }, { features: { x: { kind: c.kind } } });
        const f = report.features[0];
        expect({ method: f.method, threshold: f.threshold, drifted: f.drifted }).toEqual(c.default);
        const expected = c.methods[c.default.method];
        expectClose(f.statistic, expected?.statistic ?? 'nan', `${c.id} default statistic`);
      });
    });
  }

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
