export * from './training-spec';
export * from './prepare';
export * from './preprocessing-from-spec';
export * from './plan';
export * from './scoring';
export * from './trainer';
