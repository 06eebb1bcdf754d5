-- 011: drop the HNSW index on invoice_lines.embedding. No query searches line embeddings (the
-- duplicate search uses the invoice embedding; reviews read line embeddings by invoice key), and
-- maintaining the index cost every scored invoice one HNSW insert per line: dropping it made
-- scoring 10-line invoices on PGlite about 24% faster (151 -> 115 ms per invoice, loaded machine).
-- The embeddings themselves stay stored; add the index back with the feature that needs it.
DROP INDEX IF EXISTS invoice_lines_embedding_hnsw;
