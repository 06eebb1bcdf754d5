/**
 * Worker-thread entry of a `retrain` run (started by training/retrain-job.ts): receives one
 * {@link RetrainWork} as `workerData`, posts `{ kind: 'progress', percent }` as it goes and ends
 * with `{ kind: 'done', product }` (the ONNX bytes transferred) or `{ kind: 'error', ... }`
 * carrying the error's code, message and field errors. Training (tfjs) thereby runs off the
 * server's event loop. A `{ kind: 'cancel' }` message aborts the run's signal: the training
 * loop stops at its next batch (`TRIAGE_TRAINING_CANCELLED`).
 */
import { parentPort, workerData } from 'node:worker_threads';
import { isTriageError } from '../core/errors.js';
import { trainRetrain, type RetrainWork } from './retrain-train.js';

const port = parentPort!;
const cancel = new AbortController();
const onMessage = (m: { kind?: string }): void => {
  if (m.kind === 'cancel') cancel.abort();
};
port.on('message', onMessage);
try {
  const product = await trainRetrain(
    workerData as RetrainWork,
    (percent) => port.postMessage({ kind: 'progress', percent }),
    { signal: cancel.signal },
  );
  const bytes = product.onnx.slice();
  port.postMessage({ kind: 'done', product: { ...product, onnx: bytes } }, [bytes.buffer]);
} catch (e) {
  port.postMessage({
    kind: 'error',
    message: e instanceof Error ? e.message : String(e),
    ...(isTriageError(e) ? { code: e.code, errors: e.errors } : {}),
  });
} finally {
  port.off('message', onMessage);
}
