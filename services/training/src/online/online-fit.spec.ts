import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FsArtifactStore } from '@mlp/artifacts';
import { initBackend } from '@mlp/ml';
import { loadStoredModel, predictFrame, type StoredModel } from '../engine/model-bundle';
import { onlineFit, type OnlineRows } from './online-fit';
import { artifactSha, baseModelSpec as model, points, putRows as put, shifted, storeBaseModel } from './online.fixture';

jest.setTimeout(60_000);

describe('onlineFit', () => {
  let dir: string;
  let artifacts: FsArtifactStore;
  let base: StoredModel;
  const sha = (key: string) => artifactSha(artifacts, key);
  const putRows = async (rows: OnlineRows['rows']) => (await put(artifacts, rows)).key;
  const accuracy = async (keys: { modelKey: string; preprocessingKey: string }, rows: OnlineRows['rows']) => {
    const loaded = await loadStoredModel(artifacts, keys);
    const p = predictFrame(loaded, { x1: rows.map((r) => r.features.x1), x2: rows.map((r) => r.features.x2) }, rows.length);
    loaded.predictor.dispose();
    return rows.filter((r, i) => (p[i] >= 0.5 ? 'yes' : 'no') === r.label).length / rows.length;
  };

  beforeAll(async () => {
    await initBackend('wasm');
    dir = mkdtempSync(join(tmpdir(), 'mlp-online-fit-'));
    artifacts = new FsArtifactStore({ root: dir });
    base = await storeBaseModel(artifacts);
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('continues from the served weights on the new rows, into new artifacts, leaving the served ones as they were', async () => {
    const before = { model: await sha(base.modelKey), weights: await sha(base.weightsKey), preprocessing: await sha(base.preprocessingKey) };
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
