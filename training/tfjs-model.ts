/**
 * `toTfjsModel(spec)`: the tfjs equivalent of a {@link TrainedModelSpec}, for parity tests of
 * other runtimes (the ONNX export compares its outputs with these) and for saving a tfjs
 * artefact (`model.save(tf.io.withSaveHandler(...))`).
 */
import type * as tfTypes from '@tensorflow/tfjs';
import { assertModelSpec, interpolateClamped, type TrainedModelSpec } from '../models/spec.js';
import { loadTf } from './tf.js';

/** A spec as tfjs: the dense layers as a `tf.Sequential`, and a scoring function around it. */
export interface TfjsModel {
  /** Maps standardised features `[n, d]` to logits `[n, 1]` (the spec's `layers`). */
  model: tfTypes.Sequential;
  /**
   * Scores raw feature rows (in `spec.featureNames` order) in float32, exactly as the spec
   * defines: standardise, layers, calibration. Returns one logit and one probability per row.
   * @throws RangeError when a row has the wrong length.
   */
  predict(rows: readonly ArrayLike<number>[]): Promise<{ logit: Float32Array; probability: Float32Array }>;
  /** Releases the model's tensors. */
  dispose(): void;
}

/**
 * Builds the tfjs model of a spec (validated first).
 * Standardisation and Platt/none calibration run as tfjs float32 ops; isotonic calibration is
 * a piecewise-linear lookup on the float32 `sigmoid(logit)`, computed in JS and rounded to float32.
 * @throws TriageError `TRIAGE_MODEL_INVALID` when the spec is inconsistent.
 */
export async function toTfjsModel(specIn: TrainedModelSpec): Promise<TfjsModel> {
  const spec = assertModelSpec(specIn);
  const tf = await loadTf();
  const d = spec.featureNames.length;
  const model = tf.sequential();
  spec.layers.forEach((l, k) => {
    model.add(
      tf.layers.dense({
        units: l.bias.length,
        activation: l.activation,
        useBias: true,
        ...(k === 0 ? { inputShape: [d] } : {}),
      }),
    );
  });
  model.layers.forEach((layer, k) => {
    const l = spec.layers[k]!;
    layer.setWeights([tf.tensor2d(l.weights, [l.weights.length, l.bias.length]), tf.tensor1d(l.bias)]);
  });
  const mean = tf.tensor1d(spec.standardise.mean);
  const std = tf.tensor1d(spec.standardise.std);
  const cal = spec.calibration;
  return {
    model,
    async predict(rows) {
      const flat = new Float32Array(rows.length * d);
      rows.forEach((r, i) => {
        if (r.length !== d) throw new RangeError(`row ${i} has ${r.length} features, want ${d}`);
        for (let j = 0; j < d; j++) flat[i * d + j] = r[j]!;
      });
      const [logitT, probT] = tf.tidy(() => {
        const x = tf.div(tf.sub(tf.tensor2d(flat, [rows.length, d]), mean), std);
        const z = (model.predict(x, { batchSize: 65536 }) as tfTypes.Tensor).reshape([-1]);
        const p = cal.kind === 'platt' ? tf.sigmoid(tf.add(tf.mul(cal.a, z), cal.b)) : tf.sigmoid(z);
        return [z, p];
      });
      const logit = (await logitT.data()) as Float32Array;
      let probability = (await probT.data()) as Float32Array;
      logitT.dispose();
      probT.dispose();
      if (cal.kind === 'isotonic') probability = probability.map((u) => interpolateClamped(cal.x, cal.y, u));
      return { logit, probability };
    },
    dispose() {
      model.dispose();
      mean.dispose();
      std.dispose();
    },
  };
}
