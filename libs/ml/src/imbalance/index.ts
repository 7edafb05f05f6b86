export * from './class-weights';
export * from './resampling';
