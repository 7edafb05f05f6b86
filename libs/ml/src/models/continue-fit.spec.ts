import { ValidationError } from '@mlp/contracts';
import { SeededRng } from '../random/seeded-rng';
import { initBackend } from './backend';
import { fitModel, type TrainingData } from './fit';
import { mapRows, uniformRows } from './test-data.fixture';

jest.setTimeout(60_000);

beforeAll(async () => {
  await initBackend('wasm');
});

/** y = 2·x1 − 3·x2 + b on [-1, 1]², no noise. */
function plane(seed: number, n: number, b: number): TrainingData {
  const x = uniformRows(new SeededRng(seed), n, 2);
  return { x, y: mapRows(x, 2, ([x1, x2]) => 2 * x1 - 3 * x2 + b), n, d: 2, task: 'regression' };
}

/** [intercept, w1, w2] of a linear model, read off its predictions. */
function coefficients(model: { predict(x: Float32Array, n: number): Float32Array }): number[] {
  const [f00, f10, f01] = model.predict(new Float32Array([0, 0, 1, 0, 0, 1]), 3);
  return [f00, f10 - f00, f01 - f00];
}

describe('fitModel from a trained model (online learning)', () => {
  const spec = { type: 'linear' as const, learningRate: 0.1, epochs: 60, batchSize: 32 };

  it('starts from the given weights: one epoch on the same data keeps the fitted coefficients, where a fresh epoch is far off', async () => {
    const base = await fitModel(spec, plane(1, 128, 1), { seed: 7 });
    // A fresh Adam moves every weight by about the learning rate per step, whatever the gradient: 4 steps of 0.01.
    const step = { ...spec, learningRate: 0.01, epochs: 1 };
    const continued = await fitModel(step, plane(2, 128, 1), { seed: 8, from: base });
    const fresh = await fitModel(step, plane(2, 128, 1), { seed: 8 });
    const [b, w1, w2] = coefficients(continued);
    expect(Math.abs(b - 1)).toBeLessThan(0.05);
    expect(Math.abs(w1 - 2)).toBeLessThan(0.05);
    expect(Math.abs(w2 + 3)).toBeLessThan(0.05);
    expect(Math.abs(coefficients(fresh)[2] + 3)).toBeGreaterThan(0.5);
    [base, continued, fresh].forEach((m) => m.dispose());
  });

  it('moves towards the new rows, leaves the base model unchanged, and is reproducible from the seed', async () => {
    const base = await fitModel(spec, plane(1, 128, 1), { seed: 7 });
    const before = await base.weightsSha256();
    const shifted = plane(3, 128, 2); // the intercept moved from 1 to 2
    const a = await fitModel({ ...spec, epochs: 30 }, shifted, { seed: 9, from: base });
    const again = await fitModel({ ...spec, epochs: 30 }, shifted, { seed: 9, from: base });
    expect(await base.weightsSha256()).toBe(before);
    expect(coefficients(base)[0]).toBeCloseTo(1, 2);
    expect(coefficients(a)[0]).toBeCloseTo(2, 2);
    expect(await a.weightsSha256()).not.toBe(before);
    expect(await again.weightsSha256()).toBe(await a.weightsSha256());
    [base, a, again].forEach((m) => m.dispose());
  });

  it('refuses a model of another architecture', async () => {
    const base = await fitModel(spec, plane(1, 32, 1), { seed: 7 });
    await expect(fitModel({ type: 'mlp', layers: [4], learningRate: 0.1, epochs: 1, batchSize: 32 }, plane(2, 32, 1), { seed: 1, from: base })).rejects.toThrow(ValidationError);
    base.dispose();
  });
});
