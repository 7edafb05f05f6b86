export * from './search-space';
export type { Direction, Sampler, TrialRecord, TrialState } from './sampler';
export * from './random-sampler';
export * from './grid-sampler';
export * from './tpe-sampler';
export * from './create-sampler';
export * from './median-pruner';
