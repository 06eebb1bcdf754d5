/**
 * A 16-bit integer SIMD kernel (WebAssembly, 128-bit lanes) for the screening pass of the
 * exact nearest-row search in ./knn.ts: approximate dot products of every row of a matrix with
 * four queries at once. Rows and queries are quantised to integers of at most
 * {@link quantisationRange} in magnitude (rows with one scale for the whole matrix, each query
 * with its own), and each dot product is an exact 32-bit integer sum of `i32x4.dot_i16x8_s`
 * (eight products per instruction, twice the float32 rate; the rows take half the memory).
 * The only error is the quantisation's, bounded per query ({@link Screening.bound}); ./knn.ts
 * re-scores exactly the rows that could be in the top k.
 *
 * The module is assembled below from its instructions, so there is no binary artefact and
 * nothing to download; it runs where WebAssembly SIMD does (Node.js 16.4+).
 */

const leb = (n: number): number[] => {
  const out: number[] = [];
  do {
    let b = n & 0x7f;
    n >>>= 7;
    if (n) b |= 0x80;
    out.push(b);
  } while (n);
  return out;
};
const vec = (items: number[][]): number[] => [...leb(items.length), ...items.flat()];
const section = (id: number, body: number[]): number[] => [id, ...leb(body.length), ...body];
const name = (s: string): number[] => [...leb(s.length), ...Buffer.from(s)];

/**
 * The module: `dots(mat, n, dim, q, out)` (four queries), `dots2` (the same for two), `colmax`,
 * `collect` and its memory `mem` (pointers are byte offsets).
 */
function kernelModule(): Uint8Array {
  const I32 = 0x7f;
  const V128 = 0x7b;
  const get = (i: number): number[] => [0x20, i];
  const set = (i: number): number[] => [0x21, i];
  const tee = (i: number): number[] => [0x22, i];
  const i32 = (n: number): number[] => [0x41, ...leb(n)]; // n < 64: its signed LEB equals the unsigned one
  const add = 0x6a; // i32.add
  const mul = 0x6c;
  const load = [0xfd, 0x00, 4, 0]; // v128.load align 16, offset 0
  const i32x4Add = [0xfd, ...leb(174)];
  const dotI16 = [0xfd, ...leb(186)]; // i32x4.dot_i16x8_s
  const lane = (l: number): number[] => [0xfd, 0x1b, l]; // i32x4.extract_lane
  // Params: 0 mat (int16 rows), 1 n (rows), 2 dim (a multiple of 8), 3 q (4 int16 queries of
  // dim, contiguous), 4 out (n x 4 int32, row-major). Locals: 5 r, 6 row pointer, 7 byte offset
  // in the row, 8 row stride in bytes, 9..12 the accumulators, 13 the row's eight values. The
  // body for `queries` (4 or 2) reads that many queries and writes that many lanes of `out`.
  const dotsBody = (queries: 4 | 2): number[] => {
    const accs = [9, 10, 11, 12].slice(0, queries);
    const laneSum = (a: number): number[] => [
      ...get(a),
      ...lane(0),
      ...get(a),
      ...lane(1),
      add,
      ...get(a),
      ...lane(2),
      ...get(a),
      ...lane(3),
      add,
      add,
    ];
    const body = [
      ...get(2), ...i32(2), mul, ...set(8),
      ...get(0), ...set(6),
      0x02, 0x40, 0x03, 0x40, // block, loop over rows
      ...get(5), ...get(1), 0x4f, 0x0d, 1, // r >= n: out of the block
      ...accs.flatMap((a) => [0xfd, 0x0c, ...new Array<number>(16).fill(0), ...set(a)]),
      ...i32(0), ...set(7),
      0x03, 0x40, // loop over the row, eight values at a time
      ...get(6), ...get(7), add, ...load, ...set(13),
      ...accs.flatMap((a, j) => [
        ...get(a), ...get(13),
        ...get(3), ...get(7), add, ...(j > 0 ? [...get(8), ...i32(j), mul, add] : []), ...load,
        ...dotI16, ...i32x4Add, ...set(a),
      ]),
      ...get(7), ...i32(16), add, ...tee(7), ...get(8), 0x49, 0x0d, 0, // offset < stride: again
      0x0b,
      ...accs.flatMap((a, j) => [...get(4), ...laneSum(a), 0x36, 2, ...leb(j * 4)]), // i32.store
      ...get(4), ...i32(16), add, ...set(4),
      ...get(6), ...get(8), add, ...set(6),
      ...get(5), ...i32(1), add, ...set(5),
      0x0c, 0, // next row
      0x0b, 0x0b, 0x0b,
    ]; // prettier-ignore
    return [
      ...vec([
        [...leb(4), I32],
        [...leb(5), V128],
      ]),
      ...body,
    ];
  };
  const store = [0xfd, 0x0b, 4, 0]; // v128.store align 16, offset 0
  const int32Min = [0xfd, 0x0c, ...[0, 1, 2, 3].flatMap(() => [0, 0, 0, 0x80])]; // v128.const, four INT32_MIN
  const maxS = [0xfd, ...leb(184)]; // i32x4.max_s
  const geS = [0xfd, ...leb(63)]; // i32x4.ge_s
  const anyTrue = [0xfd, ...leb(83)]; // v128.any_true
  // Loop over rows `r` (local `r`) below `n` (param 1), `out` (param 0) stepping 16 bytes.
  const rowLoop = (r: number, step: number[]): number[] => [
    0x02, 0x40, 0x03, 0x40,
    ...get(r), ...get(1), 0x4f, 0x0d, 1,
    ...step,
    ...get(0), ...i32(16), add, ...set(0),
    ...get(r), ...i32(1), add, ...set(r),
    0x0c, 0, 0x0b, 0x0b,
  ]; // prettier-ignore
  // colmax(out, n, res): res = per-lane maximum of the n rows of sums. Locals: 3 r, 4 max.
  const colmax = [
    ...vec([
      [1, I32],
      [1, V128],
    ]),
    ...int32Min, ...set(4),
    ...rowLoop(3, [...get(4), ...get(0), ...load, ...maxS, ...set(4)]),
    ...get(2), ...get(4), ...store,
    0x0b,
  ]; // prettier-ignore
  // collect(out, n, thr, rows) -> count: the rows with some lane >= that lane of thr, in
  // increasing order, written to rows (int32). Locals: 4 r, 5 count, 6 thresholds.
  const collect = [
    ...vec([
      [2, I32],
      [1, V128],
    ]),
    ...get(2), ...load, ...set(6),
    ...rowLoop(4, [
      ...get(0), ...load, ...get(6), ...geS, ...anyTrue,
      0x04, 0x40, // if
      ...get(3), ...get(5), ...i32(4), mul, add, ...get(4), 0x36, 2, 0, // i32.store
      ...get(5), ...i32(1), add, ...set(5),
      0x0b,
    ]),
    ...get(5),
    0x0b,
  ]; // prettier-ignore
  return new Uint8Array([
    ...[0x00, 0x61, 0x73, 0x6d, 1, 0, 0, 0],
    ...section(
      1,
      vec([
        [0x60, ...vec([[I32], [I32], [I32], [I32], [I32]]), 0],
        [0x60, ...vec([[I32], [I32], [I32]]), 0],
        [0x60, ...vec([[I32], [I32], [I32], [I32]]), ...vec([[I32]])],
      ]),
    ),
    ...section(3, vec([[0], [1], [2], [0]])),
    ...section(5, vec([[0x00, 1]])),
    ...section(
      7,
      vec([
        [...name('dots'), 0x00, 0],
        [...name('colmax'), 0x00, 1],
        [...name('collect'), 0x00, 2],
        [...name('dots2'), 0x00, 3],
        [...name('mem'), 0x02, 0],
      ]),
    ),
    ...section(10, vec([dotsBody(4), colmax, collect, dotsBody(2)].map((c) => [...leb(c.length), ...c]))),
  ]);
}

/** The part of the WebAssembly JS API used here (the project's TypeScript libs do not declare it). */
interface Wasm {
  validate(bytes: Uint8Array): boolean;
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object) => { exports: Record<string, unknown> };
}
const wasm = (globalThis as { WebAssembly?: Wasm }).WebAssembly;

let compiled: object | null | undefined;

/** The compiled module, or null where WebAssembly SIMD is not available. */
function kernelOf(): object | null {
  if (compiled === undefined) {
    const bytes = kernelModule();
    compiled = wasm?.validate(bytes) ? new wasm.Module(bytes) : null;
  }
  return compiled;
}

/**
 * Largest quantised magnitude for vectors of `dim` values: small enough that a dot product of
 * two quantised vectors (at most `dim * range^2` in magnitude, every partial sum included)
 * fits a signed 32-bit integer, and within int16.
 */
export function quantisationRange(dim: number): number {
  return Math.min(32_767, Math.floor(Math.sqrt((2 ** 31 - 1) / dim)));
}

/** Screening scores of up to four queries. */
export interface Screening {
  /**
   * `sums[r * 4 + j]`: the quantised dot product of row r with query j (j below the number of
   * queries; the other lanes hold stale sums), an integer; reused by
   * the next call. Query j's approximate score is `sums[r * 4 + j] * scale[j]`.
   */
  sums: Int32Array;
  /** Per query: the factor from `sums` to an approximate dot product. */
  scale: number[];
  /**
   * Per query: a bound on |approximate - exact dot product| (exact: the real-number sum of the
   * float32 row times the query), for every row, in dot-product units.
   */
  bound: number[];
}

/** The rows that may hold each query's best score, from {@link DotKernel.bestRows}. */
export interface BestRows {
  /** Rows, increasing, whose sum for at least one query is at or above its threshold; reused by the next call. */
  rows: Int32Array;
  /**
   * Per query: the best sum over the rows (its skipped row left out) minus the query's margin,
   * in the sums' units; Infinity when the skipped row was the only row.
   */
  threshold: number[];
}

/** Screening scores of one matrix: its rows quantised and copied once into the kernel's memory. */
export interface DotKernel {
  /** Screens every row against up to four queries (each `dim` long, float32 values). */
  dots4(queries: readonly Float64Array[]): Screening;
  /**
   * After {@link dots4}, for its first `count` queries: the best sum of query j over the rows
   * other than `skips[j]` (-1 or absent: none), and every row within `margins[j]` of it (in the
   * sums' units). A row is returned when it is kept for at least one query; the caller checks
   * `sums[r * 4 + j] >= threshold[j]` and `r !== skips[j]` per query. Overwrites the sums of
   * the skipped rows (they are never candidates).
   */
  bestRows(count: number, skips: readonly number[], margins: readonly number[]): BestRows;
}

/** Float64 L2 norm of `v - w` (`w` null: of `v`). */
function distance(v: ArrayLike<number>, w: ArrayLike<number> | null, from: number, dim: number): number {
  let s = 0;
  for (let d = 0; d < dim; d++) {
    const x = v[from + d]! - (w ? w[d]! : 0);
    s += x * x;
  }
  return Math.sqrt(s);
}

/**
 * A kernel over `n` rows of `dim` floats (`data`, row-major), or null when WebAssembly SIMD is
 * unavailable, `dim` is not a multiple of 8 or is above 4,096, or every value is zero.
 */
export function createDotKernel(data: Float32Array, n: number, dim: number): DotKernel | null {
  const module = kernelOf();
  if (module === null || !wasm || dim % 8 !== 0 || dim === 0 || dim > 4096 || n === 0) return null;
  let maxAbs = 0;
  for (let i = 0; i < n * dim; i++) maxAbs = Math.max(maxAbs, Math.abs(data[i]!));
  if (!(maxAbs > 0) || !Number.isFinite(maxAbs)) return null;
  const range = quantisationRange(dim);
  const rowScale = range / maxAbs;
  const instance = new wasm.Instance(module);
  const mem = instance.exports.mem as { buffer: ArrayBuffer; grow(pages: number): number };
  type Dots = (mat: number, n: number, dim: number, q: number, out: number) => void;
  const dots = instance.exports.dots as Dots;
  const dots2 = instance.exports.dots2 as Dots;
  const colmax = instance.exports.colmax as (out: number, n: number, res: number) => void;
  const collect = instance.exports.collect as (out: number, n: number, thr: number, rows: number) => number;
  const qAt = n * dim * 2;
  const outAt = qAt + 4 * dim * 2;
  const maxAt = outAt + n * 16;
  const thrAt = maxAt + 16;
  const rowsAt = thrAt + 16;
  mem.grow(Math.ceil((rowsAt + n * 4) / 65_536));
  const rows = new Int16Array(mem.buffer, 0, n * dim);
  // Per row, float64: the quantisation error's norm and the dequantised row's norm.
  let maxRowError = 0;
  let maxRowNorm = 0;
  const dequantised = new Float64Array(dim);
  for (let r = 0; r < n; r++) {
    for (let d = 0; d < dim; d++) {
      const v = Math.round(data[r * dim + d]! * rowScale);
      rows[r * dim + d] = v;
      dequantised[d] = v / rowScale;
    }
    maxRowError = Math.max(maxRowError, distance(data, dequantised, r * dim, dim));
    maxRowNorm = Math.max(maxRowNorm, distance(dequantised, null, 0, dim));
  }
  const q = new Int16Array(mem.buffer, qAt, 4 * dim);
  const sums = new Int32Array(mem.buffer, outAt, n * 4);
  const best = new Int32Array(mem.buffer, maxAt, 4);
  const thresholds = new Int32Array(mem.buffer, thrAt, 4);
  const kept = new Int32Array(mem.buffer, rowsAt, n);
  const query = new Float64Array(dim);
  // Float64 rounding of the norms, the bound and the scaled sums: far below this slack.
  const slack = 1e-9;
  return {
    dots4(queries) {
      q.fill(0);
      const scale: number[] = [];
      const bound: number[] = [];
      queries.forEach((v, j) => {
        let max = 0;
        for (let d = 0; d < dim; d++) max = Math.max(max, Math.abs(v[d]!));
        const s = max > 0 ? range / max : 1;
        for (let d = 0; d < dim; d++) {
          const x = Math.round(v[d]! * s);
          q[j * dim + d] = x;
          query[d] = x / s;
        }
        // |q.r - q'.r'| <= |q| |r - r'| + |q - q'| |r'| (Cauchy-Schwarz), primes: dequantised.
        bound.push(distance(v, null, 0, dim) * maxRowError + distance(v, query, 0, dim) * maxRowNorm + slack);
        scale.push(1 / (s * rowScale));
      });
      // Two queries or fewer: the kernel that reads two (lanes 2 and 3 keep stale sums, which
      // bestRows never reads: their thresholds are INT32_MAX, above any sum of dim * range^2).
      (queries.length <= 2 ? dots2 : dots)(0, n, dim, qAt, outAt);
      return { sums, scale, bound };
    },
    bestRows(count, skips, margins) {
      for (let j = 0; j < count; j++) {
        const skip = skips[j] ?? -1;
        if (skip >= 0 && skip < n) sums[skip * 4 + j] = INT32_MIN;
      }
      colmax(outAt, n, maxAt);
      const threshold: number[] = [];
      for (let j = 0; j < 4; j++) {
        // No row other than the skipped one: nothing is kept (every real sum exceeds INT32_MIN).
        const t = j < count && best[j]! > INT32_MIN ? best[j]! - margins[j]! : Infinity;
        if (j < count) threshold.push(t);
        // The integer screen keeps s >= ceil(t), the same rows as s >= t for an integer s.
        thresholds[j] = t === Infinity ? INT32_MAX : Math.max(INT32_MIN + 1, Math.ceil(t));
      }
      return { rows: kept.subarray(0, collect(outAt, n, thrAt, rowsAt)), threshold };
    },
  };
}

const INT32_MIN = -(2 ** 31);
const INT32_MAX = 2 ** 31 - 1;
