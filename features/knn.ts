/**
 * Exact nearest neighbours over a row-major matrix of unit vectors by dot product (cosine):
 * the brute-force scan used for reference-code search and for recall measurement.
 *
 * A batch of queries is screened as one matrix product (./dot-kernel.ts: 16-bit integer SIMD
 * over quantised rows and queries, every row read once per four queries); the rows whose
 * screening score is within twice the quantisation's error bound of the k-th best are then
 * scored exactly, and the top k is selected from those exact scores. Exact scores are float64
 * sums over the dimensions in order of the float32 row and the query rounded to float32, so
 * results are the same as a plain scalar scan, whatever the batch, with or without the kernel.
 */
import { createDotKernel, type DotKernel } from './dot-kernel.js';

/** A flat row-major matrix of `n` vectors of length `dim`; not to be changed once searched. */
export interface VectorMatrix {
  dim: number;
  n: number;
  data: Float32Array;
}

/** The best rows of one query: row indexes and their scores, best first. */
export interface TopRows {
  rows: number[];
  scores: number[];
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
 * The top-k primitive: rows offered in increasing row order, the `k` best kept, best first,
 * ties to the row offered first.
 */
class TopK {
  readonly rows: number[] = [];
  readonly scores: number[] = [];
  constructor(private readonly k: number) {}

  /** The k-th best score so far (-Infinity until k rows were offered). */
  get floor(): number {
    return this.rows.length === this.k ? this.scores[this.k - 1]! : -Infinity;
  }

  offer(row: number, s: number): void {
    const { k, rows, scores } = this;
    if (k <= 0 || (rows.length === k && s <= scores[k - 1]!)) return;
    let pos = rows.length === k ? k - 1 : rows.length;
    while (pos > 0 && scores[pos - 1]! < s) pos--;
    scores.splice(pos, 0, s);
    rows.splice(pos, 0, row);
    if (rows.length > k) {
      rows.pop();
      scores.pop();
    }
  }
}

/** Exact score of row `r`: float64 sum in dimension order. */
function exactScore(m: VectorMatrix, r: number, q: Float64Array): number {
  const { dim, data } = m;
  let s = 0;
  for (let d = 0, off = r * dim; d < dim; d++) s += data[off + d]! * q[d]!;
  return s;
}

const kernels = new WeakMap<VectorMatrix, DotKernel | null>();

function kernelOf(m: VectorMatrix): DotKernel | null {
  let k = kernels.get(m);
  if (k === undefined) {
    k = createDotKernel(m.data, m.n, m.dim);
    kernels.set(m, k);
  }
  return k;
}

/** The k-th best screening sum of query `j`, row `skip` left out (-Infinity below k rows). */
function screenedFloor(fast: Int32Array, n: number, j: number, skip: number, k: number): number {
  const screened = new TopK(k);
  for (let r = 0; r < n; r++) if (r !== skip) screened.offer(r, fast[r * 4 + j]!);
  return screened.floor;
}

/**
 * The `k` rows with the highest dot product with each query, best first (ties to the lower
 * row), skipping row `skips[i]` for query i (-1 or absent for none).
 * @returns one {@link TopRows} per query, at most `k` rows each.
 * @throws RangeError when a query's length is not `m.dim`.
 */
export function topKRowsBatch(
  m: VectorMatrix,
  queries: readonly ArrayLike<number>[],
  k: number,
  skips: readonly number[] = [],
): TopRows[] {
  const { dim, n } = m;
  const qs = queries.map((v, i) => {
    if (v.length !== dim) throw new RangeError(`query ${i} has length ${v.length}, expected ${dim}`);
    const q = new Float64Array(dim);
    for (let d = 0; d < dim; d++) q[d] = Math.fround(v[d]!);
    return q;
  });
  const kernel = kernelOf(m);
  const out: TopRows[] = [];
  for (let b = 0; b < qs.length; b += 4) {
    const block = qs.slice(b, b + 4);
    const screening = kernel?.dots4(block) ?? null;
    // k = 1: the kernel finds each query's best sum and the rows within its margin, all four
    // queries in one pass over the sums.
    const best =
      screening !== null && k === 1
        ? kernel!.bestRows(
            block.length,
            block.map((_, j) => skips[b + j] ?? -1),
            block.map((_, j) => (2 * screening.bound[j]!) / screening.scale[j]!),
          )
        : null;
    block.forEach((q, j) => {
      const skip = skips[b + j] ?? -1;
      const top = new TopK(k);
      if (screening === null) {
        for (let r = 0; r < n; r++) if (r !== skip) top.offer(r, exactScore(m, r, q));
        out.push({ rows: top.rows, scores: top.scores });
        return;
      }
      // Screening: the k-th best approximate score, then every row that may beat it exactly:
      // a row more than twice the error bound below it is below the k-th best exact score.
      const fast = screening.sums;
      const margin = (2 * screening.bound[j]!) / screening.scale[j]!;
      if (best !== null) {
        const { rows } = best;
        const threshold = best.threshold[j]!;
        for (let c = 0; c < rows.length; c++) {
          const r = rows[c]!;
          if (r !== skip && fast[r * 4 + j]! >= threshold) top.offer(r, exactScore(m, r, q));
        }
      } else {
        const threshold = screenedFloor(fast, n, j, skip, k) - margin;
        for (let r = 0, i = j; r < n; r++, i += 4)
          if (fast[i]! >= threshold && r !== skip) top.offer(r, exactScore(m, r, q));
      }
      out.push({ rows: top.rows, scores: top.scores });
    });
  }
  return out;
}

/**
 * The `k` rows with the highest dot product with `q`, best first (ties to the lower row),
 * skipping row `skip` (-1 for none): {@link topKRowsBatch} for one query.
 * @returns row indexes and their scores, at most `k`.
 */
export function topKRows(m: VectorMatrix, q: ArrayLike<number>, k: number, skip = -1): TopRows {
  return topKRowsBatch(m, [q], k, [skip])[0]!;
}
