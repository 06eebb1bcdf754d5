/**
 * The first stage of the line matcher: an L2 logistic regression over the dense comparisons
 * (weights held to their domain sign, `DENSE_FEATURES`) and the hashed shared/unshared
 * description tokens, fitted by full-batch Adam from zero weights (deterministic).
 */
import type { IdfTable } from '../features/idf.js';
import { DENSE_FEATURES, DENSE_FEATURE_NAMES, denseComparisons, tokenOverlap } from './compare.js';
import { tokenBucket } from './line-matcher.js';
import type { LabelledPair } from './train.js';

/** Pairs as comparison vectors, token buckets and labels. */
export interface Encoded {
  x: Float64Array[];
  common: Uint32Array[];
  different: Uint32Array[];
  y: Float64Array;
}

/** Encodes pairs for {@link fitLogistic}. */
export function encode(pairs: readonly LabelledPair[], idf: IdfTable, buckets: number): Encoded {
  const toBuckets = (ts: string[]): Uint32Array => Uint32Array.from(ts, (t) => tokenBucket(t, buckets));
  return {
    x: pairs.map((p) => denseComparisons(p.a, p.b, idf)),
    common: pairs.map((p) => toBuckets(tokenOverlap(p.a, p.b).common)),
    different: pairs.map((p) => toBuckets(tokenOverlap(p.a, p.b).different)),
    y: Float64Array.from(pairs, (p) => p.label),
  };
}

/** Fitted first-stage weights (dense weights on standardised comparisons). */
export interface LinearWeights {
  mean: number[];
  std: number[];
  w: Float64Array;
  bias: number;
  common: Float64Array;
  different: Float64Array;
}

/** The first-stage logit of encoded pair `i`. */
export function logitOf(m: LinearWeights, e: Encoded, i: number): number {
  const x = e.x[i]!;
  let z = m.bias;
  for (let k = 0; k < x.length; k++) z += (m.w[k]! * (x[k]! - m.mean[k]!)) / m.std[k]!;
  for (const h of e.common[i]!) z += m.common[h]!;
  for (const h of e.different[i]!) z += m.different[h]!;
  return z;
}

/** Full-batch Adam on the L2-penalised mean log-loss, dense weights projected onto their signs. */
export function fitLogistic(e: Encoded, buckets: number, l2: number, epochs: number): LinearWeights {
  const n = e.y.length;
  const d = DENSE_FEATURE_NAMES.length;
  const mean = new Array<number>(d).fill(0);
  const std = new Array<number>(d).fill(0);
  for (const x of e.x) for (let k = 0; k < d; k++) mean[k]! += x[k]! / n;
  for (const x of e.x) for (let k = 0; k < d; k++) std[k]! += (x[k]! - mean[k]!) ** 2 / n;
  for (let k = 0; k < d; k++) std[k] = Math.sqrt(std[k]!) > 1e-9 ? Math.sqrt(std[k]!) : 1;
  const m: LinearWeights = {
    mean,
    std,
    w: new Float64Array(d),
    bias: 0,
    common: new Float64Array(buckets),
    different: new Float64Array(buckets),
  };
  const size = d + 1 + 2 * buckets;
  const g = new Float64Array(size);
  const m1 = new Float64Array(size);
  const m2 = new Float64Array(size);
  const lr = 0.05;
  const [b1, b2] = [0.9, 0.999];
  for (let t = 1; t <= epochs; t++) {
    g.fill(0);
    for (let i = 0; i < n; i++) {
      const z = logitOf(m, e, i);
      const r = (1 / (1 + Math.exp(-z)) - e.y[i]!) / n;
      const x = e.x[i]!;
      for (let k = 0; k < d; k++) g[k]! += (r * (x[k]! - mean[k]!)) / std[k]!;
      g[d]! += r;
      for (const h of e.common[i]!) g[d + 1 + h]! += r;
      for (const h of e.different[i]!) g[d + 1 + buckets + h]! += r;
    }
    for (let k = 0; k < d; k++) g[k]! += l2 * m.w[k]!;
    for (let h = 0; h < buckets; h++) {
      g[d + 1 + h]! += l2 * m.common[h]!;
      g[d + 1 + buckets + h]! += l2 * m.different[h]!;
    }
    const step = (j: number): number => {
      m1[j] = b1 * m1[j]! + (1 - b1) * g[j]!;
      m2[j] = b2 * m2[j]! + (1 - b2) * g[j]! * g[j]!;
      return (lr * (m1[j]! / (1 - b1 ** t))) / (Math.sqrt(m2[j]! / (1 - b2 ** t)) + 1e-8);
    };
    for (let k = 0; k < d; k++) {
      let w = m.w[k]! - step(k);
      const sign = DENSE_FEATURES[k]![1];
      if (sign > 0 && w < 0) w = 0;
      if (sign < 0 && w > 0) w = 0;
      m.w[k] = w;
    }
    m.bias -= step(d);
    for (let h = 0; h < buckets; h++) {
      m.common[h]! -= step(d + 1 + h);
      m.different[h]! -= step(d + 1 + buckets + h);
    }
  }
  return m;
}

/** Rounds to 6 decimals (stored weights). */
export const round = (v: number): number => Math.round(v * 1e6) / 1e6;

/** Weights rounded to 6 decimals, as stored in the spec. */
export function roundWeights(m: LinearWeights): LinearWeights {
  return {
    mean: m.mean.map(round),
    std: m.std.map(round),
    w: m.w.map(round),
    bias: round(m.bias),
    common: m.common.map(round),
    different: m.different.map(round),
  };
}
