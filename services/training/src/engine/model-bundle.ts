import type { ArtifactStore } from '@mlp/artifacts';
import { ValidationError } from '@mlp/contracts';
import { loadModel, Pipeline, type Category, type Frame, type Predictor, type TrainedPipeline, type TrainingTask } from '@mlp/ml';

/**
 * `preprocessing.json`: the fitted pipeline plus what a consumer needs to
 * feed it raw rows and read the output (input columns, classes). Serving
 * loads this verbatim, so training and serving transform rows the same way.
 */
export interface PreprocessingBundle {
  kind: 'mlp.preprocessing';
  version: 1;
  task: TrainingTask;
  label: string;
  /** Raw columns the pipeline reads, in order. */
  inputColumns: string[];
  /** Model inputs the pipeline produces, in order. */
  featureNames: string[];
  /** Class labels by output index (binary: [negative, positive]). */
  classes: Category[];
  pipeline: unknown;
}

export interface StoredModel {
  modelKey: string;
  weightsKey: string;
  weightsSha256: string;
  preprocessingKey: string;
}

/**
 * Stores the model in the standard tfjs layout, content-addressed: the
 * weights blob at `sha256/<w>` and a model.json whose manifest path is `<w>`,
 * which resolves next to model.json's own key (`sha256/<m>`). So
 * `tf.loadLayersModel('<artifact-base-url>/sha256/<m>')` finds its weights.
 */
export async function storeModel(artifacts: ArtifactStore, trained: TrainedPipeline, bundle: Omit<PreprocessingBundle, 'kind' | 'version' | 'featureNames' | 'pipeline'>): Promise<StoredModel> {
  const weightsSha256 = await trained.model.weightsSha256();
  const saved = await trained.model.save(weightsSha256);
  const weights = await artifacts.put(Buffer.from(saved.weights), { contentType: 'application/octet-stream', size: saved.weights.byteLength });
  if (weights.sha256 !== weightsSha256) throw new Error(`weights digest mismatch: ${weights.sha256} vs ${weightsSha256}`);
  const modelJson = Buffer.from(JSON.stringify(saved.modelJson));
  const model = await artifacts.put(modelJson, { contentType: 'application/json', size: modelJson.length });
  const pre: PreprocessingBundle = { kind: 'mlp.preprocessing', version: 1, ...bundle, featureNames: trained.featureNames, pipeline: trained.pipeline.toJSON() };
  const preBytes = Buffer.from(JSON.stringify(pre));
  const preprocessing = await artifacts.put(preBytes, { contentType: 'application/json', size: preBytes.length });
  return { modelKey: model.key, weightsKey: weights.key, weightsSha256, preprocessingKey: preprocessing.key };
}

export interface LoadedModel {
  bundle: PreprocessingBundle;
  pipeline: Pipeline;
  predictor: Predictor;
}

/** Loads a stored model and its preprocessing back (for baselines, and for anyone serving it). */
export async function loadStoredModel(artifacts: ArtifactStore, keys: { modelKey: string; preprocessingKey: string }): Promise<LoadedModel> {
  const bundle = JSON.parse((await artifacts.getBuffer(keys.preprocessingKey)).toString('utf8')) as PreprocessingBundle;
  if (bundle.kind !== 'mlp.preprocessing') throw new ValidationError(`artifact ${keys.preprocessingKey} is not a preprocessing bundle`, [{ path: 'preprocessingKey', message: 'wrong kind' }]);
  const modelJson = JSON.parse((await artifacts.getBuffer(keys.modelKey)).toString('utf8')) as { weightsManifest: { paths: string[] }[] };
  const weightsKey = `sha256/${modelJson.weightsManifest[0].paths[0]}`;
  const weights = await artifacts.getBuffer(weightsKey);
  const predictor = await loadModel(modelJson, new Uint8Array(weights.buffer, weights.byteOffset, weights.byteLength));
  return { bundle, pipeline: Pipeline.fromJSON(bundle.pipeline), predictor };
}

/** Raw feature rows → model output, through the stored pipeline. */
export function predictFrame(model: LoadedModel, frame: Frame, n: number): Float32Array {
  // Column by column into the model's input; a value the pipeline leaves missing is an error naming the feature, never a 0.
  const { x } = model.pipeline.transformToMatrix(frame);
  return model.predictor.predict(x, n);
}
