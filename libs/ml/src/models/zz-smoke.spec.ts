import { SeededRng } from '../random/seeded-rng';
import { fitModel, initBackend } from './index';
import { uniformRows, mapRows } from './test-data.fixture';
import * as tf from '@tensorflow/tfjs';

jest.setTimeout(60000);
test('smoke', async () => {
  console.log(await initBackend());
  const rng = new SeededRng(1);
  const n = 200, d = 2;
  const x = uniformRows(rng, n, d);
  const y = mapRows(x, d, (r) => 2 * r[0] - 3 * r[1] + 1);
  const before = tf.memory().numTensors;
  let t = Date.now();
  const m = await fitModel({ type: 'linear', learningRate: 0.05, epochs: 100, batchSize: 32 }, { x, y, n, d, task: 'regression' }, { seed: 1 });
  console.log('fit ms', Date.now() - t, m.history.at(-1));
  console.log(m.predict(new Float32Array([0, 0, 1, 0, 0, 1]), 3));
  const s = await m.save();
  console.log(JSON.stringify(s.modelJson).slice(0, 2000), s.weights.length, await m.weightsSha256());
  m.dispose();
  console.log('tensors', before, tf.memory().numTensors);
  t = Date.now();
  const m2 = await fitModel({ type: 'mlp', dropout: 0.2, epochs: 20 }, { x, y, n, d, task: 'regression' }, { seed: 1 });
  const m3 = await fitModel({ type: 'mlp', dropout: 0.2, epochs: 20 }, { x, y, n, d, task: 'regression' }, { seed: 1 });
  console.log('mlp ms', Date.now() - t, await m2.weightsSha256(), await m3.weightsSha256(), m2.history.at(-1), m3.history.at(-1));
  m2.dispose(); m3.dispose();
  console.log('tensors', before, tf.memory().numTensors);
});
