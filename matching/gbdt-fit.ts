/**
 * Fitting of {@link BoostedTrees} for a binary label: logistic loss, second-order (Newton)
 * leaf values with L2 `lambda`, depth-limited trees grown on quantile bins (at most 64 per
 * feature), shrinkage, seeded row subsampling, and monotone constraints enforced as XGBoost
 * does (a split must order its children's values the constrained way, and the children's
 * values are bounded by their midpoint from then on).
 */
import type { BoostedTrees, TreeNode } from './gbdt.js';

/** Settings of {@link fitBoostedTrees}. */
export interface BoostOptions {
  trees: number;
  depth: number;
  learningRate: number;
  /** L2 penalty on leaf values. */
  lambda: number;
  /** Minimum hessian sum in a child. */
  minChildWeight: number;
  /** Share of rows drawn (without replacement) for each tree. */
  subsample: number;
  /** Uniform [0, 1) source for the subsampling. */
  rng: () => number;
}

/** Candidate thresholds per feature: midpoints between distinct quantiles (at most `bins - 1`). */
function thresholdsOf(values: number[], bins: number): number[] {
  const v = values.filter((x) => !Number.isNaN(x)).sort((a, b) => a - b);
  const distinct = [...new Set(v)];
  if (distinct.length <= bins) return distinct.slice(0, -1).map((x, i) => (x + distinct[i + 1]!) / 2);
  const out = new Set<number>();
  for (let k = 1; k < bins; k++) {
    const q = v[Math.floor((k * v.length) / bins)]!;
    const next = v.find((x) => x > q);
    if (next !== undefined) out.add((q + next) / 2);
  }
  return [...out].sort((a, b) => a - b);
}

/**
 * Fits trees to rows `x` (one array per row, NaN = missing) and labels `y` (0/1).
 * @param names input names; `monotone` one constraint per input.
 */
export function fitBoostedTrees(
  x: readonly ArrayLike<number>[],
  y: ArrayLike<number>,
  names: readonly string[],
  monotone: readonly (-1 | 0 | 1)[],
  o: BoostOptions,
): BoostedTrees {
  const n = y.length;
  const d = names.length;
  let pos = 0;
  for (let i = 0; i < n; i++) pos += y[i]!;
  const prior = Math.min(1 - 1e-6, Math.max(1e-6, pos / n));
  const base = Math.log(prior / (1 - prior));
  const thresholds = Array.from({ length: d }, (_, f) =>
    thresholdsOf(
      Array.from(x, (r) => r[f]!),
      64,
    ),
  );
  // bin index per row and feature: number of thresholds below the value (NaN: the last bin)
  const bins = Array.from({ length: d }, (_, f) => {
    const t = thresholds[f]!;
    return Uint8Array.from(x, (r) => {
      const v = r[f]!;
      if (Number.isNaN(v)) return t.length;
      let lo = 0;
      let hi = t.length;
      while (lo < hi) {
        const mid = (lo + hi) >> 1;
        if (v <= t[mid]!) hi = mid;
        else lo = mid + 1;
      }
      return lo;
    });
  });
  const margin = new Float64Array(n).fill(base);
  const g = new Float64Array(n);
  const h = new Float64Array(n);
  const trees: TreeNode[][] = [];
  const leafValue = (sg: number, sh: number, lo: number, hi: number): number =>
    Math.min(hi, Math.max(lo, -sg / (sh + o.lambda)));
  for (let t = 0; t < o.trees; t++) {
    for (let i = 0; i < n; i++) {
      const p = 1 / (1 + Math.exp(-margin[i]!));
      g[i] = p - y[i]!;
      h[i] = Math.max(1e-12, p * (1 - p));
    }
    const rows: number[] = [];
    for (let i = 0; i < n; i++) if (o.rng() < o.subsample) rows.push(i);
    const tree: TreeNode[] = [];
    const grow = (idx: number[], depth: number, lo: number, hi: number): number => {
      const at = tree.length;
      let sg = 0;
      let sh = 0;
      for (const i of idx) {
        sg += g[i]!;
        sh += h[i]!;
      }
      tree.push({ value: leafValue(sg, sh, lo, hi) * o.learningRate });
      if (depth >= o.depth || idx.length < 2) return at;
      const parentGain = (sg * sg) / (sh + o.lambda);
      let best: { f: number; b: number; gain: number; wl: number; wr: number } | null = null;
      for (let f = 0; f < d; f++) {
        const nb = thresholds[f]!.length + 1;
        const hg = new Float64Array(nb);
        const hh = new Float64Array(nb);
        const bf = bins[f]!;
        for (const i of idx) {
          hg[bf[i]!]! += g[i]!;
          hh[bf[i]!]! += h[i]!;
        }
        let lg = 0;
        let lh = 0;
        for (let b = 0; b < nb - 1; b++) {
          lg += hg[b]!;
          lh += hh[b]!;
          const rg = sg - lg;
          const rh = sh - lh;
          if (lh < o.minChildWeight || rh < o.minChildWeight) continue;
          const wl = leafValue(lg, lh, lo, hi);
          const wr = leafValue(rg, rh, lo, hi);
          if ((monotone[f] === 1 && wl > wr) || (monotone[f] === -1 && wl < wr)) continue;
          const gain = (lg * lg) / (lh + o.lambda) + (rg * rg) / (rh + o.lambda) - parentGain;
          if (gain > 1e-9 && (best === null || gain > best.gain)) best = { f, b, gain, wl, wr };
        }
      }
      if (best === null) return at;
      const left: number[] = [];
      const right: number[] = [];
      for (const i of idx) (bins[best.f]![i]! <= best.b ? left : right).push(i);
      const mid = (best.wl + best.wr) / 2;
      const c = monotone[best.f];
      // children of a constrained split stay on their side of the midpoint
      const l = grow(left, depth + 1, c === -1 ? mid : lo, c === 1 ? mid : hi);
      const r = grow(right, depth + 1, c === 1 ? mid : lo, c === -1 ? mid : hi);
      tree[at] = { feature: best.f, threshold: thresholds[best.f]![best.b]!, left: l, right: r };
      return at;
    };
    grow(rows, 0, -Infinity, Infinity);
    trees.push(tree);
    for (let i = 0; i < n; i++) {
      let node = tree[0]!;
      while (!('value' in node))
        node = tree[x[i]![node.feature]! <= node.threshold ? node.left : node.right]!;
      margin[i]! += node.value;
    }
  }
  return { features: [...names], monotone: [...monotone], base, trees };
}
