import { InfrastructureError, ValidationError } from '@mlp/contracts';
import * as tf from '@tensorflow/tfjs';
import { type BackendName, initBackend } from './backend';

describe('initBackend', () => {
  it('defaults to wasm, loaded offline from node_modules, and reports SIMD and the tfjs version', async () => {
    const info = await initBackend();
    expect(info.backend).toBe('wasm');
    expect(tf.getBackend()).toBe('wasm');
    expect(typeof info.simd).toBe('boolean');
    expect(info.tfjsVersion).toBe('4.22.0');
    expect(Array.from(tf.add(tf.tensor1d([1, 2]), tf.tensor1d([3, 4])).dataSync())).toEqual([4, 6]);
  });

  it('is idempotent', async () => {
    const first = await initBackend('wasm');
    const [a, b] = await Promise.all([initBackend(), initBackend('wasm')]);
    expect(a).toBe(first);
    expect(b).toBe(first);
  });

  it('switches to cpu and back', async () => {
    const warn = jest.spyOn(console, 'warn').mockImplementation(() => undefined); // tfjs' "install tfjs-node" banner on cpu
    expect(await initBackend('cpu')).toEqual({ backend: 'cpu', simd: false, tfjsVersion: '4.22.0' });
    expect(tf.getBackend()).toBe('cpu');
    expect(Array.from(tf.sub(tf.scalar(9), tf.scalar(4)).dataSync())).toEqual([5]);
    warn.mockRestore();
    expect((await initBackend('wasm')).backend).toBe('wasm');
    expect(tf.getBackend()).toBe('wasm');
  });

  it("fails clearly for 'tensorflow' when tfjs-node is not installed, keeping the current backend", async () => {
    const attempt = initBackend('tensorflow');
    await expect(attempt).rejects.toThrow(InfrastructureError);
    await expect(attempt).rejects.toThrow(/needs @tensorflow\/tfjs-node or @tensorflow\/tfjs-node-gpu/);
    expect(tf.getBackend()).toBe('wasm');
  });

  it("fails clearly when the binding loads but its backend does not start, restoring the previous one", async () => {
    // A binding whose native library is broken: it registers 'tensorflow', whose factory throws.
    jest.doMock(
      '@tensorflow/tfjs-node',
      () => {
        tf.registerBackend('tensorflow', () => {
          throw new Error('libtensorflow.so: cannot open shared object file');
        });
        return {};
      },
      { virtual: true },
    );
    const warn = jest.spyOn(console, 'warn').mockImplementation(() => undefined);
    try {
      await expect(initBackend('tensorflow')).rejects.toThrow(/backend 'tensorflow' failed to initialise: tf.setBackend returned false/);
      expect(warn.mock.calls.flat().map(String).join('\n')).toMatch(/libtensorflow.so/); // tfjs' own report of the cause
      expect(tf.getBackend()).toBe('wasm');
      expect(Array.from(tf.mul(tf.scalar(3), tf.scalar(5)).dataSync())).toEqual([15]);
    } finally {
      warn.mockRestore();
      jest.dontMock('@tensorflow/tfjs-node');
      tf.removeBackend('tensorflow');
    }
  });

  it('rejects an unknown name with the list of known ones', async () => {
    await expect(initBackend('webgpu' as BackendName)).rejects.toThrow(ValidationError);
    await expect(initBackend('webgpu' as BackendName)).rejects.toThrow(/known: wasm, cpu, tensorflow/);
  });
});
