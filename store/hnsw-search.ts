/**
 * Session settings of the HNSW searches, one declaration for both engines (store/postgres.ts
 * sets them on every pooled connection, store/pglite.ts on its one session).
 *
 * - `hnsw.iterative_scan = strict_order` (pgvector >= 0.8): the tenant-filtered search keeps
 *   scanning the index until k rows of the tenant are found, in distance order (older versions
 *   ignore it with a warning; store/candidates.ts then falls back to an exact scan).
 * - `hnsw.ef_search` ({@link HNSW_EF_SEARCH}): the size of the search's candidate list.
 */

/**
 * `hnsw.ef_search` of the candidate search. 80 goes with the graph of migration 097
 * (m = 12, ef_construction = 40): recall@10 against the exact top 10 of 0.978 at 100k invoice
 * embeddings, against 0.977 for pgvector's defaults (m = 16, ef_construction = 64, ef_search 40)
 * in the same run, for about half the build CPU (BENCHMARKS.md "Round 5").
 */
export const HNSW_EF_SEARCH = 80;

/** The settings, as `name -> value`. */
export const HNSW_SESSION_SETTINGS: Readonly<Record<string, string>> = Object.freeze({
  'hnsw.iterative_scan': 'strict_order',
  'hnsw.ef_search': String(HNSW_EF_SEARCH),
});
