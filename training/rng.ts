/**
 * Seeded randomness for training: every random choice of a run (initialisers, shuffling,
 * sub-splits, synthetic data in tests) derives from the run's seed through these functions,
 * so the same seed gives the same model.
 */
import { createHash } from 'node:crypto';
import { mulberry32 } from '../datasets/synth.js';

/** A uniform [0, 1) generator. */
export type UniformSource = () => number;

/** Mulberry32 (the generator the benchmark and samples use), re-exported for training code. */
export { mulberry32 };

/** A 32-bit integer derived from a seed and a purpose label, so that streams do not overlap. */
export function deriveSeed(seed: number, purpose: string): number {
  return createHash('sha256').update(`${seed}:${purpose}`).digest().readUInt32BE(0);
}

/** Fisher-Yates permutation of `0..n-1`. */
export function permutation(n: number, rng: UniformSource): Uint32Array {
  const p = new Uint32Array(n);
  for (let i = 0; i < n; i++) p[i] = i;
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(rng() * (i + 1));
    const t = p[i]!;
    p[i] = p[j]!;
    p[j] = t;
  }
  return p;
}

/** Standard normal draw (Box-Muller). */
export function normal(rng: UniformSource): number {
  let u = 0;
  while (u === 0) u = rng();
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * rng());
}

/**
 * A stable pseudo-random number in [0, 1) for a key (e.g. an invoice id) under a seed: used to
 * split data so that a key always lands in the same part whatever the row order.
 */
export function keyUniform(seed: number, key: string): number {
  return createHash('sha256').update(`${seed}|${key}`).digest().readUInt32BE(0) / 4294967296;
}
