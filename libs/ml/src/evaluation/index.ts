export type { IndexSplit, Label } from './metric-inputs';
export * from './classification-metrics';
export * from './regression-metrics';
export * from './splits';
export * from './cross-validation';
