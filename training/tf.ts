/**
 * The one place that loads tfjs: the WebAssembly backend, single-threaded so that float
 * summation order (and therefore every trained weight) is the same on every run and machine.
 */
import * as tf from '@tensorflow/tfjs';
import { setThreadsCount } from '@tensorflow/tfjs-backend-wasm';

let ready: Promise<typeof tf> | undefined;

/**
 * Returns tfjs with the `wasm` backend active (initialised once per process).
 * @throws Error when the wasm backend cannot be initialised.
 */
export function loadTf(): Promise<typeof tf> {
  ready ??= (async () => {
    setThreadsCount(1);
    const ok = await tf.setBackend('wasm');
    if (!ok || tf.getBackend() !== 'wasm') throw new Error('tfjs wasm backend failed to initialise');
    await tf.ready();
    return tf;
  })();
  return ready;
}

export type Tf = typeof tf;
