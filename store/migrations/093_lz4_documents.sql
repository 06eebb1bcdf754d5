-- 093: the large JSON documents written with every scored invoice (the decision response, about
-- 37 KB for a ten-line invoice with many reasons, its stored explanation inputs, about 20 KB, and
-- the invoice payload) are compressed with LZ4 instead of the default pglz. pglz took about
-- 2.6 ms of PostgreSQL CPU per 37 KB response, LZ4 about 0.5 ms, and stores it smaller (1,000
-- responses: 24 MB pglz, 17 MB LZ4; loaded machine, psql). Rows already stored keep pglz and are
-- read as before. Engines built without LZ4 (PGlite) keep the default.
DO $$
BEGIN
  ALTER TABLE decisions ALTER COLUMN response SET COMPRESSION lz4, ALTER COLUMN explanation SET COMPRESSION lz4;
  ALTER TABLE invoices ALTER COLUMN payload SET COMPRESSION lz4;
  ALTER TABLE batch_items ALTER COLUMN payload SET COMPRESSION lz4;
EXCEPTION WHEN feature_not_supported THEN
  NULL;
END $$;
