-- 096_vendor_window_pk_order: the vendor block of the candidate search (store/candidates.ts) reads
-- the vendor's `vendorRecentLimit` invoices dated nearest to the new one, ties on a date in the
-- order of the primary key (core/blocking.ts compareVendorRecent). With 094's keys ending at the
-- date, each of its four scans had to read and sort every invoice of the last date it reached
-- before it could stop: at 1M indexed invoices of the generated history (about 714 invoices per
-- vendor and day) about 1,430 index rows per scan for a bound of 300 (BENCHMARKS.md "Bounded
-- vendor block at 0 and 1M, alternated"). With pk in the key the index order is the tie rule's
-- order and each scan stops after the bound. Same columns, so the scans stay index-only.
DROP INDEX invoices_tenant_vendor_key;
CREATE INDEX invoices_tenant_vendor_key ON invoices (tenant_id, vendor_key, invoice_date, pk) INCLUDE (embedding);
DROP INDEX invoices_tenant_vendor_id;
CREATE INDEX invoices_tenant_vendor_id ON invoices (tenant_id, vendor_id, invoice_date, pk) INCLUDE (embedding);
