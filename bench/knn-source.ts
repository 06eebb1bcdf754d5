/**
 * Invoice embeddings for the duplicate-index benchmark, from a generated benchmark set: base
 * vectors are the invoices that duplicate nothing; queries are the labelled duplicates whose
 * original is in the base, so "true duplicate within the k nearest" is measurable too.
 */
import { readBenchmark } from '../datasets/benchmark/index.js';
import { extractInvoiceFeatures } from '../features/index.js';
import type { KnnQuery } from './knn.js';

/** Base vectors (in file order) and up to `maxQueries` duplicate queries. */
export interface KnnData {
  base: Float32Array[];
  queries: KnnQuery[];
  dim: number;
}

/**
 * Reads every split of the benchmark in `dir` and embeds each invoice.
 * @param maxBase stop after this many base vectors
 */
export async function knnDataFromBenchmark(
  dir: string,
  maxBase: number,
  maxQueries: number,
): Promise<KnnData> {
  const base: Float32Array[] = [];
  const indexOf = new Map<string, number>();
  const pending: { vector: Float32Array; of: string }[] = [];
  for await (const { invoice, label } of readBenchmark(dir)) {
    const v = Float32Array.from(extractInvoiceFeatures(invoice).embedding);
    if (label.duplicate) pending.push({ vector: v, of: label.duplicate.of });
    else if (base.length < maxBase) {
      indexOf.set(invoice.invoice_id, base.length);
      base.push(v);
    }
  }
  const queries: KnnQuery[] = [];
  for (const p of pending) {
    const i = indexOf.get(p.of);
    if (i !== undefined) queries.push({ vector: p.vector, duplicateOf: i });
    if (queries.length >= maxQueries) break;
  }
  return { base, queries, dim: base[0]?.length ?? 0 };
}
