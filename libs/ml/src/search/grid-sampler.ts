import { ValidationError, parseOrThrow } from '@mlp/contracts';
import { z } from 'zod';
import type { SeededRng } from '../random/seeded-rng';
import { type Sampler, type TrialRecord, requireBatchSize } from './sampler';
import { type Distribution, type JsonValue, type Params, type SearchSpace, canonicalKey, roundToStep } from './search-space';

export interface GridSamplerOptions {
  /**
   * Points per numeric parameter: one number for all, or per parameter name. uniform: evenly
   * spaced from lo to hi; loguniform: evenly spaced on the log scale; int: the same, rounded to the
   * step grid with duplicates dropped. Required for every uniform/loguniform parameter; an int
   * without a size takes every value of its step grid. Choices always take every value.
   */
  grid?: number | Record<string, number>;
}

const gridSize = z.int().min(2, 'must be an integer of at least 2 (both bounds are grid points)');
const optionsSchema = z.strictObject({ grid: z.union([gridSize, z.record(z.string(), gridSize)]).optional() });

/** `k` points from a to b inclusive, evenly spaced; the ends are exact. */
function linspace(a: number, b: number, k: number): number[] {
  return Array.from({ length: k }, (_, i) => (i === k - 1 ? b : a + ((b - a) * i) / (k - 1)));
}

function gridPoints(d: Distribution, k: number | undefined): JsonValue[] {
  switch (d.kind) {
    case 'choice':
      return d.choices;
    case 'uniform':
      return linspace(d.low, d.high, k as number);
    case 'loguniform':
      return linspace(Math.log(d.low), Math.log(d.high), k as number).map((x, i, all) => (i === 0 ? d.low : i === all.length - 1 ? d.high : Math.exp(x)));
    case 'int': {
      if (k === undefined) return Array.from({ length: (d.high - d.low) / d.step + 1 }, (_, i) => d.low + i * d.step);
      const raw = d.log ? linspace(Math.log(d.low), Math.log(d.high), k).map(Math.exp) : linspace(d.low, d.high, k);
      return [...new Set(raw.map((x) => roundToStep(d, x)))];
    }
  }
}

/**
 * Every combination of the grid points of each parameter (their cartesian product), in order: the
 * last parameter varies fastest, as itertools.product. `suggest` returns the first combination no
 * trial of the history has taken (finished in any state, or running), and null once all are taken.
 * Does not use the rng.
 */
export class GridSampler implements Sampler {
  readonly method = 'grid' as const;
  /** Grid points of each parameter, in the space's order. */
  readonly axes: ReadonlyArray<{ name: string; points: readonly JsonValue[] }>;

  constructor(
    readonly space: SearchSpace,
    options: GridSamplerOptions = {},
  ) {
    const { grid } = parseOrThrow(optionsSchema, options, 'grid sampler options');
    const names = Object.keys(space);
    const sizeOf = (name: string) => (typeof grid === 'number' ? grid : grid?.[name]);
    const unknown = typeof grid === 'object' ? Object.keys(grid).filter((n) => !(n in space)) : [];
    const missing = names.filter((n) => (space[n].kind === 'uniform' || space[n].kind === 'loguniform') && sizeOf(n) === undefined);
    const issues = [
      ...unknown.map((n) => ({ path: `grid.${n}`, message: 'is not a parameter of the search space' })),
      ...missing.map((n) => ({ path: `grid.${n}`, message: `${space[n].kind} parameter '${n}' needs a grid size (number of points)` })),
    ];
    if (issues.length > 0) throw new ValidationError(`invalid grid sampler options: ${issues.map((i) => `${i.path} ${i.message}`).join('; ')}`, issues);
    this.axes = names.map((name) => ({ name, points: gridPoints(space[name], sizeOf(name)) }));
  }

  /** Number of combinations. */
  size(): number {
    return this.axes.reduce((n, axis) => n * axis.points.length, 1);
  }

  /** The combination at `index` (0 ≤ index < size()), decoded as a mixed-radix number. */
  at(index: number): Params {
    const params: Params = {};
    let rest = index;
    for (let a = this.axes.length - 1; a >= 0; a--) {
      const { name, points } = this.axes[a];
      params[name] = points[rest % points.length];
      rest = Math.floor(rest / points.length);
    }
    // Keep the space's key order.
    return Object.fromEntries(this.axes.map(({ name }) => [name, params[name]]));
  }

  suggest(history: readonly TrialRecord[], rng: SeededRng): Params | null {
    return this.suggestBatch(history, 1, rng)[0] ?? null;
  }

  suggestBatch(history: readonly TrialRecord[], n: number, _rng: SeededRng): Params[] {
    requireBatchSize(n);
    const taken = new Set(history.map((t) => this.keyOf(t.params)));
    const batch: Params[] = [];
    for (let i = 0, size = this.size(); i < size && batch.length < n; i++) {
      const params = this.at(i);
      if (!taken.has(this.keyOf(params))) batch.push(params);
    }
    return batch;
  }

  private keyOf(params: Params): string {
    return canonicalKey(this.axes.map(({ name }) => params[name] ?? null));
  }
}
