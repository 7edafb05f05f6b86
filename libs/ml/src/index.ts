export * from './features/duration';
export * from './features/feature-view-spec';
export * from './features/feature-view-schema-check';
export * from './features/feature-sql';
export * from './features/point-in-time-join';
export * from './features/feature-view-diff';
