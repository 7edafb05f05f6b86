import { ValidationError } from '@mlp/contracts';
import { z } from 'zod';
import { modelSpecSchema, requireTaskFits, resolveModelSpec } from './model-spec';

describe('resolveModelSpec', () => {
  it('fills the documented defaults (Keras learning rates: adam 0.001, sgd 0.01)', () => {
    expect(resolveModelSpec({ type: 'mlp' })).toEqual({
      type: 'mlp',
      layers: [64, 32],
      activation: 'relu',
      dropout: 0,
      l2: 0,
      optimizer: 'adam',
      learningRate: 0.001,
      epochs: 50,
      batchSize: 256,
      earlyStopping: null,
    });
    expect(resolveModelSpec({ type: 'linear', optimizer: 'sgd' })).toMatchObject({ layers: [], learningRate: 0.01 });
    expect(resolveModelSpec({ type: 'logistic', earlyStopping: { patience: 3 } }).earlyStopping).toEqual({ patience: 3, minDelta: 0 });
  });

  it('keeps explicit values', () => {
    const spec = resolveModelSpec({ type: 'mlp', layers: [8], activation: 'tanh', dropout: 0.25, l2: 1e-4, optimizer: 'sgd', learningRate: 0.2, epochs: 7, batchSize: 16 });
    expect(spec).toMatchObject({ layers: [8], activation: 'tanh', dropout: 0.25, l2: 1e-4, optimizer: 'sgd', learningRate: 0.2, epochs: 7, batchSize: 16 });
  });

  it.each([
    [{ type: 'mlp', dropout: 1 }, 'dropout'],
    [{ type: 'mlp', layers: [] }, 'layers'],
    [{ type: 'mlp', layers: [8.5] }, 'layers.0'],
    [{ type: 'mlp', epochs: 0 }, 'epochs'],
    [{ type: 'mlp', batchSize: 2.5 }, 'batchSize'],
    [{ type: 'mlp', l2: -1 }, 'l2'],
    [{ type: 'mlp', earlyStopping: { patience: 2, minDelta: -0.1 } }, 'earlyStopping.minDelta'],
    [{ type: 'mlp', epoch: 10 }, ''],
    [{ type: 'linear', layers: [8] }, 'layers'],
    [{ type: 'logistic', dropout: 0.1 }, 'dropout'],
    [{ type: 'forest' }, 'type'],
  ])('rejects %j at path %j', (input, path) => {
    let error: unknown;
    try {
      resolveModelSpec(input);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ValidationError);
    expect((error as ValidationError).details.map((d) => d.path)).toContain(path);
  });

  it('validates in place when embedded in a larger spec', () => {
    const trainingSpec = z.object({ model: modelSpecSchema });
    const result = trainingSpec.safeParse({ model: { type: 'mlp', activation: 'gelu' } });
    expect(result.success).toBe(false);
    expect(result.error?.issues[0].path).toEqual(['model', 'activation']);
  });
});

describe('requireTaskFits', () => {
  it('allows linear for regression, logistic for classification, mlp for all', () => {
    expect(() => requireTaskFits({ type: 'linear' }, 'regression')).not.toThrow();
    for (const task of ['binary', 'multiclass'] as const) expect(() => requireTaskFits({ type: 'logistic' }, task)).not.toThrow();
    for (const task of ['binary', 'multiclass', 'regression'] as const) expect(() => requireTaskFits({ type: 'mlp' }, task)).not.toThrow();
  });

  it('rejects linear classification and logistic regression', () => {
    expect(() => requireTaskFits({ type: 'linear' }, 'binary')).toThrow(/linear model cannot do binary/);
    expect(() => requireTaskFits({ type: 'logistic' }, 'regression')).toThrow(ValidationError);
  });
});
