-- 111_line_block_collate_c: the text keys the line block's indexes (migration 110) lead with
-- compare bytewise. The database's collation (e.g. `C.UTF-8`, libc) compares text with strcoll,
-- which PostgreSQL does not shortcut the way it does "C": building the two indexes over 10M
-- lines cost the 1M history import about 200 PostgreSQL CPU-seconds (BENCHMARKS.md branches
-- lbindex and collate). With the columns themselves in "C", the `amount` pass's comparisons of
-- them (store/line-block-sql.ts) are in "C" too and still match the indexes; only equality and
-- the vendor-id ranges' `vendor_key <` / `>` split compare these columns, and both give the
-- same rows in any deterministic collation.
-- The vendor-id index keeps only what bounds its two ranges (usually empty: the lines of the
-- vendor id under another vendor key); the statement sorts what they return.
-- Changing a column's collation does not rewrite the table; its indexes are rebuilt.
DROP INDEX IF EXISTS invoice_lines_block_id;

ALTER TABLE invoice_lines
  ALTER COLUMN tenant_id TYPE text COLLATE "C",
  ALTER COLUMN vendor_key TYPE text COLLATE "C",
  ALTER COLUMN vendor_id TYPE text COLLATE "C",
  ALTER COLUMN invoice_id TYPE text COLLATE "C";

CREATE INDEX invoice_lines_block_id ON invoice_lines (tenant_id, vendor_id, amount_cents, vendor_key);
