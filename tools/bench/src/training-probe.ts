import * as tf from '@tensorflow/tfjs';
import { buildModel, fitModel, initBackend, resolveModelSpec } from '@mlp/ml';
import { syntheticRows } from './training-shared';

async function main() {
  await initBackend('wasm');
  const rows = syntheticRows(20000, 42);
  const input = { type: 'mlp', layers: [64, 32], epochs: 10, batchSize: 256 } as const;
  const spec = resolveModelSpec(input);
  const bare = async (epochs: number, perEpoch: boolean) => {
    const m = buildModel(spec, { nFeatures: 20, task: 'binary' }, { seed: 42 });
    const xs = tf.tensor2d(rows.x, [rows.n, rows.d]); const ys = tf.tensor2d(rows.y, [rows.n, 1]);
    if (perEpoch) for (let e = 0; e < epochs; e++) await m.fit(xs, ys, { epochs: 1, batchSize: 256, shuffle: false, verbose: 0 });
    else await m.fit(xs, ys, { epochs, batchSize: 256, shuffle: false, verbose: 0 });
    tf.dispose([xs, ys]); m.optimizer.dispose(); m.dispose();
  };
  const ours = async (epochs: number) => { const f = await fitModel({ ...input, epochs }, { ...rows, task: 'binary' }, { seed: 42 }); f.dispose(); };
  const t = async (name: string, fn: () => Promise<void>) => { const c = process.cpuUsage(); const t0 = Date.now(); await fn(); const u = process.cpuUsage(c); console.log(name.padEnd(12), Date.now() - t0, Math.round((u.user + u.system) / 1000), tf.memory().numTensors); };
  await t('warm bare', () => bare(2, false)); await t('warm ours', () => ours(2));
  for (let r = 0; r < 3; r++) {
    await t('bare', () => bare(10, false));
    await t('bare/epoch', () => bare(10, true));
    await t('fitModel', () => ours(10));
  }
}
main();
