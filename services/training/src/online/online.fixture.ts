import { createHash } from 'node:crypto';
import type { ArtifactStore } from '@mlp/artifacts';
import { fitModel, parseTrainingSpec, pipelineFromSpec, SeededRng, type ModelSpec } from '@mlp/ml';
import { storeModel, type StoredModel } from '../engine/model-bundle';
import type { OnlineRows } from './online-fit';

export const baseModelSpec: ModelSpec = { type: 'logistic', learningRate: 0.1, epochs: 40, batchSize: 32 };
export const baseTrainingSpec = { experiment: 'churn', task: 'binary', data: { dataset: { name: 'c' }, label: 'label' }, model: baseModelSpec, evaluation: { baseline: 'naive' } };

/** Points on [-1, 1]² labelled `yes`/`no` by `rule`. */
export function points(seed: number, n: number, rule: (x1: number, x2: number) => boolean): OnlineRows['rows'] {
  const rng = new SeededRng(seed);
  return Array.from({ length: n }, () => {
    const x1 = rng.next() * 2 - 1;
    const x2 = rng.next() * 2 - 1;
    return { features: { x1, x2 }, label: rule(x1, x2) ? 'yes' : 'no' };
  });
}

/** The concept after the shift: labels follow x1 + x2 (the base model learnt x1 alone). */
export const shifted = (seed: number, n: number) => points(seed, n, (x1, x2) => x1 + x2 > 0);

/** A served model: logistic regression on (x1, x2) whose labels follow x1, stored as training stores it. */
export async function storeBaseModel(artifacts: ArtifactStore): Promise<StoredModel> {
  const train = points(1, 256, (x1) => x1 > 0);
  const pipeline = pipelineFromSpec(parseTrainingSpec(baseTrainingSpec));
  const frame = { x1: train.map((r) => r.features.x1), x2: train.map((r) => r.features.x2) };
  const y = train.map((r) => (r.label === 'yes' ? 1 : 0));
  pipeline.fit(frame, y);
  const { x, n, d } = pipeline.transformToMatrix(frame);
  const fitted = await fitModel(baseModelSpec, { x, y: Float32Array.from(y), n, d, task: 'binary' }, { seed: 3 });
  try {
    return await storeModel(artifacts, { pipeline, featureNames: pipeline.featureNames(), model: fitted, epochs: [], bestEpoch: 39 }, { task: 'binary', label: 'label', inputColumns: ['x1', 'x2'], classes: ['no', 'yes'] });
  } finally {
    fitted.dispose();
  }
}

/** Stores update rows as monitoring does (JSON by content hash). */
export async function putRows(artifacts: ArtifactStore, rows: OnlineRows['rows'], version = 1): Promise<{ key: string; sha256: string }> {
  const bytes = Buffer.from(JSON.stringify({ model: 'churn', version, rows } satisfies OnlineRows));
  const { key } = await artifacts.put(bytes, { contentType: 'application/json', size: bytes.length });
  return { key, sha256: createHash('sha256').update(bytes).digest('hex') };
}

/** sha256 of an artifact's bytes. */
export async function artifactSha(artifacts: ArtifactStore, key: string): Promise<string> {
  return createHash('sha256').update(await artifacts.getBuffer(key)).digest('hex');
}
