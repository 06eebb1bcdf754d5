/**
 * Model runs of the served scorers (inference/model-scorers.ts): feature vectors scored by a
 * loaded champion's ONNX session, the runs asked in one event-loop turn shared.
 */
import type { LoadedModel } from './onnx-champion.js';

function toRows(vectors: readonly ArrayLike<number>[], f: number): Float32Array {
  const data = new Float32Array(vectors.length * f);
  vectors.forEach((v, i) => {
    if (v.length !== f)
      throw new RangeError(`feature vector ${i} has ${v.length} values, the model takes ${f}`);
    data.set(v, i * f);
  });
  return data;
}

/** The rows asked of a model in one turn of the event loop, scored together in its next run. */
interface PendingRun {
  rows: ArrayLike<number>[];
  settle: ((out: Float32Array | Error) => void)[];
}
const pendingRuns = new WeakMap<LoadedModel, PendingRun>();

/**
 * Runs the model (the ONNX session: its probability is the score); explanations are the
 * callers'. Calls made in the same turn of the event loop (the members of a batch group,
 * started together) share one session run: the rows are concatenated, and each caller gets its
 * own slice. The served MLPs score a row the same whatever the batch (checked bit for bit in
 * the tests), so a shared run changes no score.
 * @throws RangeError when a vector's length is not the model's feature count (only that call fails).
 */
export async function scoreVectors(m: LoadedModel, vectors: readonly ArrayLike<number>[]): Promise<number[]> {
  if (vectors.length === 0) return [];
  const f = m.session.numFeatures;
  vectors.forEach((v, i) => {
    if (v.length !== f)
      throw new RangeError(`feature vector ${i} has ${v.length} values, the model takes ${f}`);
  });
  let run = pendingRuns.get(m);
  if (!run) {
    const next: PendingRun = { rows: [], settle: [] };
    pendingRuns.set(m, next);
    // After the current turn's microtasks: every member started in it has asked by then.
    process.nextTick(() => {
      pendingRuns.delete(m);
      m.session.run(toRows(next.rows, f)).then(
        (out) => next.settle.forEach((s) => s(out.probability)),
        (e: unknown) => next.settle.forEach((s) => s(e instanceof Error ? e : new Error(String(e)))),
      );
    });
    run = next;
  }
  const from = run.rows.length;
  run.rows.push(...vectors);
  return new Promise((resolve, reject) => {
    run.settle.push((out) =>
      out instanceof Error ? reject(out) : resolve(Array.from(out.subarray(from, from + vectors.length))),
    );
  });
}
