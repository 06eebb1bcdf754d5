/**
 * The served pair vector: {@link pairFeatureVector} over `COMPARISONS` (features/comparisons.ts), kept per comparison
 * object so that the duplicate scorer and monitoring compute it once.
 */
import type { PairComparison } from './pair.js';
import { pairFeatureVector } from './comparisons.js';

/** {@link pairFeatureVector} by comparison object (see {@link servedPairVector}). */
const SERVED_PAIR_VECTORS = new WeakMap<PairComparison, Float32Array>();

/**
 * {@link pairFeatureVector} of `c` over `COMPARISONS` (features/comparisons.ts), computed once per comparison object:
 * the duplicate scorer and monitoring (drift, shadow scoring) read the same pairs' vectors.
 * The array is shared by every caller: read it, never write it. A comparison must not be
 * changed after its first call (pair comparisons are built whole and never updated).
 * @returns `Float32Array` of length `PAIR_VECTOR_NAMES.length`.
 */
export function servedPairVector(c: PairComparison): Float32Array {
  let v = SERVED_PAIR_VECTORS.get(c);
  if (v === undefined) SERVED_PAIR_VECTORS.set(c, (v = pairFeatureVector(c)));
  return v;
}
