export * from './metric-frame';
export * from './disparities';
export * from './fairness-report';
