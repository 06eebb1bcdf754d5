/**
 * Gradient-boosted regression trees as JSON, and their forward pass: the second stage of the
 * line matcher. A tree is a flat node list; node 0 is the root; an internal node sends `x` left
 * when `x[feature] <= threshold` (a missing value, NaN, goes right). The margin is
 * `base + Σ_trees leaf value`, a logit.
 */
import Type, { type Static } from 'typebox';

/** One node: internal (`feature`, `threshold`, `left`, `right`) or leaf (`value`). */
export const TreeNode = Type.Union([
  Type.Object(
    {
      feature: Type.Integer({ minimum: 0 }),
      threshold: Type.Number(),
      left: Type.Integer(),
      right: Type.Integer(),
    },
    { additionalProperties: false },
  ),
  Type.Object({ value: Type.Number() }, { additionalProperties: false }),
]);
export type TreeNode = Static<typeof TreeNode>;

/** A boosted ensemble. */
export const BoostedTrees = Type.Object(
  {
    /** Input names, in order. */
    features: Type.Array(Type.String()),
    /** Monotone constraint per input: +1 non-decreasing, -1 non-increasing, 0 none. */
    monotone: Type.Array(Type.Integer({ minimum: -1, maximum: 1 })),
    base: Type.Number(),
    trees: Type.Array(Type.Array(TreeNode)),
  },
  { additionalProperties: false },
);
export type BoostedTrees = Static<typeof BoostedTrees>;

/** The margin (logit) of an input row. */
export function treesMargin(m: BoostedTrees, x: ArrayLike<number>): number {
  let s = m.base;
  for (const tree of m.trees) {
    let node = tree[0]!;
    while (!('value' in node)) node = tree[x[node.feature]! <= node.threshold ? node.left : node.right]!;
    s += node.value;
  }
  return s;
}

/**
 * Checks that every tree is well formed (children inside the list and after their parent,
 * features inside the input).
 * @returns the first problem, or null.
 */
export function treesProblem(m: BoostedTrees): string | null {
  if (m.monotone.length !== m.features.length) return 'monotone needs one entry per feature';
  for (const [t, tree] of m.trees.entries()) {
    if (tree.length === 0) return `tree ${t} is empty`;
    for (const [i, n] of tree.entries()) {
      if ('value' in n) continue;
      if (n.feature >= m.features.length) return `tree ${t} node ${i} reads feature ${n.feature}`;
      if (!(n.left > i && n.left < tree.length && n.right > i && n.right < tree.length))
        return `tree ${t} node ${i} has children outside the tree`;
    }
  }
  return null;
}
