/**
 * Retrieval-recall measurement: exact nearest neighbours by cosine over unit vectors, recall@k
 * of a query set against a corpus, and the Amazon-Google query/truth construction used by
 * `npm run recall`.
 */
import type { AmazonGoogle, DeepMatcherPair } from '../../datasets/er/amazon-google.js';
import { resolvePairs, titleKey } from '../../datasets/er/amazon-google.js';
import { toMatrix, topKRows, type VectorMatrix } from '../../features/knn.js';

export { toMatrix, type VectorMatrix };

/** Indexes of the `k` corpus rows nearest to `q` by cosine (unit vectors), best first. */
export function topK(corpus: VectorMatrix, q: ArrayLike<number>, k: number): number[] {
  return topKRows(corpus, q, k).rows;
}

/** One retrieval query: its vector and the corpus rows that count as a hit. */
export interface RetrievalQuery {
  vector: ArrayLike<number>;
  truth: ReadonlySet<number>;
}

/**
 * Recall@k for each k: the share of queries with at least one true row among the k nearest.
 * @returns map k -> recall in [0, 1].
 */
export function recallAtK(
  corpus: VectorMatrix,
  queries: readonly RetrievalQuery[],
  ks: readonly number[],
): Map<number, number> {
  const kmax = Math.max(...ks);
  const hits = new Map(ks.map((k) => [k, 0]));
  for (const q of queries) {
    const top = topK(corpus, q.vector, kmax);
    const rank = top.findIndex((r) => q.truth.has(r));
    if (rank < 0) continue;
    for (const k of ks) if (rank < k) hits.set(k, hits.get(k)! + 1);
  }
  return new Map(ks.map((k) => [k, queries.length === 0 ? 0 : hits.get(k)! / queries.length]));
}

/** Amazon-Google queries: an Amazon record index and the Google record indexes that match it. */
export interface AgQuery {
  amazon: number;
  google: ReadonlySet<number>;
}

/**
 * Queries of a DeepMatcher split: one per distinct left (Amazon) title among the split's
 * matching pairs, the query record being the first Amazon record with that title; its truth is
 * every Google record whose title equals the right title of one of those matching pairs.
 */
export function deepMatcherQueries(ag: AmazonGoogle, pairs: readonly DeepMatcherPair[]): AgQuery[] {
  const positives = pairs.filter((p) => p.label === 1);
  const resolved = resolvePairs(ag, positives);
  const byLeft = new Map<string, AgQuery & { google: Set<number> }>();
  for (const p of positives) {
    const r = resolved.get(p.pairId)!;
    if (r.amazon.length === 0 || r.google.length === 0) continue;
    const key = titleKey(p.left.title);
    let q = byLeft.get(key);
    if (!q) {
      q = { amazon: r.amazon[0]!, google: new Set() };
      byLeft.set(key, q);
    }
    for (const g of r.google) q.google.add(g);
  }
  return [...byLeft.values()];
}

/** Queries of the whole Leipzig perfect mapping: one per Amazon record that has a match. */
export function perfectMappingQueries(ag: AmazonGoogle): AgQuery[] {
  const a = new Map(ag.amazon.map((r, i) => [r.id, i]));
  const g = new Map(ag.google.map((r, i) => [r.id, i]));
  const out = new Map<number, Set<number>>();
  for (const m of ag.perfectMapping) {
    const ai = a.get(m.amazonId);
    const gi = g.get(m.googleId);
    if (ai === undefined || gi === undefined) continue;
    out.set(ai, (out.get(ai) ?? new Set()).add(gi));
  }
  return [...out].map(([amazon, google]) => ({ amazon, google }));
}
