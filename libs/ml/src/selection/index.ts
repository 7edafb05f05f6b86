export * from './feature-selector';
export * from './scores';
