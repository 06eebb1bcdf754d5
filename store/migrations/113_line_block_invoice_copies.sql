-- 113_line_block_invoice_copies: each stored line also carries what the line block's `amount`
-- pass (store/line-block-sql.ts) read of its invoice row for every candidate line: the invoice's
-- document type (only invoices are candidates), its total (compared with what credit memos
-- reverse of it), its service period start (the line's judged date when it has no service date),
-- and the line's own printed delivery reference, which only the invoice's stored payload held.
-- With them the pass reads a candidate line's heap row and no page of `invoices` (its primary key,
-- its heap, its payload): at 100k invoices those were about 60% of the pass's buffers
-- (BENCHMARKS.md, branch flat5). An invoice's type, total and service period never change once
-- stored, nor a line's delivery reference, so the copies cannot go stale; reversals are still
-- read from the credit memos (`invoices_reverses`), since they arrive later.
ALTER TABLE invoice_lines
  ADD COLUMN document_type text,
  ADD COLUMN total_cents bigint,
  ADD COLUMN service_period_start date,
  ADD COLUMN delivery_reference text;

UPDATE invoice_lines l
   SET document_type = i.document_type, total_cents = i.total_cents, service_period_start = i.service_period_start,
       delivery_reference = (
         SELECT t.r->>'delivery_reference'
           FROM jsonb_array_elements(i.payload->'lines') WITH ORDINALITY AS t(r, n)
          WHERE (t.r->>'line_number')::int = l.line_number
          ORDER BY t.n
          LIMIT 1)
  FROM invoices i
 WHERE i.pk = l.invoice_pk;

ALTER TABLE invoice_lines
  ALTER COLUMN document_type SET NOT NULL,
  ALTER COLUMN total_cents SET NOT NULL;
