import { IllegalStateError, ValidationError } from '@mlp/contracts';
import * as tf from '@tensorflow/tfjs';
import { createHash } from 'node:crypto';
import { SeededRng } from '../random/seeded-rng';
import { initBackend } from './backend';
import { type FittedModel, fitModel } from './fit';
import { loadModel } from './persist';
import { blobs } from './test-data.fixture';

jest.setTimeout(20_000);

const data = blobs(new SeededRng(3), [[0, 0], [3, 0], [0, 3]], 10, 0.5);
let model: FittedModel;

beforeAll(async () => {
  await initBackend('wasm');
  model = await fitModel({ type: 'mlp', layers: [8], dropout: 0.2, epochs: 3, batchSize: 8 }, { ...data, d: 2, task: 'multiclass' }, { seed: 1 });
});
afterAll(() => model.dispose());

describe('save', () => {
  it('writes the standard tfjs layers-model layout with the weights file named in the manifest', async () => {
    const { modelJson, weights } = await model.save('model.weights.bin');
    expect(Object.keys(modelJson)).toEqual(expect.arrayContaining(['modelTopology', 'format', 'generatedBy', 'convertedBy', 'weightsManifest']));
    expect(modelJson.format).toBe('layers-model');
    expect(modelJson.generatedBy).toBe('TensorFlow.js tfjs-layers v4.22.0');
    expect(modelJson.convertedBy).toBeNull();
    expect(modelJson.weightsManifest).toHaveLength(1);
    expect(modelJson.weightsManifest[0].paths).toEqual(['model.weights.bin']);
    expect(modelJson.weightsManifest[0].weights.map((w) => [w.name, w.shape, w.dtype])).toEqual([
      ['hidden_1/kernel', [2, 8], 'float32'],
      ['hidden_1/bias', [8], 'float32'],
      ['output/kernel', [8, 3], 'float32'],
      ['output/bias', [3], 'float32'],
    ]);
    // float32: (2·8 + 8 + 8·3 + 3) = 51 values × 4 bytes.
    expect(weights.byteLength).toBe(204);
    expect(modelJson.userDefinedMetadata).toEqual({ mlp: { task: 'multiclass' } });
    // The seeded dropout is saved as a standard Dropout layer, which any tfjs loader knows.
    const layers = (modelJson.modelTopology as { config: { layers: Array<{ class_name: string; config: { rate?: number } }> } }).config.layers;
    expect(layers.map((l) => l.class_name)).toEqual(['Dense', 'Dropout', 'Dense']);
    expect(layers[1].config.rate).toBe(0.2);
    expect((await model.save()).modelJson.weightsManifest[0].paths).toEqual(['weights.bin']);
  });

  it('weightsSha256 is the sha256 of the saved weights bytes', async () => {
    const { weights } = await model.save();
    expect(await model.weightsSha256()).toBe(createHash('sha256').update(weights).digest('hex'));
  });
});

describe('loadModel', () => {
  it('round-trips: identical predictions, digest, task and sizes', async () => {
    const { modelJson, weights } = await model.save();
    const loaded = await loadModel(modelJson, weights);
    expect(loaded.predict(data.x, data.n)).toEqual(model.predict(data.x, data.n));
    expect(await loaded.weightsSha256()).toBe(await model.weightsSha256());
    expect([loaded.task, loaded.nFeatures, loaded.outputSize]).toEqual(['multiclass', 2, 3]);
    loaded.dispose();
  });

  it('leaves the given model.json intact, so it can be loaded again', async () => {
    const { modelJson, weights } = await model.save();
    const copy = JSON.parse(JSON.stringify(modelJson));
    (await loadModel(modelJson, weights)).dispose();
    expect(modelJson).toEqual(copy);
    const again = await loadModel(modelJson, weights);
    expect(again.predict(data.x, data.n)).toEqual(model.predict(data.x, data.n));
    again.dispose();
  });

  it('the saved files load with the standard tfjs http loader, which resolves the weights path next to model.json', async () => {
    const { modelJson, weights } = await model.save('w.bin');
    const files: Record<string, ConstructorParameters<typeof Response>[0]> = {
      'http://models.test/churn/7/model.json': JSON.stringify(modelJson),
      'http://models.test/churn/7/w.bin': weights,
    };
    // Response.json() parses in Node's realm, whose arrays fail tfjs' `instanceof Array` inside jest's sandbox: parse here.
    const fetchFunc = async (input: string | URL | Request) => {
      const url = String(input);
      const response = files[url] === undefined ? new Response(null, { status: 404 }) : new Response(files[url]);
      return Object.assign(response, { json: async () => JSON.parse(await response.text()) });
    };
    const standard = await tf.loadLayersModel(tf.io.http('http://models.test/churn/7/model.json', { fetchFunc }));
    const out = tf.tidy(() => (standard.predict(tf.tensor2d(data.x, [data.n, 2])) as tf.Tensor).dataSync());
    expect(out).toEqual(model.predict(data.x, data.n));
    standard.dispose();
  });

  it('rejects a model.json without a weights manifest, and weights of the wrong size', async () => {
    const { modelJson, weights } = await model.save();
    await expect(loadModel({ modelTopology: modelJson.modelTopology }, weights)).rejects.toThrow(ValidationError);
    await expect(loadModel(modelJson, weights.subarray(4))).rejects.toThrow(/describes 204 bytes of weights, received 200/);
  });

  it('leaves no tensor behind after load, predict and dispose', async () => {
    const { modelJson, weights } = await model.save();
    const before = tf.memory().numTensors;
    const loaded = await loadModel(modelJson, weights);
    loaded.predict(data.x, data.n);
    loaded.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });
});

describe('predict', () => {
  it('checks the input size and accepts zero rows', () => {
    expect(() => model.predict(new Float32Array(5), 3)).toThrow(/must hold n × nFeatures = 3 × 2 = 6 values, received 5/);
    expect(model.predict(new Float32Array(0), 0)).toEqual(new Float32Array(0));
  });

  it('refuses to work once disposed', async () => {
    const { modelJson, weights } = await model.save();
    const loaded = await loadModel(modelJson, weights);
    loaded.dispose();
    expect(() => loaded.predict(data.x, data.n)).toThrow(IllegalStateError);
  });
});
