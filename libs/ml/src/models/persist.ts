import { IllegalStateError, parseOrThrow, ValidationError } from '@mlp/contracts';
import * as tf from '@tensorflow/tfjs';
import { createHash } from 'node:crypto';
import { z } from 'zod';
import { ensureBackend } from './backend';
import type { Task } from './model-spec';

/** Rows per predict step: bounds peak memory on large inputs. */
const PREDICT_BATCH = 8192;
const METADATA_KEY = 'mlp';

/** A model in the standard tfjs layout: `model.json` plus one weights file named in its manifest. */
export interface SavedModel {
  modelJson: ModelJson;
  /** The bytes of the file `modelJson.weightsManifest[0].paths[0]`. */
  weights: Uint8Array;
}

/** The `model.json` that `tf.loadLayersModel` (file://, http://) and `tf.io.fromMemory` read. */
export interface ModelJson {
  modelTopology: object;
  format: 'layers-model';
  generatedBy: string;
  convertedBy: null;
  weightsManifest: Array<{ paths: string[]; weights: tf.io.WeightsManifestEntry[] }>;
  userDefinedMetadata?: { [METADATA_KEY]: { task: Task } };
}

/** What every model of this module can do, fitted or loaded. */
export interface Predictor {
  readonly nFeatures: number;
  /** 1 for binary and regression, K for multiclass. */
  readonly outputSize: number;
  /** Known for models fitted here (and reloaded); undefined for foreign models. */
  readonly task: Task | undefined;
  /**
   * `x` is n×nFeatures row-major. Returns P(y=1) per row (binary), n×K
   * probabilities row-major (multiclass) or values (regression). NaN inputs
   * propagate to the outputs.
   */
  predict(x: Float32Array, n: number): Float32Array;
  /** `weightsPath` is the file name written in the manifest; model.json and weights go side by side. */
  save(weightsPath?: string): Promise<SavedModel>;
  /** sha256 (hex) of the saved weights bytes: equal weights, equal digest. */
  weightsSha256(): Promise<string>;
  /** Frees the model's tensors; the predictor is unusable afterwards. */
  dispose(): void;
}

/** A Predictor over a tfjs LayersModel that it owns. */
export class LayersPredictor implements Predictor {
  readonly nFeatures: number;
  readonly outputSize: number;
  private disposed = false;

  constructor(
    protected readonly model: tf.LayersModel,
    readonly task: Task | undefined,
  ) {
    this.nFeatures = model.inputs[0].shape[1] as number;
    this.outputSize = model.outputs[0].shape[1] as number;
  }

  predict(x: Float32Array, n: number): Float32Array {
    const model = this.live();
    if (!Number.isSafeInteger(n) || n < 0) throw invalid('n', `must be a non-negative integer, received ${n}`);
    if (x.length !== n * this.nFeatures) {
      throw invalid('x', `must hold n × nFeatures = ${n} × ${this.nFeatures} = ${n * this.nFeatures} values, received ${x.length}`);
    }
    if (n === 0) return new Float32Array(0);
    const out = tf.tidy(() => model.predict(tf.tensor2d(x, [n, this.nFeatures]), { batchSize: PREDICT_BATCH }) as tf.Tensor);
    try {
      return out.dataSync() as Float32Array;
    } finally {
      out.dispose();
    }
  }

  async save(weightsPath = 'weights.bin'): Promise<SavedModel> {
    const model = this.live();
    if (weightsPath.length === 0) throw invalid('weightsPath', 'must not be empty');
    if (this.task) model.setUserDefinedMetadata({ [METADATA_KEY]: { task: this.task } });
    let captured: tf.io.ModelArtifacts | undefined;
    await model.save(
      tf.io.withSaveHandler(async (artifacts) => {
        captured = artifacts;
        return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
      }),
    );
    const artifacts = captured as tf.io.ModelArtifacts;
    const modelJson: ModelJson = {
      modelTopology: artifacts.modelTopology as object,
      format: 'layers-model',
      generatedBy: artifacts.generatedBy ?? `TensorFlow.js tfjs-layers v${tf.version.tfjs}`,
      convertedBy: null,
      weightsManifest: [{ paths: [weightsPath], weights: artifacts.weightSpecs ?? [] }],
    };
    if (artifacts.userDefinedMetadata) modelJson.userDefinedMetadata = artifacts.userDefinedMetadata as ModelJson['userDefinedMetadata'];
    const data = artifacts.weightData === undefined ? new ArrayBuffer(0) : tf.io.CompositeArrayBuffer.join(artifacts.weightData);
    return { modelJson, weights: new Uint8Array(data) };
  }

  /** The layers' weight tensors, owned by the model (read them, do not dispose them). */
  weightTensors(): tf.Tensor[] {
    return this.live().getWeights();
  }

  async weightsSha256(): Promise<string> {
    const { weights } = await this.save();
    return createHash('sha256').update(weights).digest('hex');
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.model.dispose();
  }

  private live(): tf.LayersModel {
    if (this.disposed) throw new IllegalStateError('model is disposed');
    return this.model;
  }
}

const modelJsonSchema = z.looseObject({
  modelTopology: z.record(z.string(), z.unknown()),
  format: z.literal('layers-model').optional(),
  weightsManifest: z
    .array(
      z.looseObject({
        paths: z.array(z.string()),
        weights: z.array(z.looseObject({ name: z.string(), shape: z.array(z.number().int().min(0)), dtype: z.string() })),
      }),
    )
    .min(1),
  userDefinedMetadata: z.record(z.string(), z.unknown()).optional(),
});

/** Bytes a manifest describes, when it is plain float32/int32 (no quantization); undefined otherwise. */
function expectedBytes(specs: tf.io.WeightsManifestEntry[]): number | undefined {
  let total = 0;
  for (const s of specs) {
    if (s.quantization || (s.dtype !== 'float32' && s.dtype !== 'int32')) return undefined;
    total += 4 * s.shape.reduce((a, b) => a * b, 1);
  }
  return total;
}

/**
 * Rebuilds a predictor from `save()` output (or any single-weights-file
 * tfjs layers model) via `tf.io.fromMemory`: no file system, no network.
 * Multi-file manifests must be concatenated in manifest order by the caller.
 */
export async function loadModel(modelJson: unknown, weights: Uint8Array): Promise<Predictor> {
  const json = parseOrThrow(modelJsonSchema, modelJson, 'model.json');
  await ensureBackend();
  const weightSpecs = json.weightsManifest.flatMap((group) => group.weights) as tf.io.WeightsManifestEntry[];
  const expected = expectedBytes(weightSpecs);
  if (expected !== undefined && expected !== weights.byteLength) {
    throw invalid('weights', `model.json describes ${expected} bytes of weights, received ${weights.byteLength}`);
  }
  const model = await tf.loadLayersModel(
    tf.io.fromMemory({
      // A fresh copy: tfjs deletes keys of the topology while deserialising it, and tests
      // `instanceof Array` on it (false for arrays parsed in another realm, such as a jest sandbox).
      modelTopology: JSON.parse(JSON.stringify(json.modelTopology)),
      weightSpecs,
      weightData: weights.slice().buffer,
      userDefinedMetadata: json.userDefinedMetadata as { [key: string]: object } | undefined,
    }),
  );
  const meta = json.userDefinedMetadata?.[METADATA_KEY] as { task?: unknown } | undefined;
  const task = meta && ['binary', 'multiclass', 'regression'].includes(meta.task as string) ? (meta.task as Task) : undefined;
  return new LayersPredictor(model, task);
}

function invalid(path: string, message: string): ValidationError {
  return new ValidationError(`${path} ${message}`, [{ path, message }]);
}
