/**
 * Exact nearest neighbours over a row-major matrix of unit vectors by dot product (cosine):
 * the brute-force scan used for reference-code search and for recall measurement.
 */

/** A flat row-major matrix of `n` vectors of length `dim`. */
export interface VectorMatrix {
  dim: number;
  n: number;
  data: Float32Array;
}

/**
 * Packs vectors into a {@link VectorMatrix}.
 * @throws RangeError when a vector's length is not `dim`.
 */
export function toMatrix(vectors: readonly ArrayLike<number>[], dim: number): VectorMatrix {
  const data = new Float32Array(vectors.length * dim);
  vectors.forEach((v, i) => {
    if (v.length !== dim) throw new RangeError(`vector ${i} has length ${v.length}, expected ${dim}`);
    data.set(v, i * dim);
  });
  return { dim, n: vectors.length, data };
}

/**
 * The `k` rows with the highest dot product with `q`, best first (ties to the lower row),
 * skipping row `skip` (-1 for none).
 * @returns row indexes and their scores, at most `k`.
 */
export function topKRows(
  m: VectorMatrix,
  q: ArrayLike<number>,
  k: number,
  skip = -1,
): { rows: number[]; scores: number[] } {
  const { dim, n, data } = m;
  const query = Float32Array.from({ length: dim }, (_, d) => q[d]!);
  const rows: number[] = [];
  const scores: number[] = [];
  for (let r = 0, off = 0; r < n; r++, off += dim) {
    let s = 0;
    for (let d = 0; d < dim; d++) s += data[off + d]! * query[d]!;
    if (r === skip || (rows.length === k && s <= scores[k - 1]!)) continue;
    let pos = rows.length === k ? k - 1 : rows.length;
    while (pos > 0 && scores[pos - 1]! < s) pos--;
    scores.splice(pos, 0, s);
    rows.splice(pos, 0, r);
    if (rows.length > k) {
      rows.pop();
      scores.pop();
    }
  }
  return { rows, scores };
}
