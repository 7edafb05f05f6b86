export type { Cell, Frame, Category } from './frame';
export type { Target, Transformer, TransformerState, ColumnTransformerState, ColumnOptions } from './transformer';
export * from './simple-imputer';
export * from './scalers';
export * from './encoders';
export * from './outliers';
export * from './dates';
export * from './date-parts';
export * from './pipeline';
