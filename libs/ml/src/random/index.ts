export * from './seeded-rng';
