-- 114_vendor_id_keys: the vendor keys each vendor id's invoices carry, by index. The line block's
-- `amount` pass (store/line-block-sql.ts) reads the lines of the new invoice's vendor id under
-- another vendor key (name variants, usually none) in two ranges of `invoice_lines_block_id` per
-- probe line, about 60 of its 211 buffers per 10-line invoice at 100k invoices, nearly always for
-- no row (BENCHMARKS.md, branch flat5). With this index it asks once per invoice whether the
-- vendor id has invoices under another key at all, and reads those ranges only when it has. An
-- invoice's vendor never changes once stored and its lines copy it (migration 110), so no line
-- is under a (vendor id, key) pair that no invoice is. Equal keys share one posting list
-- (btree deduplication): the index holds little more than each invoice's row pointer.
CREATE INDEX invoices_vendor_id_keys ON invoices (tenant_id, vendor_id, vendor_key);
