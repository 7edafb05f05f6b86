import { InfrastructureError, ValidationError } from '@mlp/contracts';
import * as tf from '@tensorflow/tfjs';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import * as path from 'node:path';

/** wasm (default, SIMD, offline), cpu (plain JS), tensorflow (native libtensorflow via tfjs-node or tfjs-node-gpu). */
export type BackendName = 'wasm' | 'cpu' | 'tensorflow';
export const backendNames: readonly BackendName[] = ['wasm', 'cpu', 'tensorflow'];

export interface BackendInfo {
  backend: BackendName;
  /** Whether the wasm backend runs its SIMD build; false for the other backends. */
  simd: boolean;
  tfjsVersion: string;
}

/** Tried in this order for 'tensorflow': the GPU build first when both are installed. */
const nativeBindings = ['@tensorflow/tfjs-node-gpu', '@tensorflow/tfjs-node'];

let wasmPathsSet = false;
let active: BackendInfo | undefined;
/** Serialises backend switches: two concurrent calls must not interleave setBackend. */
let queue: Promise<unknown> = Promise.resolve();

/**
 * Selects the tfjs backend for this process and waits until it is ready.
 * Idempotent: asking again for the active backend does nothing. Switching
 * backends while models are alive is allowed by tfjs but moves their
 * tensors lazily; do it at start-up. Fails with an InfrastructureError
 * naming the cause when the backend cannot start.
 */
export function initBackend(preferred: BackendName = 'wasm'): Promise<BackendInfo> {
  if (!backendNames.includes(preferred)) {
    return Promise.reject(
      new ValidationError(`unknown backend '${String(preferred)}'; known: ${backendNames.join(', ')}`, [
        { path: 'backend', message: `must be one of ${backendNames.join(', ')}` },
      ]),
    );
  }
  const next = queue.then(() => switchTo(preferred));
  queue = next.catch(() => undefined);
  return next;
}

/** The active backend, initialising the default (wasm) if none was chosen yet. */
export function ensureBackend(): Promise<BackendInfo> {
  return active && tf.getBackend() === active.backend ? Promise.resolve(active) : initBackend(active?.backend);
}

async function switchTo(name: BackendName): Promise<BackendInfo> {
  if (active?.backend === name && tf.getBackend() === name) return active;
  if (name === 'wasm') prepareWasm();
  if (name === 'tensorflow') loadNativeBinding();
  let failure: { message: string; cause?: unknown } | undefined;
  try {
    if (!(await tf.setBackend(name))) failure = { message: 'tf.setBackend returned false (tfjs logged the cause as a warning)' };
  } catch (cause) {
    failure = { message: (cause as Error).message, cause };
  }
  if (failure) {
    // A failed setBackend leaves tfjs with no backend instance: put the previous one back.
    if (active) await tf.setBackend(active.backend);
    throw new InfrastructureError(`tfjs backend '${name}' failed to initialise: ${failure.message}`, { code: 'BACKEND_UNAVAILABLE', cause: failure.cause });
  }
  await tf.ready();
  const simd = name === 'wasm' ? Boolean(await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT')) : false;
  active = { backend: name, simd, tfjsVersion: tf.version.tfjs };
  return active;
}

/** Points the wasm loader at the .wasm files shipped in node_modules: no network. */
function prepareWasm(): void {
  if (wasmPathsSet) return;
  // The package's main file lives in dist/, next to the .wasm binaries; the prefix must end in '/'.
  const dist = path.dirname(require.resolve('@tensorflow/tfjs-backend-wasm'));
  setWasmPaths(dist + '/');
  wasmPathsSet = true;
}

/**
 * tfjs-node registers the 'tensorflow' backend as a side effect of being
 * required. It is an optional dependency (its install downloads
 * libtensorflow), so a missing package is a normal, reportable condition.
 */
function loadNativeBinding(): void {
  const failures: string[] = [];
  for (const name of nativeBindings) {
    try {
      // A plain require: the binding must register into this same tfjs instance.
      require(name);
      return;
    } catch (error) {
      failures.push(`${name}: ${(error as Error).message.split('\n')[0]}`);
    }
  }
  throw new InfrastructureError(
    `backend 'tensorflow' needs @tensorflow/tfjs-node or @tensorflow/tfjs-node-gpu, and neither loads (${failures.join('; ')}). ` +
      `Install one (its install script downloads libtensorflow) or use the 'wasm' backend.`,
    { code: 'BACKEND_UNAVAILABLE' },
  );
}
