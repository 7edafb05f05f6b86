import { ValidationError } from '@mlp/contracts';
import { SeededRng } from '../random/seeded-rng';
import { GridSampler } from './grid-sampler';
import type { TrialRecord } from './sampler';
import { type Params, canonicalKey, parseSearchSpace } from './search-space';

const rng = () => new SeededRng(0);
const key = (p: Params) => canonicalKey(p);

describe('GridSampler', () => {
  const space = parseSearchSpace({
    act: { choice: ['relu', 'tanh'] },
    units: { int: [1, 3] },
    dropout: { uniform: [0, 0.5] },
  });

  it('enumerates exactly the cartesian product, last parameter fastest', () => {
    const grid = new GridSampler(space, { grid: 3 });
    // 2 choices × 3 ints × 3 points of [0, 0.5] (0, 0.25, 0.5) = 18.
    expect(grid.size()).toBe(18);
    const expected: Params[] = [];
    for (const act of ['relu', 'tanh']) for (const units of [1, 2, 3]) for (const dropout of [0, 0.25, 0.5]) expected.push({ act, units, dropout });
    expect(grid.suggestBatch([], 100, rng())).toEqual(expected);
    expect(Array.from({ length: 18 }, (_, i) => grid.at(i))).toEqual(expected);
  });

  it('takes every int value of the step grid without a size, and evenly spaced ones with a size', () => {
    const s = parseSearchSpace({ w: { int: [0, 10], step: 5 }, n: { int: [1, 100], log: true }, m: { int: [0, 9] } });
    const grid = new GridSampler(s, { grid: { n: 3, m: 4 } });
    expect(grid.axes.map((a) => a.points)).toEqual([
      [0, 5, 10],
      [1, 10, 100], // exp(linspace(ln 1, ln 100, 3)) = 1, 10, 100
      [0, 3, 6, 9], // linspace(0, 9, 4) = 0, 3, 6, 9
    ]);
    // Rounding can merge points: [1, 3] with 5 points is 1, 1.5, 2, 2.5, 3, rounded (half up) to 1, 2, 2, 3, 3 → 1, 2, 3.
    expect(new GridSampler(parseSearchSpace({ k: { int: [1, 3] } }), { grid: 5 }).axes[0].points).toEqual([1, 2, 3]);
  });

  it('log-spaces loguniform points and hits both bounds exactly', () => {
    const grid = new GridSampler(parseSearchSpace({ lr: { loguniform: [1e-4, 1e-1] } }), { grid: 4 });
    const points = grid.axes[0].points as number[];
    expect(points[0]).toBe(1e-4);
    expect(points[3]).toBe(1e-1);
    // Each point is 10× the previous one: 1e-4, 1e-3, 1e-2, 1e-1.
    expect(points[1]).toBeCloseTo(1e-3, 15);
    expect(points[2]).toBeCloseTo(1e-2, 14);
  });

  it('suggests the first combination no trial has taken, in any state, then runs out', () => {
    // A global size applies to the int too: 2 × 2 (units 1, 3) × 2 (dropout 0, 0.5) = 8; per parameter, units keeps its 3 values.
    expect(new GridSampler(space, { grid: 2 }).size()).toBe(8);
    const grid = new GridSampler(space, { grid: { dropout: 2 } });
    const history: TrialRecord[] = [];
    const states = ['complete', 'pruned', 'failed', 'running'] as const;
    for (let i = 0; ; i++) {
      const params = grid.suggest(history, rng());
      if (params === null) break;
      history.push({ number: i, params, state: states[i % 4], value: i });
    }
    expect(history).toHaveLength(12);
    expect(new Set(history.map((t) => key(t.params))).size).toBe(12);
    expect(grid.suggestBatch(history, 3, rng())).toEqual([]);
  });

  it('fills gaps: a batch skips taken combinations whatever order they were run in', () => {
    const grid = new GridSampler(space, { grid: 2 });
    const taken = [grid.at(3), grid.at(0), grid.at(1)].map((params): TrialRecord => ({ params, state: 'complete', value: 1 }));
    expect(grid.suggestBatch(taken, 3, rng())).toEqual([grid.at(2), grid.at(4), grid.at(5)]);
    expect(grid.suggestBatch([...taken].reverse(), 3, rng())).toEqual([grid.at(2), grid.at(4), grid.at(5)]);
    // Params read back from JSON (key order changed) still match their grid point.
    const reordered = JSON.parse(JSON.stringify({ dropout: 0, units: 1, act: 'relu' })) as Params;
    expect(grid.suggest([{ params: reordered, state: 'complete', value: 0 }], rng())).toEqual(grid.at(1));
  });

  it('needs a grid size for every continuous parameter, and rejects unknown or tiny sizes', () => {
    const bad = (options: unknown) => {
      try {
        new GridSampler(space, options as never);
      } catch (e) {
        expect(e).toBeInstanceOf(ValidationError);
        return (e as ValidationError).details.map((i) => i.path);
      }
      throw new Error('expected a ValidationError');
    };
    expect(bad({})).toEqual(['grid.dropout']);
    expect(bad({ grid: { units: 2 } })).toEqual(['grid.dropout']);
    expect(bad({ grid: { dropout: 3, lr: 3 } })).toEqual(['grid.lr']);
    expect(bad({ grid: 1 })[0]).toMatch(/^grid/);
    expect(() => grid().suggestBatch([], 0, rng())).toThrow(ValidationError);
    function grid() {
      return new GridSampler(space, { grid: 2 });
    }
  });
});
