-- 065_vendor_code_counts: per tenant, vendor and upper-case HCPCS code, the number of stored
-- invoice lines that billed it, kept incrementally by every write of invoice lines (scoring and
-- history import, store/vendor-stats.ts) instead of aggregating the vendor's history per score.
CREATE TABLE vendor_code_counts (
  tenant_id  text NOT NULL,
  vendor_id  text NOT NULL,
  code       text NOT NULL,
  lines      bigint NOT NULL CHECK (lines >= 0),
  PRIMARY KEY (tenant_id, vendor_id, code)
);

INSERT INTO vendor_code_counts (tenant_id, vendor_id, code, lines)
SELECT i.tenant_id, i.vendor_id, upper(l.code), count(*)
  FROM invoices i JOIN invoice_lines l ON l.invoice_pk = i.pk
 WHERE l.code_system = 'HCPCS' AND l.code IS NOT NULL
 GROUP BY i.tenant_id, i.vendor_id, upper(l.code);
