-- 094_vendor_window_covering: the vendor kNN of the candidate search (store/candidates.ts) reads
-- every invoice of the vendor within the date window to rank it by embedding distance. Through
-- the plain (tenant, vendor, date) indexes that was one heap page per invoice: at 1M indexed
-- invoices with 20,000 per vendor in the window, 20,009 heap pages and 536 ms of a 595 ms search
-- (BENCHMARKS.md "Store cost at 0, 100k and 1M, alternated"). With the invoice's key and
-- embedding in the index the search reads the window from the index alone (an index-only scan
-- where the visibility map allows: about 1,800 index pages for 20,000 invoices). Same rows,
-- same order; the indexes are larger (661 and 657 MB at 1M invoices instead of 11 MB each).
DROP INDEX invoices_tenant_vendor_key;
CREATE INDEX invoices_tenant_vendor_key ON invoices (tenant_id, vendor_key, invoice_date) INCLUDE (pk, embedding);
DROP INDEX invoices_tenant_vendor_id;
CREATE INDEX invoices_tenant_vendor_id ON invoices (tenant_id, vendor_id, invoice_date) INCLUDE (pk, embedding);
