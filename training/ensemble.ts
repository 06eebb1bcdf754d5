/**
 * Seed ensembles as one network. `n` networks trained on the same rows with different seeds are
 * merged into a single {@link TrainedModelSpec} whose logit is the **mean of the members'
 * logits**: the first layers sit side by side on the shared (standardised) input, each deeper
 * hidden layer is block-diagonal (a member's units read only that member's units), and the
 * output layer joins every member's last hidden units with weights divided by `n` and the mean
 * bias. The zeros off the blocks carry any sign, so a merge of networks that are monotone in
 * agreement (training/train.ts `kernelSigns`) is monotone too: a mean of non-decreasing
 * functions does not decrease. The merged spec is a plain MLP, so serving and the ONNX export
 * need nothing new.
 */
import type { DenseLayer, TrainedModelSpec } from '../models/spec.js';
import { deriveSeed } from './rng.js';

/**
 * Training seed of ensemble member `k` of a run with `seed`: member 0 trains with the run seed
 * itself (so a one-member ensemble is the single network), the others with seeds derived from it.
 */
export function memberSeed(seed: number, k: number): number {
  return k === 0 ? seed : deriveSeed(seed, `ensemble-member-${k}`);
}

function sameNumbers(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

/**
 * One spec computing the mean logit of `members` (see the module doc). Calibration is reset to
 * `none` (fit it on the merged logit).
 * @throws RangeError when there is no member, or the members differ in inputs,
 *   standardisation or depth.
 */
export function mergeMembers(members: readonly TrainedModelSpec[]): TrainedModelSpec {
  const first = members[0];
  if (!first) throw new RangeError('no ensemble member');
  const depth = first.layers.length;
  for (const m of members) {
    if (
      !sameNumbers(m.standardise.mean, first.standardise.mean) ||
      !sameNumbers(m.standardise.std, first.standardise.std)
    )
      throw new RangeError('ensemble members must share their standardisation');
    if (m.layers.length !== depth || depth === 0)
      throw new RangeError('ensemble members must have the same depth');
    if (m.featureNames.join('\u0000') !== first.featureNames.join('\u0000'))
      throw new RangeError('ensemble members must read the same inputs');
  }
  const n = members.length;
  const layers: DenseLayer[] = [];
  for (let k = 0; k < depth; k++) {
    const parts = members.map((m) => m.layers[k]!);
    const last = k === depth - 1;
    if (k === 0 && last) {
      // one linear layer each: the mean of the weights
      const weights = parts[0]!.weights.map((row, i) =>
        row.map((_, o) => parts.reduce((s, p) => s + p.weights[i]![o]!, 0) / n),
      );
      const bias = parts[0]!.bias.map((_, o) => parts.reduce((s, p) => s + p.bias[o]!, 0) / n);
      layers.push({ weights, bias, activation: parts[0]!.activation });
      continue;
    }
    const outWidth = last ? 1 : parts.reduce((s, p) => s + p.bias.length, 0);
    const weights: number[][] = [];
    if (k === 0) {
      // shared input: member columns side by side
      for (let i = 0; i < parts[0]!.weights.length; i++) weights.push(parts.flatMap((p) => p.weights[i]!));
    } else {
      let offset = 0;
      for (const p of parts) {
        for (const row of p.weights) {
          const wide = new Array<number>(outWidth).fill(0);
          if (last) wide[0] = row[0]! / n;
          else row.forEach((w, o) => (wide[offset + o] = w));
          weights.push(wide);
        }
        offset += p.bias.length;
      }
    }
    const bias = last ? [parts.reduce((s, p) => s + p.bias[0]!, 0) / n] : parts.flatMap((p) => p.bias);
    layers.push({ weights, bias, activation: parts[0]!.activation });
  }
  return { ...first, layers, calibration: { kind: 'none' } };
}
