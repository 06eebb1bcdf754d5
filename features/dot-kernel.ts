/**
 * A float32 SIMD kernel (WebAssembly, 128-bit lanes) for the dot products of every row of a
 * matrix with four queries at once: the screening pass of the exact nearest-row search in
 * ./knn.ts. Each row is read once per four queries; each dot product is summed in float32 in
 * four lanes, so it differs from the exact float64 sum by at most
 * {@link kernelErrorBound} `(dim) * |row| * |query|`; ./knn.ts re-scores the rows that could
 * be in the top k exactly.
 *
 * The module (427 bytes) is assembled below from its instructions, so there is no binary
 * artefact and nothing to download; it runs where WebAssembly SIMD does (Node.js 16.4+).
 */

/**
 * Bound on |kernel score - exact score| / (|row| |query|) for vectors of `dim` floats: each
 * lane sums dim / 4 rounded products, then three additions join the lanes, each step off by at
 * most 2^-24 relative (Higham's gamma bound), doubled for safety.
 */
export function kernelErrorBound(dim: number): number {
  return 2 * (dim / 4 + 4) * 2 ** -24;
}

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

/** The module: `dots(mat, n, dim, q, out)` and its memory `mem` (pointers are byte offsets). */
function kernelModule(): Uint8Array {
  const I32 = 0x7f;
  const V128 = 0x7b;
  const get = (i: number): number[] => [0x20, i];
  const set = (i: number): number[] => [0x21, i];
  const tee = (i: number): number[] => [0x22, i];
  const i32 = (n: number): number[] => [0x41, ...leb(n)]; // n < 64: its signed LEB equals the unsigned one
  const add = 0x6a;
  const mul = 0x6c;
  const load = [0xfd, 0x00, 4, 0]; // v128.load align 16, offset 0
  const f32x4Add = [0xfd, ...leb(228)];
  const f32x4Mul = [0xfd, ...leb(230)];
  const lane = (l: number): number[] => [0xfd, 0x1f, l]; // f32x4.extract_lane
  const f32Add = 0x92;
  // Params: 0 mat, 1 n (rows), 2 dim (floats, a multiple of 4), 3 q (4 queries of dim floats,
  // contiguous), 4 out (n x 4 floats, row-major). Locals: 5 r, 6 row pointer, 7 byte offset in
  // the row, 8 row stride in bytes, 9..12 the four accumulators, 13 the row's four floats.
  const accs = [9, 10, 11, 12];
  const laneSum = (a: number): number[] => [
    ...get(a),
    ...lane(0),
    ...get(a),
    ...lane(1),
    f32Add,
    ...get(a),
    ...lane(2),
    ...get(a),
    ...lane(3),
    f32Add,
    f32Add,
  ];
  const body = [
    ...get(2), ...i32(4), mul, ...set(8),
    ...get(0), ...set(6),
    0x02, 0x40, 0x03, 0x40, // block, loop over rows
    ...get(5), ...get(1), 0x4f, 0x0d, 1, // r >= n: out of the block
    ...accs.flatMap((a) => [0xfd, 0x0c, ...new Array<number>(16).fill(0), ...set(a)]),
    ...i32(0), ...set(7),
    0x03, 0x40, // loop over the row, four floats at a time
    ...get(6), ...get(7), add, ...load, ...set(13),
    ...accs.flatMap((a, j) => [
      ...get(a), ...get(13),
      ...get(3), ...get(7), add, ...(j > 0 ? [...get(8), ...i32(j), mul, add] : []), ...load,
      ...f32x4Mul, ...f32x4Add, ...set(a),
    ]),
    ...get(7), ...i32(16), add, ...tee(7), ...get(8), 0x49, 0x0d, 0, // offset < stride: again
    0x0b,
    ...accs.flatMap((a, j) => [...get(4), ...laneSum(a), 0x38, 2, ...leb(j * 4)]), // f32.store
    ...get(4), ...i32(16), add, ...set(4),
    ...get(6), ...get(8), add, ...set(6),
    ...get(5), ...i32(1), add, ...set(5),
    0x0c, 0, // next row
    0x0b, 0x0b, 0x0b,
  ]; // prettier-ignore
  const code = [
    ...vec([
      [...leb(4), I32],
      [...leb(5), V128],
    ]),
    ...body,
  ];
  return new Uint8Array([
    ...[0x00, 0x61, 0x73, 0x6d, 1, 0, 0, 0],
    ...section(1, vec([[0x60, ...vec([[I32], [I32], [I32], [I32], [I32]]), 0]])),
    ...section(3, vec([[0]])),
    ...section(5, vec([[0x00, 1]])),
    ...section(
      7,
      vec([
        [...name('dots'), 0x00, 0],
        [...name('mem'), 0x02, 0],
      ]),
    ),
    ...section(10, vec([[...leb(code.length), ...code]])),
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

/** Screening scores of one matrix: its rows copied once into the kernel's memory. */
export interface DotKernel {
  /**
   * Float32 dot products of every row with up to four queries (each `dim` long):
   * `out[r * 4 + j]` for query j. The returned array is reused by the next call.
   */
  dots4(queries: readonly Float64Array[]): Float32Array;
}

/**
 * A kernel over `n` rows of `dim` floats (`data`, row-major), or null when WebAssembly SIMD is
 * unavailable, `dim` is not a multiple of 4 or is above 4,096.
 */
export function createDotKernel(data: Float32Array, n: number, dim: number): DotKernel | null {
  const module = kernelOf();
  if (module === null || !wasm || dim % 4 !== 0 || dim === 0 || dim > 4096 || n === 0) return null;
  const instance = new wasm.Instance(module);
  const mem = instance.exports.mem as { buffer: ArrayBuffer; grow(pages: number): number };
  const dots = instance.exports.dots as (mat: number, n: number, dim: number, q: number, out: number) => void;
  const qAt = n * dim * 4;
  const outAt = qAt + 4 * dim * 4;
  const bytes = outAt + n * 16;
  mem.grow(Math.ceil(bytes / 65_536));
  new Float32Array(mem.buffer, 0, n * dim).set(data.subarray(0, n * dim));
  const q = new Float32Array(mem.buffer, qAt, 4 * dim);
  const out = new Float32Array(mem.buffer, outAt, n * 4);
  return {
    dots4(queries) {
      q.fill(0);
      queries.forEach((v, j) => q.set(v, j * dim));
      dots(0, n, dim, qAt, outAt);
      return out;
    },
  };
}
