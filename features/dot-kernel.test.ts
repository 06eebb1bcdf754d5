import { describe, expect, it } from 'vitest';
import { createDotKernel, quantisationRange } from './dot-kernel.js';

function rng(seed: number): () => number {
  let x = seed;
  return () => {
    x = (x * 1103515245 + 12345) % 2147483648;
    return x / 2147483648 - 0.5;
  };
}

describe('createDotKernel', () => {
  it('screens every row within its stated error bound of the exact dot product', () => {
    const rand = rng(11);
    const dim = 128;
    const n = 300;
    const data = new Float32Array(n * dim).map(() => rand());
    // One row with the largest value alone, one all zeros, one tiny.
    data[5 * dim + 3] = 4;
    data.fill(0, 7 * dim, 8 * dim);
    for (let d = 0; d < dim; d++) data[9 * dim + d] = rand() * 1e-6;
    const kernel = createDotKernel(data, n, dim);
    expect(kernel).not.toBeNull();
    const queries = [
      Float64Array.from({ length: dim }, () => Math.fround(rand())),
      Float64Array.from({ length: dim }, (_, d) => (d === 0 ? 1 : 0)),
      new Float64Array(dim),
    ];
    const { sums, scale, bound } = kernel!.dots4(queries);
    let worst = 0;
    queries.forEach((q, j) => {
      expect(bound[j]).toBeGreaterThan(0);
      expect(bound[j]).toBeLessThan(0.05);
      for (let r = 0; r < n; r++) {
        let exact = 0;
        for (let d = 0; d < dim; d++) exact += data[r * dim + d]! * q[d]!;
        const error = Math.abs(sums[r * 4 + j]! * scale[j]! - exact);
        expect(error).toBeLessThanOrEqual(bound[j]!);
        worst = Math.max(worst, error / bound[j]!);
      }
    });
    // The bound is not vacuous: some row uses a good part of it.
    expect(worst).toBeGreaterThan(0.01);
  });

  it('finds each query’s best sum with its row left out and every row within the margin', () => {
    const rand = rng(23);
    const dim = 16;
    for (const [n, count] of [
      [40, 4],
      [40, 3],
      [40, 2],
      [1, 1],
      [2, 2],
    ] as const) {
      const data = new Float32Array(n * dim).map(() => rand());
      const kernel = createDotKernel(data, n, dim)!;
      const queries = Array.from({ length: count }, () =>
        Float64Array.from({ length: dim }, () => Math.fround(rand())),
      );
      const { sums } = kernel.dots4(queries);
      const before = Int32Array.from(sums);
      // Query 0 skips its own best row, so its best is another row's; wide and zero margins.
      let argmax = 0;
      for (let r = 1; r < n; r++) if (before[r * 4]! > before[argmax * 4]!) argmax = r;
      const skips = [argmax, -1, n - 1, 0].slice(0, count);
      const margins = [5_000_000, 0, 1e9, 123.5].slice(0, count);
      const { rows, threshold } = kernel.bestRows(count, skips, margins);
      const expected = new Set<number>();
      for (let j = 0; j < count; j++) {
        let best = -Infinity;
        for (let r = 0; r < n; r++) if (r !== skips[j]) best = Math.max(best, before[r * 4 + j]!);
        // The skipped row alone: no threshold any row can reach.
        expect(threshold[j]).toBe(best === -Infinity ? Infinity : best - margins[j]!);
        for (let r = 0; r < n; r++)
          if (r !== skips[j] && before[r * 4 + j]! >= best - margins[j]!) expected.add(r);
      }
      // Every kept row is returned once, in increasing order; rows kept for no query are not.
      expect([...rows]).toEqual([...expected].sort((a, b) => a - b));
    }
  });

  it('screens two queries with the two-query kernel as the four-query one does, stale lanes unread', () => {
    const rand = rng(31);
    const dim = 32;
    const n = 50;
    const data = new Float32Array(n * dim).map(() => rand());
    const four = Array.from({ length: 4 }, () =>
      Float64Array.from({ length: dim }, () => Math.fround(rand())),
    );
    const two = four.slice(0, 2);
    const reused = createDotKernel(data, n, dim)!;
    const fourSums = Int32Array.from(reused.dots4(four).sums);
    // The same kernel, now with two queries: lanes 2 and 3 keep the last call's sums.
    const { sums } = reused.dots4(two);
    for (let r = 0; r < n; r++) {
      expect([sums[r * 4], sums[r * 4 + 1]]).toEqual([fourSums[r * 4], fourSums[r * 4 + 1]]);
      expect([sums[r * 4 + 2], sums[r * 4 + 3]]).toEqual([fourSums[r * 4 + 2], fourSums[r * 4 + 3]]);
    }
    const fresh = createDotKernel(data, n, dim)!;
    fresh.dots4(two);
    const margins = [3_000_000, 3_000_000];
    const got = reused.bestRows(2, [4, -1], margins);
    const want = fresh.bestRows(2, [4, -1], margins);
    expect(got.threshold).toEqual(want.threshold);
    expect(Array.from(got.rows)).toEqual(Array.from(want.rows));
  });

  it('keeps every quantised dot product inside a 32-bit integer', () => {
    for (const dim of [8, 128, 512, 4096]) {
      const r = quantisationRange(dim);
      expect(r).toBeLessThanOrEqual(32_767);
      expect(dim * r * r).toBeLessThanOrEqual(2 ** 31 - 1);
    }
  });

  it('declines dimensions it does not take and all-zero matrices', () => {
    expect(createDotKernel(new Float32Array(12), 2, 6)).toBeNull();
    expect(createDotKernel(new Float32Array(16), 2, 8)).toBeNull();
  });
});
