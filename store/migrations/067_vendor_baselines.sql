-- 067_vendor_baselines: per tenant, vendor and upper-case HCPCS code, log-binned histograms of
-- the billed quantity and unit price (bin = round(ln(value) * 20), features/baselines.ts), the
-- incremental form of the tenant-adaptive baselines. Fed by the history import (every line) and
-- by the scoring write (lines of auto-approved invoices), store/vendor-stats.ts.
CREATE TABLE vendor_code_bins (
  tenant_id  text NOT NULL,
  vendor_id  text NOT NULL,
  code       text NOT NULL,
  metric     text NOT NULL CHECK (metric IN ('quantity', 'unit_price')),
  bin        integer NOT NULL,
  n          bigint NOT NULL CHECK (n >= 0),
  PRIMARY KEY (tenant_id, vendor_id, code, metric, bin)
);

INSERT INTO vendor_code_bins (tenant_id, vendor_id, code, metric, bin, n)
SELECT i.tenant_id, i.vendor_id, upper(l.code), m.metric, round(ln(m.v) * 20)::int, count(*)
  FROM invoices i
  JOIN invoice_lines l ON l.invoice_pk = i.pk
  LEFT JOIN decisions d ON d.invoice_pk = i.pk
  CROSS JOIN LATERAL (VALUES ('quantity', l.quantity::float8), ('unit_price', l.unit_price_cents::float8)) AS m(metric, v)
 WHERE l.code_system = 'HCPCS' AND l.code IS NOT NULL AND m.v > 0
   AND (i.indexed_as = 'history' OR d.decision = 'AUTO_APPROVE')
 GROUP BY 1, 2, 3, 4, 5;
