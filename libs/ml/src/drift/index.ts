export * from './types';
export * from './special';
export { kstwoSf, smirnovSf } from './kolmogorov';
export * from './ks';
export * from './counts';
export * from './stats';
export * from './wasserstein';
export * from './report';
export * from './reference';
