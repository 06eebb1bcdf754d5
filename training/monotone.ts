/**
 * Monotone networks: a network whose logit never decreases in `sign_i * x_i` for every input
 * with a sign (`features/comparisons.ts` {@link PAIR_MONOTONE_SIGNS}: more agreement never
 * lowers a duplicate pair's score), by projected gradient descent. After every optimiser step
 * (and once at initialisation) the weights are projected onto the monotone set:
 *
 * - first layer, row of a signed input i: `sign_i * W[i][j] >= 0` (the other rows are free);
 * - every later layer: `W >= 0`.
 *
 * ReLU is non-decreasing and standardisation divides by a positive std, so each hidden unit is
 * non-decreasing in `sign_i * x_i` and so is any non-negative combination of them: the logit is
 * monotone in every signed input whatever the free inputs are (Sill 1998's construction with
 * the free inputs entering the first layer only). Platt scaling with a > 0 and isotonic
 * calibration keep the order, so the calibrated score is monotone too.
 */
import type { Sequential, Variable } from '@tensorflow/tfjs';
import { PAIR_MONOTONE_SIGNS, PAIR_VECTOR_NAMES } from '../features/comparisons.js';
import type { ModelTask, TrainedModelSpec } from '../models/spec.js';
import type { Tf } from './tf.js';

/**
 * The monotone sign of each input of a task's model (by feature name), or null for a task
 * trained without constraints (the coding model).
 * @throws RangeError when a duplicate feature name is not in the pair vector.
 */
export function monotoneSigns(task: ModelTask, featureNames: readonly string[]): (1 | -1 | 0)[] | null {
  if (task !== 'duplicate') return null;
  return featureNames.map((n) => {
    const i = PAIR_VECTOR_NAMES.indexOf(n);
    if (i < 0) throw new RangeError(`feature ${n} is not in the pair vector`);
    return PAIR_MONOTONE_SIGNS[i]!;
  });
}

/**
 * Projects the kernels of `model` onto the monotone set of `signs` (see the module doc), in
 * place.
 * @param signs one per input of the first layer.
 */
export function projectMonotone(tf: Tf, model: Sequential, signs: readonly number[]): void {
  tf.tidy(() => {
    model.layers.forEach((layer, k) => {
      const kernel = layer.getWeights()[0] as Variable;
      if (k === 0) {
        const [, out] = kernel.shape as [number, number];
        const pos = tf.tile(tf.tensor2d(signs.map((s) => [s > 0 ? 1 : 0])), [1, out]);
        const neg = tf.tile(tf.tensor2d(signs.map((s) => [s < 0 ? 1 : 0])), [1, out]);
        const free = tf.sub(1, tf.add(pos, neg));
        kernel.assign(
          tf.add(
            tf.mul(free, kernel),
            tf.sub(tf.mul(pos, tf.relu(kernel)), tf.mul(neg, tf.relu(tf.neg(kernel)))),
          ),
        );
      } else {
        kernel.assign(tf.relu(kernel));
      }
    });
  });
}

/**
 * The first entry of a spec that breaks the monotone constraints of `signs` (a sufficient
 * condition for monotonicity, checked on the weights), or null when there is none.
 */
export function monotoneViolation(spec: TrainedModelSpec, signs: readonly number[]): string | null {
  for (let k = 0; k < spec.layers.length; k++) {
    const w = spec.layers[k]!.weights;
    for (let i = 0; i < w.length; i++) {
      const s = k === 0 ? signs[i]! : 1;
      if (s === 0) continue;
      for (let j = 0; j < w[i]!.length; j++)
        if (s * w[i]![j]! < 0) return `layer ${k} weight [${i}][${j}] = ${w[i]![j]} against sign ${s}`;
    }
  }
  if (spec.calibration.kind === 'platt' && spec.calibration.a < 0) return 'Platt slope a < 0';
  return null;
}
