-- 110_line_block_keys: each stored line carries its invoice's tenant, vendor key, vendor id, date
-- and client id, so the line block (store/line-rebills.ts, pass `amount`) reads a new line's
-- earlier lines of the same amount through an index in the spec's order (later date, then
-- invoice id, then line number) and stops at the spec's `perLine`: its cost follows the lines it
-- keeps, not the vendor's history (the first pass over the vendor's 128 most recent invoices read
-- about 1,300 lines per new invoice at 100k; BENCHMARKS.md branch lbindex). The vendor-id index
-- leads with the vendor key after the amount, so that the lines of the vendor id under another
-- key (name variants, usually none) are two ranges read apart from the key's own.
-- An invoice's vendor, date and id never change once stored (migration 104's key repair aside,
-- which ran before these columns existed), so the copies cannot go stale.
ALTER TABLE invoice_lines
  ADD COLUMN tenant_id text,
  ADD COLUMN vendor_key text,
  ADD COLUMN vendor_id text,
  ADD COLUMN invoice_date date,
  ADD COLUMN invoice_id text;

UPDATE invoice_lines l
   SET tenant_id = i.tenant_id, vendor_key = i.vendor_key, vendor_id = i.vendor_id, invoice_date = i.invoice_date,
       invoice_id = i.invoice_id
  FROM invoices i
 WHERE i.pk = l.invoice_pk;

ALTER TABLE invoice_lines
  ALTER COLUMN tenant_id SET NOT NULL,
  ALTER COLUMN vendor_key SET NOT NULL,
  ALTER COLUMN vendor_id SET NOT NULL,
  ALTER COLUMN invoice_date SET NOT NULL,
  ALTER COLUMN invoice_id SET NOT NULL;

CREATE INDEX invoice_lines_block_key ON invoice_lines
  (tenant_id, vendor_key, amount_cents, invoice_date DESC, invoice_id COLLATE "C", line_number);
CREATE INDEX invoice_lines_block_id ON invoice_lines
  (tenant_id, vendor_id, amount_cents, vendor_key, invoice_date DESC, invoice_id COLLATE "C", line_number);
