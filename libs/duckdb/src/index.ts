export * from './duck';
export * from './sql';
export * from './column-stats';
export * from './row-batches';
