-- 097_embedding_hnsw_params: a cheaper graph for the invoice embedding index. m = 12 and
-- ef_construction = 40 instead of pgvector's defaults (16, 64) take about half the build CPU
-- (the 1M history import's largest cost); searched with hnsw.ef_search = 80 instead of 40
-- (store/hnsw-search.ts), recall@10 against the exact top 10 stays at least as high
-- (BENCHMARKS.md "History import", "Round 5"). Rebuilds the graph once: minutes at 1M invoices.
DROP INDEX IF EXISTS invoices_embedding_hnsw;
CREATE INDEX invoices_embedding_hnsw ON invoices USING hnsw (embedding vector_cosine_ops) WITH (m = 12, ef_construction = 40);
