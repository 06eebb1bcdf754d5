/**
 * Float64 activations and gradients of a {@link TrainedModelSpec} (the forward pass itself is
 * `specLogit` / `predictProbability` in spec.ts). Used by the explanations (integrated
 * gradients) and the tests.
 */
import type { TrainedModelSpec } from './spec.js';

/** Standardised input `(x - mean) / std`. */
export function standardiseRow(spec: TrainedModelSpec, x: ArrayLike<number>): Float64Array {
  const { mean, std } = spec.standardise;
  const z = new Float64Array(mean.length);
  for (let i = 0; i < z.length; i++) z[i] = (x[i]! - mean[i]!) / std[i]!;
  return z;
}

/** Activations of every layer for a standardised input: `[z, h_1, ..., [logit]]`. */
export function layerActivations(spec: TrainedModelSpec, z: Float64Array): Float64Array[] {
  const acts: Float64Array[] = [z];
  let h = z;
  for (const l of spec.layers) {
    const out = new Float64Array(l.bias.length);
    for (let j = 0; j < out.length; j++) {
      let s = l.bias[j]!;
      for (let i = 0; i < h.length; i++) s += h[i]! * l.weights[i]![j]!;
      out[j] = l.activation === 'relu' && s < 0 ? 0 : s;
    }
    acts.push(out);
    h = out;
  }
  return acts;
}

/** The logit of a standardised input. */
export function logitOfStandardised(spec: TrainedModelSpec, z: Float64Array): number {
  const acts = layerActivations(spec, z);
  return acts[acts.length - 1]![0]!;
}

/**
 * Gradient of the logit with respect to the standardised input `z`, by backpropagation
 * (a ReLU at exactly 0 passes no gradient).
 */
export function logitGradient(spec: TrainedModelSpec, z: Float64Array): Float64Array {
  const acts = layerActivations(spec, z);
  let g = new Float64Array([1]);
  for (let k = spec.layers.length - 1; k >= 0; k--) {
    const l = spec.layers[k]!;
    if (l.activation === 'relu') {
      const out = acts[k + 1]!;
      for (let j = 0; j < g.length; j++) if (out[j]! <= 0) g[j] = 0;
    }
    const gi = new Float64Array(acts[k]!.length);
    for (let i = 0; i < gi.length; i++) {
      const row = l.weights[i]!;
      let s = 0;
      for (let j = 0; j < g.length; j++) s += row[j]! * g[j]!;
      gi[i] = s;
    }
    g = gi;
  }
  return g;
}
