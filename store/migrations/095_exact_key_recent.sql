-- 095_exact_key_recent: the exact-key block of the candidate search keeps the 50 most recently
-- stored matches of each rule (store/candidates.ts). Its vendor + total + date rule matched 1,429
-- invoices at 1M indexed invoices of the generated history (same vendor, total and day), each read
-- from its heap page to sort them by created_at (BENCHMARKS.md "Store cost at 0, 100k and 1M,
-- alternated"). With created_at and the key at the end of the rule's index the 50 newest are the
-- last 50 entries of the index range: an ordered index scan that stops after 50 rows.
DROP INDEX invoices_vendor_total_date;
CREATE INDEX invoices_vendor_total_date ON invoices (tenant_id, vendor_key, total_cents, invoice_date, created_at, pk);
