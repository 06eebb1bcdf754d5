/**
 * Monotone training over one-hot comparison levels. A level one-hot has no direction on its own
 * ("more of level k" is not more agreement), so a monotone network is trained on the chain's
 * **"at least this level" flags** instead: for a chain of levels `c_0 .. c_{L-1}` ordered from most
 * to least agreement (`features/pair-agreement.ts`), flag `t_j = x[c_0] + .. + x[c_j]` is 1 when
 * the pair's level is `c_j` or better, and every flag rises with agreement. After training, the
 * flags are folded back into the first layer so that the served model reads the one-hot vector
 * the service builds, computing the same function: `w(c_k) = sum_{j >= k} w'(t_j) / std(t_j)` and
 * the bias takes `-sum_j w'(t_j) mean(t_j) / std(t_j)`, the one-hot columns then standardised
 * with mean 0 and std 1. A hot level moved one step up its chain changes each unit's input by
 * `w'(t_j) / std(t_j)`, whose sign the monotone training fixed.
 */
import type { TrainedModelSpec } from '../models/spec.js';
import type { VectorAgreement } from '../features/pair-agreement.js';
import type { LabelledRows } from './data.js';

/** Each chain's flags replace its one-hot columns, in place (column `c_j` holds `t_j`). */
export function toLevelFlags(x: ArrayLike<number>, chains: readonly (readonly number[])[]): number[] {
  const out = Array.from(x);
  for (const chain of chains) {
    let acc = 0;
    for (const c of chain) {
      acc += x[c]!;
      out[c] = acc;
    }
  }
  return out;
}

/**
 * The agreement direction of each column of the flag vector ({@link toLevelFlags}): the
 * declared direction of numeric columns, +1 for each chain's flags but its last (always 1 on a
 * one-hot, so it carries no direction), 0 elsewhere.
 */
export function flagDirections(a: VectorAgreement): number[] {
  const d = [...a.direction];
  for (const chain of a.chains) chain.forEach((c, j) => (d[c] = j < chain.length - 1 ? 1 : 0));
  return d;
}

/** `data` with every row's chains replaced by their flags ({@link toLevelFlags}). */
export function withLevelFlags(data: LabelledRows, a: VectorAgreement): LabelledRows {
  return { ...data, X: data.X.map((x) => toLevelFlags(x, a.chains)) };
}

/**
 * A spec trained on the flag vector rewritten to read the one-hot vector (see the module doc);
 * the other columns keep their standardisation and weights.
 * @throws RangeError when the spec has no layers or a chain column is out of range.
 */
export function foldLevelFlags(spec: TrainedModelSpec, a: VectorAgreement): TrainedModelSpec {
  const first = spec.layers[0];
  if (!first) throw new RangeError('spec has no layers');
  const mean = [...spec.standardise.mean];
  const std = [...spec.standardise.std];
  const weights = first.weights.map((r) => [...r]);
  const bias = [...first.bias];
  for (const chain of a.chains) {
    for (const c of chain) if (c < 0 || c >= weights.length) throw new RangeError(`column ${c} out of range`);
    const units = bias.length;
    // per unit: the flag weights in original units (w' / std) and the bias shift
    const scaled = chain.map((c) => weights[c]!.map((w) => w / std[c]!));
    for (let u = 0; u < units; u++) {
      let shift = 0;
      for (let j = 0; j < chain.length; j++) shift += scaled[j]![u]! * mean[chain[j]!]!;
      bias[u] = bias[u]! - shift;
      let suffix = 0;
      for (let k = chain.length - 1; k >= 0; k--) {
        suffix += scaled[k]![u]!;
        weights[chain[k]!]![u] = suffix;
      }
    }
    for (const c of chain) {
      mean[c] = 0;
      std[c] = 1;
    }
  }
  return {
    ...spec,
    standardise: { mean, std },
    layers: [{ ...first, weights, bias }, ...spec.layers.slice(1)],
  };
}
