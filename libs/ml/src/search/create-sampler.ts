import { ValidationError } from '@mlp/contracts';
import { GridSampler, type GridSamplerOptions } from './grid-sampler';
import { RandomSampler } from './random-sampler';
import type { Sampler } from './sampler';
import type { SearchSpace } from './search-space';
import { TpeSampler, type TpeSamplerOptions } from './tpe-sampler';

export const samplerMethods = ['grid', 'random', 'tpe'] as const;
export type SamplerMethod = (typeof samplerMethods)[number];

export interface SamplerOptionsByMethod {
  grid: GridSamplerOptions;
  random: Record<string, never>;
  tpe: TpeSamplerOptions;
}

/** The sampler for a config's `method`; an unknown method is a ValidationError listing the known ones. */
export function createSampler<M extends SamplerMethod>(method: M, space: SearchSpace, options?: SamplerOptionsByMethod[M]): Sampler;
export function createSampler(method: string, space: SearchSpace, options?: unknown): Sampler;
export function createSampler(method: string, space: SearchSpace, options: unknown = {}): Sampler {
  switch (method) {
    case 'grid':
      return new GridSampler(space, options as GridSamplerOptions);
    case 'random':
      if (typeof options !== 'object' || options === null || Object.keys(options).length > 0) {
        throw new ValidationError('the random sampler takes no options', [{ path: 'options', message: 'the random sampler takes no options' }]);
      }
      return new RandomSampler(space);
    case 'tpe':
      return new TpeSampler(space, options as TpeSamplerOptions);
    default:
      throw new ValidationError(`unknown search method '${method}': expected one of ${samplerMethods.join(', ')}`, [
        { path: 'method', message: `must be one of ${samplerMethods.join(', ')}` },
      ]);
  }
}
