-- 100_vendor_id_slim: the vendor block of the candidate search (store/candidates.ts) matches the
-- vendor by its key or by its id, and 096 gave both indexes the invoice's embedding, so a vendor
-- whose key and id name the same invoices (the usual case) had every one of them read twice, from
-- two indexes of the same size (659 MB each at 1M invoices, neither fitting the buffer cache).
-- The search now takes the distances from the key index only: the id's index keeps the keys that
-- order the bound (tenant, vendor id, date, pk) and no embedding, and the embedding of an invoice
-- that only the id finds is read from its row. Same rows, same order, same distances.
-- Built under a new name before the old index is dropped: the build (0.73 s at 100k invoices)
-- holds only a SHARE lock, so scoring reads go on while writes wait for it; the DROP's ACCESS
-- EXCLUSIVE lock is then held only for the rest of this short transaction.
CREATE INDEX invoices_vendor_id_recent ON invoices (tenant_id, vendor_id, invoice_date, pk);
DROP INDEX invoices_tenant_vendor_id;
