/**
 * Seeded synthetic tables for tests and benchmarks of the training code (no real data).
 * Features are standard normal; the true logit is `bias + sum_j coef_j x_j`, plus
 * `interaction * x_0 * x_1` when set (a pattern only a non-linear model can fit).
 */
import type { Dataset } from './data.js';
import { mulberry32, normal } from './rng.js';
import { sigmoid } from '../models/spec.js';

/** Parameters of a synthetic table. */
export interface SyntheticOptions {
  n: number;
  seed: number;
  coef?: readonly number[];
  bias?: number;
  interaction?: number;
}

/** A synthetic table with its true probabilities `p` (for checks against the truth). */
export function syntheticRows(o: SyntheticOptions): Dataset & { p: Float64Array } {
  const coef = o.coef ?? [2, -1.5, 1, 0];
  const bias = o.bias ?? -2;
  const rng = mulberry32(o.seed);
  const X: Float64Array[] = [];
  const y = new Float64Array(o.n);
  const p = new Float64Array(o.n);
  for (let i = 0; i < o.n; i++) {
    const x = Float64Array.from(coef, () => normal(rng));
    let z = bias;
    coef.forEach((c, j) => (z += c * x[j]!));
    if (o.interaction) z += o.interaction * x[0]! * x[1]!;
    p[i] = sigmoid(z);
    y[i] = rng() < p[i]! ? 1 : 0;
    X.push(x);
  }
  return {
    featureNames: coef.map((_, j) => `x${j}`),
    X,
    y,
    w: new Float64Array(o.n).fill(1),
    p,
    meta: X.map((_, i) => ({
      key: `r${i}`,
      invoiceId: `inv${i}`,
      kind: y[i] ? 'synthetic' : null,
      source: 'benchmark' as const,
      labelId: `bench:r${i}`,
    })),
  };
}
