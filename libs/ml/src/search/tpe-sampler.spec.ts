import { SeededRng } from '../random/seeded-rng';
import { CategoricalParzenEstimator, NumericParzenEstimator, neighbourBandwidths, observationWeights } from './parzen-estimator';
import { RandomSampler } from './random-sampler';
import type { Sampler, TrialRecord } from './sampler';
import { type IntDistribution, type Params, parseSearchSpace } from './search-space';
import { TpeSampler } from './tpe-sampler';

describe('Parzen estimators', () => {
  it('sizes kernels by neighbour gaps (Optuna univariate rule)', () => {
    // Observations 2, 3, 7 on [0, 10]: with the bounds, sorted points 0 | 2 3 7 | 10.
    // Larger gap each side: 2 → max(2, 1) = 2, 3 → max(1, 4) = 4, 7 → max(4, 3) = 4;
    // then the outermost use their inner gap only: 2 → 1, 7 → 4.
    expect(neighbourBandwidths([7, 2, 3], 0, 10)).toEqual([4, 1, 4]);
    // One observation: the larger gap to the bounds.
    expect(neighbourBandwidths([2], 0, 10)).toEqual([8]);
  });

  it('adds the prior kernel and clips widths to [range / min(100, 1 + kernels), range]', () => {
    const est = new NumericParzenEstimator({ kind: 'uniform', low: 0, high: 10 }, [2, 3, 7], 1);
    // 4 kernels → min width 10 / 5 = 2, so 1 becomes 2; the prior sits at 5 with width 10.
    expect(est.mus).toEqual([2, 3, 7, 5]);
    expect(est.sigmas).toEqual([2, 4, 4, 10]);
    expect(est.weights).toEqual([0.25, 0.25, 0.25, 0.25]);
  });

  it('weighs observations 1 each up to 25, then ramps the older ones from 1/n (Optuna default_weights)', () => {
    expect(observationWeights(0)).toEqual([]);
    expect(observationWeights(24)).toEqual(new Array(24).fill(1));
    const w = observationWeights(28); // ramp of 3: linspace(1/28, 1, 3) = 1/28, (1 + 1/28) / 2, 1
    expect(w).toHaveLength(28);
    expect(w.slice(0, 3)).toEqual([1 / 28, (1 + 1 / 28) / 2, 1]);
    expect(w.slice(3)).toEqual(new Array(25).fill(1));
  });

  it('is a density on the bounds: it integrates to 1 (continuous, log scale) or sums to 1 (ints)', () => {
    const uniform = new NumericParzenEstimator({ kind: 'uniform', low: -1, high: 2 }, [-0.9, 0.1, 0.15, 1.9], 1);
    // Midpoint rule over [−1, 2] with 30000 cells.
    let integral = 0;
    for (let i = 0; i < 30000; i++) integral += Math.exp(uniform.logLikelihood(-1 + (i + 0.5) * 1e-4)) * 1e-4;
    expect(integral).toBeCloseTo(1, 5);
    // On the log scale, the density is over ln x: integrate in u = ln x on [ln 1e-3, ln 1].
    const log = new NumericParzenEstimator({ kind: 'loguniform', low: 1e-3, high: 1 }, [0.002, 0.5], 1);
    const a = Math.log(1e-3);
    const du = -a / 30000;
    integral = 0;
    for (let i = 0; i < 30000; i++) integral += Math.exp(log.logLikelihood(Math.exp(a + (i + 0.5) * du))) * du;
    expect(integral).toBeCloseTo(1, 5);
    const ints: IntDistribution[] = [
      { kind: 'int', low: 16, high: 128, step: 16, log: false },
      { kind: 'int', low: 1, high: 300, step: 1, log: true },
    ];
    for (const d of ints) {
      const est = new NumericParzenEstimator(d, [d.low, d.low + d.step, d.high], 1);
      let total = 0;
      for (let v = d.low; v <= d.high; v += d.step) total += Math.exp(est.logLikelihood(v));
      expect(total).toBeCloseTo(1, 6);
    }
  });

  it('smooths categorical counts with a uniform prior of total weight priorWeight', () => {
    // Choices a, b, c; observed a, a, b: counts 2, 1, 0 plus 1/3 each, over 3 + 1 = 4 → 7/12, 4/12, 1/12.
    const est = new CategoricalParzenEstimator({ kind: 'choice', choices: ['a', 'b', 'c'] }, [0, 0, 1], 1);
    expect(est.probabilities.map((p) => p * 12)).toEqual([7, 4, 1].map((x) => expect.closeTo(x, 12)));
    expect(est.logLikelihood('c')).toBeCloseTo(Math.log(1 / 12), 12);
  });
});

describe('TpeSampler', () => {
  const space = parseSearchSpace({ x: { uniform: [0, 1] }, c: { choice: ['a', 'b', 'c', 'd'] } });
  const trial = (number: number, x: number, c: string, value: number, state: TrialRecord['state'] = 'complete'): TrialRecord => ({
    number,
    params: { x, c },
    value,
    state,
  });

  it('samples at random until nStartup trials are complete or pruned (failed and running do not count)', () => {
    const history = [trial(0, 0.1, 'a', 1), trial(1, 0.2, 'b', 2, 'failed'), trial(2, 0.3, 'c', 3, 'running'), trial(3, 0.4, 'd', 4, 'pruned')];
    const tpe = new TpeSampler(space, { nStartup: 3 });
    expect(tpe.fit(history)).toBeNull();
    expect(tpe.suggestBatch(history, 5, new SeededRng(1))).toEqual(new RandomSampler(space).suggestBatch([], 5, new SeededRng(1)));
    expect(tpe.fit([...history, trial(4, 0.5, 'a', 5, 'pruned')])).not.toBeNull();
  });

  it('puts the best ceil(gamma · n) trials below, complete before pruned, in the study direction', () => {
    // 12 complete trials with x = value, and 8 pruned with better (smaller) values: n = 20, below = ceil(2) = 2.
    const history = [
      ...Array.from({ length: 12 }, (_, i) => trial(i, (i + 1) / 20, 'a', (i + 1) / 20)),
      ...Array.from({ length: 8 }, (_, i) => trial(12 + i, 0.99, 'b', -1, 'pruned')),
    ];
    const belowMus = (direction: 'minimize' | 'maximize', h = history) =>
      (new TpeSampler(space, { direction }).fit(h)![0].below as NumericParzenEstimator).mus.slice(0, -1);
    expect(belowMus('minimize')).toEqual([0.05, 0.1]);
    expect(belowMus('maximize')).toEqual([0.55, 0.6]);
    // maxBelow caps the count: 300 trials would give 30, capped at 25.
    const many = Array.from({ length: 300 }, (_, i) => trial(i, i / 300, 'a', i));
    expect((new TpeSampler(space).fit(many)![0].below as NumericParzenEstimator).mus).toHaveLength(25 + 1);
  });

  it('moves towards where the good trials are, for numbers and categories', () => {
    // 30 random trials of f = (x − 0.8)² + [c ≠ 'c']: the good ones have x near 0.8 and c = 'c'.
    const f = (p: Params) => ((p['x'] as number) - 0.8) ** 2 + (p['c'] === 'c' ? 0 : 1);
    const history = new RandomSampler(space).suggestBatch([], 30, new SeededRng(12)).map((params, i): TrialRecord => ({ number: i, params, value: f(params), state: 'complete' }));
    const next = new TpeSampler(space).suggestBatch(history, 40, new SeededRng(13));
    const meanDistance = (ps: Params[]) => ps.reduce((s, p) => s + Math.abs((p['x'] as number) - 0.8), 0) / ps.length;
    const random = new RandomSampler(space).suggestBatch([], 40, new SeededRng(13));
    expect(meanDistance(next)).toBeLessThan(meanDistance(random) / 2);
    expect(next.filter((p) => p['c'] === 'c').length).toBeGreaterThan(40 / 2); // random: 1/4
  });
});

/**
 * Branin–Hoo on x ∈ [−5, 10], y ∈ [0, 15]: global minimum 0.397887 at (−π, 12.275), (π, 2.275) and
 * (9.42478, 2.475).
 */
function branin(x: number, y: number): number {
  const b = 5.1 / (4 * Math.PI ** 2);
  const c = 5 / Math.PI;
  const t = 1 / (8 * Math.PI);
  return (y - b * x * x + c * x - 6) ** 2 + 10 * (1 - t) * Math.cos(x) + 10;
}

describe('TPE against random search on Branin', () => {
  it('uses the right function: 0.397887 at each of the three minima', () => {
    for (const [x, y] of [
      [-Math.PI, 12.275],
      [Math.PI, 2.275],
      [9.42478, 2.475],
    ]) {
      expect(branin(x, y)).toBeCloseTo(0.397887, 5);
    }
  });

  it('finds a better minimum with the same budget: on average over 10 seeds and in most of them', () => {
    const space = parseSearchSpace({ x: { uniform: [-5, 10] }, y: { uniform: [0, 15] } });
    const best = (sampler: Sampler, seed: number) => {
      const rng = new SeededRng(seed);
      const history: TrialRecord[] = [];
      for (let i = 0; i < 60; i++) {
        const p = sampler.suggest(history, rng) as Params;
        history.push({ number: i, params: p, value: branin(p['x'] as number, p['y'] as number), state: 'complete' });
      }
      return Math.min(...history.map((t) => t.value as number));
    };
    const seeds = Array.from({ length: 10 }, (_, i) => i + 1);
    const tpe = seeds.map((s) => best(new TpeSampler(space), s));
    const random = seeds.map((s) => best(new RandomSampler(space), s));
    const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
    // TPE's mean gap to the optimum is less than 3/4 of random's, and it wins in at least 7 of 10 seeds.
    expect(mean(tpe) - 0.397887).toBeLessThan(0.75 * (mean(random) - 0.397887));
    expect(tpe.filter((v, i) => v < random[i]).length).toBeGreaterThanOrEqual(7);
    // Nothing beats the known minimum.
    expect(Math.min(...tpe, ...random)).toBeGreaterThanOrEqual(0.397887 - 1e-6);
  });
});
