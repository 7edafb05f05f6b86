import type { ArtifactStore } from '@mlp/artifacts';
import { IllegalStateError, InfrastructureError, NotFoundError, streams, ValidationError, type EventData, type ModelSignature } from '@mlp/contracts';
import type { EventStore } from '@mlp/eventstore';
import { initBackend, loadModel, Pipeline, type BackendName, type Category, type Cell, type Frame, type Predictor } from '@mlp/ml';
import { z } from 'zod';
import { InputSchema } from '../inference/input-schema';
import type { VersionInfo } from './served-models';

/** Largest model.json / preprocessing.json read; weights are bounded by MLP_SERVING_MAX_WEIGHTS_BYTES. */
const MAX_JSON_BYTES = 32 * 1024 * 1024;
const MAX_WEIGHTS_BYTES = 512 * 1024 * 1024;

/** `preprocessing.json` as training writes it (services/training engine/model-bundle.ts), checked on read. */
const preprocessingBundleSchema = z.looseObject({
  kind: z.literal('mlp.preprocessing'),
  version: z.literal(1),
  task: z.enum(['binary', 'multiclass', 'regression']),
  label: z.string(),
  inputColumns: z.array(z.string()),
  featureNames: z.array(z.string()),
  classes: z.array(z.union([z.string(), z.number(), z.boolean()])),
  pipeline: z.unknown(),
});
export type PreprocessingBundle = z.infer<typeof preprocessingBundleSchema>;

/** A served input fetched from the feature store: signature input `<view>__<feature>` ← online `view:feature`. */
export interface OnlineInput {
  input: string;
  ref: string;
}

/** Outputs of a batch of rows, in the model's terms. */
export interface RowOutputs {
  /** Class label (classification) or value (regression) per row. */
  predictions: (Category | number)[];
  /** Class probabilities per row, in `classes` order (binary: [P(negative), P(positive)]). */
  probabilities?: number[][];
}

/**
 * One registered version, loaded: its saved pipeline, its tfjs model on the
 * backend it was trained on, and the validator compiled from its signature.
 * Immutable once built; `dispose` frees the model's tensors.
 */
export class LoadedVersion {
  readonly task: 'binary' | 'multiclass' | 'regression';
  readonly classes: readonly Category[];
  readonly inputSchema: InputSchema;
  readonly signature: ModelSignature;
  readonly nFeatures: number;
  /** Inputs looked up in the feature store when an instance carries entity keys instead. */
  readonly onlineInputs: readonly OnlineInput[];
  /** Requests answered (for ModelUnloaded and status). */
  requests = 0;
  readonly loadedAt = new Date();

  constructor(
    readonly info: VersionInfo,
    readonly bundle: PreprocessingBundle,
    readonly pipeline: Pipeline,
    readonly predictor: Predictor,
    readonly backend: BackendName,
    readonly weightsBytes: number,
  ) {
    this.task = bundle.task;
    this.classes = bundle.classes;
    this.signature = info.signature ?? signatureFromBundle(bundle);
    this.inputSchema = new InputSchema(this.signature);
    this.nFeatures = predictor.nFeatures;
    const views = new Set(info.featureViews.map((v) => v.split('@')[0]));
    this.onlineInputs = this.signature.inputs.flatMap((i) => {
      const sep = i.name.indexOf('__');
      if (sep <= 0) return [];
      const view = i.name.slice(0, sep);
      return views.has(view) ? [{ input: i.name, ref: `${view}:${i.name.slice(sep + 2)}` }] : [];
    });
  }

  get name(): string {
    return this.info.name;
  }

  get version(): number {
    return this.info.version;
  }

  /** Raw rows → the model's input matrix, through the saved pipeline verbatim. */
  preprocess(frame: Frame): { x: Float32Array; n: number } {
    const { x, n } = this.pipeline.transformToMatrix(frame);
    return { x, n };
  }

  /**
   * The rows of several requests (one frame each, `rows` rows in all) through
   * the saved pipeline and the model in one call each: preprocessing is
   * row-wise, so the matrix equals the per-request ones stacked.
   */
  predictFrames(frames: readonly Frame[], rows: number): Float32Array {
    const { x } = this.pipeline.transformToMatrix(frames.length === 1 ? frames[0] : stackFrames(frames, rows));
    return this.predictor.predict(x, rows);
  }

  /** Model outputs (n rows) → labels/values and probabilities. */
  decode(out: Float32Array, n: number): RowOutputs {
    if (this.task === 'regression') return { predictions: Array.from(out.subarray(0, n)) };
    if (this.task === 'binary') {
      const predictions = new Array<Category>(n);
      const probabilities = new Array<number[]>(n);
      for (let i = 0; i < n; i++) {
        const p = out[i];
        predictions[i] = this.classes[p >= 0.5 ? 1 : 0];
        probabilities[i] = [1 - p, p];
      }
      return { predictions, probabilities };
    }
    const k = this.predictor.outputSize;
    const predictions = new Array<Category>(n);
    const probabilities = new Array<number[]>(n);
    for (let i = 0; i < n; i++) {
      let best = 0;
      const row = new Array<number>(k);
      for (let j = 0; j < k; j++) {
        row[j] = out[i * k + j];
        if (row[j] > row[best]) best = j;
      }
      predictions[i] = this.classes[best];
      probabilities[i] = row;
    }
    return { predictions, probabilities };
  }

  /** Values per row the model returns: 1 (binary, regression) or K. */
  get outputSize(): number {
    return this.predictor.outputSize;
  }

  dispose(): void {
    this.predictor.dispose();
  }
}

/** Frames with the same columns, one under the other. */
function stackFrames(frames: readonly Frame[], rows: number): Frame {
  const out: Frame = {};
  for (const name of Object.keys(frames[0])) {
    const column = new Array<Cell>(rows);
    let r = 0;
    for (const f of frames) {
      const values = f[name] as ArrayLike<Cell>;
      for (let i = 0; i < values.length; i++) column[r++] = values[i];
    }
    out[name] = column;
  }
  return out;
}

/** A signature from the bundle alone (versions registered before signatures existed): every input of unknown type, nullable. */
export function signatureFromBundle(bundle: PreprocessingBundle): ModelSignature {
  return {
    task: bundle.task,
    label: bundle.label,
    inputs: bundle.inputColumns.map((name) => ({ name, type: 'unknown', nullable: true })),
    features: [...bundle.featureNames],
    outputs:
      bundle.task === 'regression'
        ? [{ name: bundle.label, type: 'float' }]
        : [
            { name: bundle.label, type: 'category', classes: [...bundle.classes] },
            { name: 'probabilities', type: `float[${bundle.task === 'binary' ? 1 : bundle.classes.length}]`, classes: [...bundle.classes] },
          ],
  };
}

/** Artifact keys of a version: from its registration, else from its run's TrainingRunCompleted. */
async function artifactKeys(store: EventStore, info: VersionInfo): Promise<{ model: string; preprocessing: string; weights?: string; backend: string }> {
  let model: string = info.artifacts.model ?? '';
  let preprocessing: string = info.artifacts.preprocessing ?? '';
  let weights: string | undefined = info.artifacts.weights;
  let backend = info.backend;
  if (!model || !preprocessing || !backend) {
    const events = await store.readStream(streams.run(info.runId));
    const completed = events.find((e) => e.type === 'TrainingRunCompleted')?.data as EventData<'TrainingRunCompleted'> | undefined;
    const requested = events.find((e) => e.type === 'TrainingRunRequested')?.data as EventData<'TrainingRunRequested'> | undefined;
    model ||= completed?.modelArtifactKey ?? '';
    preprocessing ||= completed?.preprocessingArtifactKey ?? '';
    weights ||= completed?.weightsArtifactKey;
    backend ||= requested?.backend ?? '';
  }
  if (!model || !preprocessing) {
    throw new NotFoundError(`version ${info.version} of '${info.name}' names no model and preprocessing artifacts, and its run ${info.runId} has no completed model`, { code: 'ARTIFACTS_MISSING' });
  }
  return { model, preprocessing, weights, backend: backend || 'wasm' };
}

async function readJson(artifacts: ArtifactStore, key: string, what: string): Promise<unknown> {
  let bytes: Buffer;
  try {
    bytes = await artifacts.getBuffer(key, { maxBytes: MAX_JSON_BYTES });
  } catch (cause) {
    throw new InfrastructureError(`cannot read the ${what} artifact ${key}: ${(cause as Error).message}`, { code: 'ARTIFACT_UNAVAILABLE', cause });
  }
  try {
    return JSON.parse(bytes.toString('utf8'));
  } catch {
    throw new ValidationError(`the ${what} artifact ${key} is not JSON`, [{ path: what, message: 'not JSON' }], { code: 'STORED_DATA_INVALID' });
  }
}

/**
 * Loads a version by content hash: `model.json`, the weights it names
 * (`sha256/<path>`, the layout training stores) and `preprocessing.json`;
 * checks that the pipeline's outputs match the model's inputs; selects the
 * backend the version was trained on (unless `backendOverride`).
 */
export async function loadVersion(store: EventStore, artifacts: ArtifactStore, info: VersionInfo, backendOverride?: BackendName): Promise<LoadedVersion> {
  const keys = await artifactKeys(store, info);
  const bundleJson = await readJson(artifacts, keys.preprocessing, 'preprocessing');
  const parsed = preprocessingBundleSchema.safeParse(bundleJson);
  if (!parsed.success) {
    throw new ValidationError(`artifact ${keys.preprocessing} is not a preprocessing bundle`, parsed.error.issues.slice(0, 10).map((i) => ({ path: `preprocessing.${i.path.join('.')}`, message: i.message })), { code: 'STORED_DATA_INVALID' });
  }
  const bundle = parsed.data;
  const modelJson = (await readJson(artifacts, keys.model, 'model')) as { weightsManifest?: { paths?: string[] }[] };
  const path = modelJson.weightsManifest?.[0]?.paths?.[0];
  const weightsKey = path ? `sha256/${path}` : keys.weights;
  if (!weightsKey) throw new ValidationError(`model.json ${keys.model} names no weights file`, [{ path: 'model.weightsManifest', message: 'no paths' }], { code: 'STORED_DATA_INVALID' });
  let weights: Buffer;
  try {
    weights = await artifacts.getBuffer(weightsKey, { maxBytes: MAX_WEIGHTS_BYTES });
  } catch (cause) {
    throw new InfrastructureError(`cannot read the weights artifact ${weightsKey}: ${(cause as Error).message}`, { code: 'ARTIFACT_UNAVAILABLE', cause });
  }
  const backend = (backendOverride ?? keys.backend) as BackendName;
  await initBackend(backend);
  const pipeline = Pipeline.fromJSON(bundle.pipeline);
  const predictor = await loadModel(modelJson, new Uint8Array(weights.buffer, weights.byteOffset, weights.byteLength));
  if (predictor.nFeatures !== bundle.featureNames.length) {
    predictor.dispose();
    throw new IllegalStateError(`the model takes ${predictor.nFeatures} inputs but the pipeline produces ${bundle.featureNames.length}`, { code: 'MODEL_PIPELINE_MISMATCH' });
  }
  return new LoadedVersion(info, bundle, pipeline, predictor, backend, weights.byteLength);
}
