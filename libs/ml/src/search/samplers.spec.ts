import { ValidationError } from '@mlp/contracts';
import { SeededRng } from '../random/seeded-rng';
import { createSampler } from './create-sampler';
import { GridSampler } from './grid-sampler';
import { RandomSampler } from './random-sampler';
import type { Sampler, TrialRecord } from './sampler';
import { type Params, type SearchSpace, parseSearchSpace } from './search-space';
import { TpeSampler } from './tpe-sampler';

const space = parseSearchSpace({
  lr: { loguniform: [1e-4, 1e-1] },
  dropout: { uniform: [0, 0.5] },
  units: { int: [16, 128], step: 16 },
  batch: { int: [32, 256], log: true },
  layers: { choice: [[32], [64, 32], { depth: 3 }] },
});

/** An objective over `space` with its optimum inside: lr 1e-2, dropout 0.1, units 64, batch ~100, layers [64, 32]. */
function objective(p: Params): number {
  const layers = JSON.stringify(p['layers']) === '[64,32]' ? 0 : 0.5;
  return (Math.log10(p['lr'] as number) + 2) ** 2 + (((p['dropout'] as number) - 0.1) * 4) ** 2 + (((p['units'] as number) - 64) / 48) ** 2 + Math.log(((p['batch'] as number) / 100) ** 2) ** 2 / 4 + layers;
}

/** Runs a sequential search of `budget` trials; failed every 7th to exercise that state. */
function run(sampler: Sampler, seed: number, budget: number): TrialRecord[] {
  const rng = new SeededRng(seed);
  const history: TrialRecord[] = [];
  for (let i = 0; i < budget; i++) {
    const params = sampler.suggest(history, rng);
    if (params === null) break;
    history.push(i % 7 === 6 ? { number: i, params, state: 'failed' } : { number: i, params, state: 'complete', value: objective(params) });
  }
  return history;
}

function expectInSpace(p: Params, s: SearchSpace = space): void {
  expect(Object.keys(p)).toEqual(Object.keys(s));
  for (const [name, d] of Object.entries(s)) {
    const v = p[name];
    if (d.kind === 'choice') {
      expect(d.choices).toContainEqual(v);
      continue;
    }
    expect(typeof v).toBe('number');
    const x = v as number;
    expect(x).toBeGreaterThanOrEqual(d.low);
    expect(x).toBeLessThanOrEqual(d.high);
    if (d.kind === 'int') {
      expect(Number.isInteger(x)).toBe(true);
      expect((x - d.low) % d.step).toBe(0);
    }
  }
}

describe.each([
  ['random', () => new RandomSampler(space)],
  ['tpe', () => new TpeSampler(space, { nStartup: 5 })],
  ['tpe (maximize)', () => new TpeSampler(space, { nStartup: 5, direction: 'maximize' })],
])('%s sampler', (_name, make) => {
  const history = run(make(), 11, 80);

  it('only returns values inside the bounds, on the int step grid, or among the choices', () => {
    expect(history).toHaveLength(80);
    history.forEach((t) => expectInSpace(t.params));
    make().suggestBatch(history, 20, new SeededRng(3)).forEach((p) => expectInSpace(p));
  });

  it('is deterministic: same seed and history, same suggestions; another seed, others', () => {
    expect(run(make(), 11, 40)).toEqual(history.slice(0, 40));
    const batch = make().suggestBatch(history, 4, new SeededRng(5));
    expect(make().suggestBatch(history, 4, new SeededRng(5))).toEqual(batch);
    expect(make().suggestBatch(history, 4, new SeededRng(6))).not.toEqual(batch);
  });

  it('batches from the finished trials only: running trials change nothing, members differ, the first is suggest()', () => {
    const withRunning: TrialRecord[] = [...history, { number: 80, params: history[0].params, state: 'running' }];
    const batch = make().suggestBatch(history, 4, new SeededRng(9));
    expect(make().suggestBatch(withRunning, 4, new SeededRng(9))).toEqual(batch);
    expect(new Set(batch.map((p) => JSON.stringify(p))).size).toBe(4);
    expect(batch[0]).toEqual(make().suggest(history, new SeededRng(9)));
  });

  it('does not depend on the order trials finished in when they carry their number', () => {
    const shuffled = new SeededRng(1).shuffle([...history]);
    expect(make().suggestBatch(shuffled, 3, new SeededRng(2))).toEqual(make().suggestBatch(history, 3, new SeededRng(2)));
  });
});

describe('RandomSampler', () => {
  it('draws every int of the step grid about equally often', () => {
    const s = parseSearchSpace({ u: { int: [16, 128], step: 16 } });
    const counts = new Map<number, number>();
    new RandomSampler(s).suggestBatch([], 8000, new SeededRng(4)).forEach((p) => counts.set(p['u'] as number, (counts.get(p['u'] as number) ?? 0) + 1));
    expect([...counts.keys()].sort((a, b) => a - b)).toEqual([16, 32, 48, 64, 80, 96, 112, 128]);
    // 8 values, 1000 expected each; binomial sd ≈ √(8000 · 1/8 · 7/8) ≈ 30, so ±150 is 5 sd.
    for (const c of counts.values()) expect(Math.abs(c - 1000)).toBeLessThan(150);
  });

  it('draws log-scale parameters log-uniformly: the median is the geometric mean of the bounds', () => {
    const s = parseSearchSpace({ lr: { loguniform: [1e-4, 1], }, n: { int: [1, 10000], log: true }, m: { int: [1, 10000] } });
    const draws = new RandomSampler(s).suggestBatch([], 4001, new SeededRng(8));
    const median = (name: string) => draws.map((p) => p[name] as number).sort((a, b) => a - b)[2000];
    // Log-uniform on [1e-4, 1]: median √(1e-4 · 1) = 1e-2; on [0.5, 10000.5]: √(0.5 · 10000.5) ≈ 70.7.
    expect(Math.log10(median('lr'))).toBeCloseTo(-2, 1);
    expect(Math.log10(median('n'))).toBeCloseTo(Math.log10(Math.sqrt(0.5 * 10000.5)), 1);
    // Linear int: median ≈ 5000.
    expect(Math.abs(median('m') - 5000)).toBeLessThan(300);
  });
});

describe('createSampler', () => {
  it('builds the sampler a config names, with its options', () => {
    const grid = createSampler('grid', parseSearchSpace({ a: { choice: [1, 2] }, b: { uniform: [0, 1] } }), { grid: 5 });
    expect(grid).toBeInstanceOf(GridSampler);
    expect((grid as GridSampler).size()).toBe(10);
    expect(createSampler('random', space)).toBeInstanceOf(RandomSampler);
    const tpe = createSampler('tpe', space, { direction: 'maximize', nStartup: 3 });
    expect(tpe).toBeInstanceOf(TpeSampler);
    expect((tpe as TpeSampler).options).toEqual({ direction: 'maximize', nStartup: 3, nEiCandidates: 24, gamma: 0.1, maxBelow: 25, priorWeight: 1 });
  });

  it('rejects an unknown method, listing the known ones, and bad options field by field', () => {
    expect(() => createSampler('bayes', space)).toThrow(/expected one of grid, random, tpe/);
    try {
      createSampler('tpe', space, { nStartup: -1, direction: 'up' });
      throw new Error('expected a ValidationError');
    } catch (e) {
      expect(e).toBeInstanceOf(ValidationError);
      expect((e as ValidationError).details.map((i) => i.path).sort()).toEqual(['direction', 'nStartup']);
    }
    expect(() => createSampler('random', space, { seed: 1 })).toThrow(ValidationError);
  });
});
