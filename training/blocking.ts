/**
 * Candidate pairs for the duplicate model: {@link BLOCKING_SPEC} (core/blocking.ts) evaluated in
 * memory, the same spec the service renders to SQL (`store/candidates.ts`), so that the pair
 * classifier is trained on the pairs it will see in production (tenant-wide kNN, vendor kNN
 * within the date window among the vendor's invoices dated nearest, exact keys including the
 * credit-memo rule).
 *
 * Each invoice is compared only with invoices submitted **before** it (submission order) and,
 * in training, only within its own benchmark split (`group`), so no pair crosses the
 * train/valid/test boundary. Pure and deterministic: kNN ties go to the earlier invoice (the
 * service breaks them by primary key, which is the submission order in the parity test).
 */
import { BLOCKING_SPEC, exactKeyMatches, vendorRecentPool, type BlockingSpec } from '../core/blocking.js';
import type { InvoiceKeys } from './features.js';

/** Options of {@link candidatePairs}: overrides of {@link BLOCKING_SPEC}. */
export interface BlockingOptions {
  /** Nearest neighbours per kNN search (the service's `candidateK`, default the spec's). */
  k?: number;
  /** Most exact-key candidates per invoice (default the spec's). */
  exactLimit?: number;
  /** The whole spec (default {@link BLOCKING_SPEC}); `k` and `exactLimit` above override it. */
  spec?: BlockingSpec;
}

/** How a pair was found, as the service's candidate sources. */
export type PairSource = 'knn' | 'vendor_knn' | 'exact_key';

/** A candidate pair: `a` is the later invoice, `b` the earlier one (indexes into the input). */
export interface CandidatePair {
  a: number;
  b: number;
  sources: PairSource[];
  /** Cosine of the two invoice embeddings. */
  cosine: number;
}

function dot(x: Float32Array, xo: number, y: Float32Array, yo: number, d: number): number {
  let s = 0;
  for (let i = 0; i < d; i++) s += x[xo + i]! * y[yo + i]!;
  return s;
}

/** Inserts (b, c) into `top`, kept sorted by cosine descending, at most k long; ties keep the earlier b first. */
function offer(top: { b: number; c: number }[], k: number, b: number, c: number): void {
  if (top.length >= k && !(c > top[top.length - 1]!.c)) return;
  let pos = top.length;
  while (pos > 0 && top[pos - 1]!.c < c) pos--;
  top.splice(pos, 0, { b, c });
  if (top.length > k) top.pop();
}

/**
 * Candidate pairs of invoices given in submission order.
 * @param keys blocking keys per invoice, in submission order.
 * @param group the group (split) of each invoice; pairs stay within a group.
 * @returns pairs sorted by `a`, then `b`.
 * @throws Error when an exact-key rule of the spec compares neither the number nor the total.
 */
export function candidatePairs(
  keys: readonly InvoiceKeys[],
  group: readonly string[],
  o: BlockingOptions = {},
): CandidatePair[] {
  const spec = o.spec ?? BLOCKING_SPEC;
  const k = o.k ?? spec.k;
  const exactLimit = o.exactLimit ?? spec.exactLimit;
  const unindexed = spec.exactKeys.find((r) => !r.total && !r.equal.includes('invoiceNumberCanonical'));
  if (unindexed)
    throw new Error(`exact-key rule ${unindexed.name} compares neither the number nor the total`);
  const n = keys.length;
  const d = n > 0 ? keys[0]!.embedding.length : 0;
  const emb = new Float32Array(n * d);
  keys.forEach((kk, i) => emb.set(Array.from(kk.embedding), i * d));
  // Earlier invoices per group, and per group and number or total magnitude for the exact-key
  // rules (every rule compares the number or the total, so these narrow the scan).
  const earlier = new Map<string, number[]>();
  const byNumber = new Map<string, number[]>();
  const byTotal = new Map<string, number[]>();
  const out: CandidatePair[] = [];
  // cosine of the current invoice with each earlier one (slot b valid for b in the pool)
  const cosine = new Float64Array(n);
  for (let a = 0; a < n; a++) {
    const ka = keys[a]!;
    const g = group[a]!;
    const pool = earlier.get(g) ?? [];
    const found = new Map<number, CandidatePair>();
    const add = (b: number, source: PairSource, c: number): void => {
      const hit = found.get(b);
      if (!hit) found.set(b, { a, b, sources: [source], cosine: c });
      else if (!hit.sources.includes(source)) hit.sources.push(source);
    };
    const top: { b: number; c: number }[] = [];
    const vendorTop: { b: number; c: number }[] = [];
    for (const b of pool) {
      cosine[b] = dot(emb, a * d, emb, b * d, d);
      offer(top, k, b, cosine[b]!);
    }
    for (const b of vendorRecentPool(spec, ka, pool, keys).sort((x, y) => x - y))
      offer(vendorTop, k, b, cosine[b]!);
    for (const { b, c } of top) add(b, 'knn', c);
    for (const { b, c } of vendorTop) add(b, 'vendor_knn', c);
    const numberKey = `${g}|${ka.invoiceNumberCanonical}`;
    const totalKey = `${g}|${Math.abs(ka.totalCents)}`;
    const exact = new Set<number>();
    for (const b of [...(byNumber.get(numberKey) ?? []), ...(byTotal.get(totalKey) ?? [])])
      if (spec.exactKeys.some((r) => exactKeyMatches(r, ka, keys[b]!))) exact.add(b);
    for (const b of [...exact].sort((x, y) => y - x).slice(0, exactLimit))
      add(b, 'exact_key', found.get(b)?.cosine ?? dot(emb, a * d, emb, b * d, d));
    out.push(...[...found.values()].sort((x, y) => x.b - y.b));
    pool.push(a);
    earlier.set(g, pool);
    for (const [map, key] of [
      [byNumber, numberKey],
      [byTotal, totalKey],
    ] as const) {
      const list = map.get(key) ?? [];
      list.push(a);
      map.set(key, list);
    }
  }
  return out;
}
