export * from './backend';
export * from './model-spec';
export { buildModel, targetMatrix, targetColumns, lossFor, outputUnits, type ModelShape, type BuildOptions } from './build-model';
export * from './fit';
export { loadModel, type Predictor, type SavedModel, type ModelJson } from './persist';
