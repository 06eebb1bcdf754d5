import { describe, expect, it } from 'vitest';
import { toMatrix, topKRows, topKRowsBatch, type VectorMatrix } from './knn.js';

/** The plain scalar scan the batch search must reproduce exactly (rows, order and scores). */
function scalarTopK(
  m: VectorMatrix,
  q: ArrayLike<number>,
  k: number,
  skip: number,
): { rows: number[]; scores: number[] } {
  const query = Float32Array.from(q);
  const all: { r: number; s: number }[] = [];
  for (let r = 0; r < m.n; r++) {
    if (r === skip) continue;
    let s = 0;
    for (let d = 0; d < m.dim; d++) s += m.data[r * m.dim + d]! * query[d]!;
    all.push({ r, s });
  }
  all.sort((a, b) => b.s - a.s || a.r - b.r);
  const top = all.slice(0, k);
  return { rows: top.map((x) => x.r), scores: top.map((x) => x.s) };
}

function rng(seed: number): () => number {
  let x = seed;
  return () => {
    x = (x * 1103515245 + 12345) % 2147483648;
    return x / 2147483648 - 0.5;
  };
}

function unit(rand: () => number, dim: number): number[] {
  const v = Array.from({ length: dim }, rand);
  const n = Math.hypot(...v);
  return v.map((x) => x / n);
}

describe('topKRowsBatch', () => {
  it('gives the scalar scan’s rows, order and scores for every batch size, near ties included', () => {
    const rand = rng(7);
    const dim = 128;
    const base = Array.from({ length: 600 }, () => unit(rand, dim));
    // Near ties: exact copies, and clusters of copies nudged by a few float32 ulps, whose order
    // the float32 screening gets wrong unless the exact re-scoring covers its error.
    const nudged = base
      .slice(0, 20)
      .flatMap((v) => Array.from({ length: 8 }, () => v.map((x) => x + rand() * 6e-8)));
    const rows = [...base, ...base.slice(0, 50), ...nudged];
    const m = toMatrix(rows, dim);
    const queries = [
      ...Array.from({ length: 5 }, () => unit(rand, dim)),
      ...base.slice(0, 20).map((v) => v.map((x) => x + rand() * 1e-7)),
      rows[3]!,
      rows[620]!,
    ];
    const skips = queries.map((_, i) => (i % 2 === 0 ? -1 : i * 11));
    for (const k of [1, 3, 10]) {
      const expected = queries.map((q, i) => scalarTopK(m, q, k, skips[i]!));
      expect(topKRowsBatch(m, queries, k, skips)).toEqual(expected);
      for (const size of [1, 3, 5])
        for (let b = 0; b < queries.length; b += size)
          expect(topKRowsBatch(m, queries.slice(b, b + size), k, skips.slice(b, b + size))).toEqual(
            expected.slice(b, b + size),
          );
      queries.forEach((q, i) => expect(topKRows(m, q, k, skips[i])).toEqual(expected[i]));
    }
  });

  it('handles dimensions the kernel does not take, fewer rows than k and k = 0', () => {
    const rand = rng(3);
    const m = toMatrix(
      Array.from({ length: 5 }, () => unit(rand, 6)),
      6,
    );
    const q = unit(rand, 6);
    expect(topKRows(m, q, 10)).toEqual(scalarTopK(m, q, 10, -1));
    expect(topKRows(m, q, 10, 2).rows).toHaveLength(4);
    expect(topKRows(m, q, 0)).toEqual({ rows: [], scores: [] });
    expect(() => topKRowsBatch(m, [[1, 2]], 1)).toThrow(RangeError);
  });
});
