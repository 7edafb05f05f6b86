import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FsArtifactStore } from '@mlp/artifacts';
import { fitModel, initBackend, parseTrainingSpec, pipelineFromSpec, SeededRng, type ModelSpec } from '@mlp/ml';
import { loadStoredModel, predictFrame, storeModel } from '../engine/model-bundle';
import { onlineFit, type OnlineRows } from './online-fit';

jest.setTimeout(60_000);

const model: ModelSpec = { type: 'logistic', learningRate: 0.1, epochs: 40, batchSize: 32 };
/** Points on [-1, 1]² labelled by `rule`. */
function points(seed: number, n: number, rule: (x1: number, x2: number) => boolean) {
  const rng = new SeededRng(seed);
  return Array.from({ length: n }, () => {
    const x1 = rng.next() * 2 - 1;
    const x2 = rng.next() * 2 - 1;
    return { features: { x1, x2 }, label: rule(x1, x2) ? 'yes' : 'no' };
  });
}

describe('onlineFit', () => {
  let dir: string;
  let artifacts: FsArtifactStore;
  let base: Awaited<ReturnType<typeof storeModel>>;
  const sha = async (key: string) => createHash('sha256').update(await artifacts.getBuffer(key)).digest('hex');
  const accuracy = async (keys: { modelKey: string; preprocessingKey: string }, rows: OnlineRows['rows']) => {
    const loaded = await loadStoredModel(artifacts, keys);
    const p = predictFrame(loaded, { x1: rows.map((r) => r.features.x1), x2: rows.map((r) => r.features.x2) }, rows.length);
    loaded.predictor.dispose();
    return rows.filter((r, i) => (p[i] >= 0.5 ? 'yes' : 'no') === r.label).length / rows.length;
  };
  const putRows = async (rows: OnlineRows['rows']) => {
    const bytes = Buffer.from(JSON.stringify({ model: 'churn', version: 1, rows } satisfies OnlineRows));
    return (await artifacts.put(bytes, { contentType: 'application/json', size: bytes.length })).key;
  };

  beforeAll(async () => {
    await initBackend('wasm');
    dir = mkdtempSync(join(tmpdir(), 'mlp-online-fit-'));
    artifacts = new FsArtifactStore({ root: dir });
    // The served model: labels follow x1.
    const train = points(1, 256, (x1) => x1 > 0);
    const spec = parseTrainingSpec({ experiment: 'churn', task: 'binary', data: { dataset: { name: 'c' }, label: 'label' }, model });
    const pipeline = pipelineFromSpec(spec);
    const frame = { x1: train.map((r) => r.features.x1), x2: train.map((r) => r.features.x2) };
    const y = train.map((r) => (r.label === 'yes' ? 1 : 0));
    pipeline.fit(frame, y);
    const { x, n, d } = pipeline.transformToMatrix(frame);
    const fitted = await fitModel(model, { x, y: Float32Array.from(y), n, d, task: 'binary' }, { seed: 3 });
    base = await storeModel(artifacts, { pipeline, featureNames: pipeline.featureNames(), model: fitted, epochs: [], bestEpoch: 39 }, { task: 'binary', label: 'label', inputColumns: ['x1', 'x2'], classes: ['no', 'yes'] });
    fitted.dispose();
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('continues from the served weights on the new rows, into new artifacts, leaving the served ones as they were', async () => {
    const before = { model: await sha(base.modelKey), weights: await sha(base.weightsKey), preprocessing: await sha(base.preprocessingKey) };
    const shifted = (seed: number, n: number) => points(seed, n, (x1, x2) => x1 + x2 > 0); // the concept moved
    const rowsArtifactKey = await putRows([...shifted(2, 300), { features: { x1: 0.5, x2: 0.5 }, label: 'maybe' }]);
    const input = { base, model, rowsArtifactKey, epochs: 20, seed: 5 };
    const update = await onlineFit(artifacts, input);

    expect(update.baseWeightsSha256).toBe(base.weightsSha256);
    expect(update.weightsSha256).not.toBe(base.weightsSha256);
    expect(update.preprocessingKey).toBe(base.preprocessingKey); // the fitted pipeline is reused, not refitted
    expect({ rows: update.rows, skipped: update.skipped, epochs: update.loss.length, held: update.evaluation.rows }).toEqual({ rows: 240, skipped: 1, epochs: 20, held: 60 });
    expect(update.evaluation.metrics['accuracy']).toBeGreaterThan(update.evaluation.baseMetrics['accuracy']);
    expect({ model: await sha(base.modelKey), weights: await sha(base.weightsKey), preprocessing: await sha(base.preprocessingKey) }).toEqual(before);

    const holdout = shifted(9, 400);
    const [was, now] = [await accuracy(base, holdout), await accuracy(update, holdout)];
    expect(was).toBeLessThan(0.85);
    expect(now).toBeGreaterThan(0.9);
    // Seeded: the same update gives the same weights.
    expect((await onlineFit(artifacts, input)).weightsSha256).toBe(update.weightsSha256);
  });

  it('refuses a base whose weights do not match the recorded sha256', async () => {
    const rowsArtifactKey = await putRows(points(2, 20, (x1) => x1 > 0));
    await expect(onlineFit(artifacts, { base: { ...base, weightsSha256: '0'.repeat(64) }, model, rowsArtifactKey, epochs: 1, seed: 1 })).rejects.toThrow('do not match');
  });
});
