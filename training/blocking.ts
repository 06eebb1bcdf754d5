/**
 * Candidate pairs for the duplicate model, generated the way the service finds candidates
 * (`store/repository.ts` `findDuplicateCandidates`), so that the pair classifier is trained on
 * the pairs it will see in production:
 *
 * 1. **kNN**: the `k` earlier invoices with the highest cosine of invoice embeddings (the
 *    service's pgvector `ORDER BY embedding <=> q LIMIT k`; exact search here, HNSW there).
 * 2. **Exact keys**: earlier invoices with the same canonical invoice number and the same
 *    vendor key or vendor id, or with the same vendor key, total (cents) and invoice date
 *    (the service's `LIMIT 50`; here the 50 most recent).
 *
 * Each invoice is compared only with invoices submitted **before** it (submission order) and,
 * in training, only within its own benchmark split (`group`), so no pair crosses the
 * train/valid/test boundary. Pure and deterministic: ties go to the earlier invoice.
 */
import type { InvoiceKeys } from './features.js';

/** Options of {@link candidatePairs}. */
export interface BlockingOptions {
  /** Nearest neighbours per invoice (the service's `candidateK`, default 10). */
  k?: number;
  /** Most exact-key candidates per invoice (default 50). */
  exactLimit?: number;
}

/** A candidate pair: `a` is the later invoice, `b` the earlier one (indexes into the input). */
export interface CandidatePair {
  a: number;
  b: number;
  sources: ('knn' | 'exact_key')[];
  /** Cosine of the two invoice embeddings. */
  cosine: number;
}

function dot(x: Float32Array, xo: number, y: Float32Array, yo: number, d: number): number {
  let s = 0;
  for (let i = 0; i < d; i++) s += x[xo + i]! * y[yo + i]!;
  return s;
}

/**
 * Candidate pairs of invoices given in submission order.
 * @param keys blocking keys per invoice, in submission order.
 * @param group the group (split) of each invoice; pairs stay within a group.
 * @returns pairs sorted by `a`, then `b`.
 */
export function candidatePairs(
  keys: readonly InvoiceKeys[],
  group: readonly string[],
  o: BlockingOptions = {},
): CandidatePair[] {
  const k = o.k ?? 10;
  const exactLimit = o.exactLimit ?? 50;
  const n = keys.length;
  const d = n > 0 ? keys[0]!.embedding.length : 0;
  const emb = new Float32Array(n * d);
  keys.forEach((kk, i) => emb.set(Array.from(kk.embedding), i * d));
  // per group: earlier invoice indexes, and exact-key indexes
  const earlier = new Map<string, number[]>();
  const byNumber = new Map<string, number[]>();
  const byVendorTotalDate = new Map<string, number[]>();
  const out: CandidatePair[] = [];
  for (let a = 0; a < n; a++) {
    const ka = keys[a]!;
    const g = group[a]!;
    const pool = earlier.get(g) ?? [];
    const found = new Map<number, CandidatePair>();
    // kNN: top k by cosine, ties to the earlier invoice
    const top: { b: number; c: number }[] = [];
    for (const b of pool) {
      const c = dot(emb, a * d, emb, b * d, d);
      if (top.length < k || c > top[top.length - 1]!.c) {
        let pos = top.length;
        while (pos > 0 && top[pos - 1]!.c < c) pos--;
        top.splice(pos, 0, { b, c });
        if (top.length > k) top.pop();
      }
    }
    for (const { b, c } of top) found.set(b, { a, b, sources: ['knn'], cosine: c });
    // exact keys
    const numberKey = `${g}|${ka.invoiceNumberCanonical}`;
    const vtdKey = `${g}|${ka.vendorKey}|${ka.totalCents}|${ka.invoiceDate}`;
    const exact = new Set<number>();
    for (const b of byNumber.get(numberKey) ?? []) {
      const kb = keys[b]!;
      if (kb.vendorKey === ka.vendorKey || kb.vendorId === ka.vendorId) exact.add(b);
    }
    for (const b of byVendorTotalDate.get(vtdKey) ?? []) exact.add(b);
    const recent = [...exact].sort((x, y) => y - x).slice(0, exactLimit);
    for (const b of recent) {
      const hit = found.get(b);
      if (hit) hit.sources.push('exact_key');
      else found.set(b, { a, b, sources: ['exact_key'], cosine: dot(emb, a * d, emb, b * d, d) });
    }
    out.push(...[...found.values()].sort((x, y) => x.b - y.b));
    // index a for later invoices
    pool.push(a);
    earlier.set(g, pool);
    for (const [map, key] of [
      [byNumber, numberKey],
      [byVendorTotalDate, vtdKey],
    ] as const) {
      const list = map.get(key) ?? [];
      list.push(a);
      map.set(key, list);
    }
  }
  return out;
}
