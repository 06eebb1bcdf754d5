-- 060_tenant_invoice_counts: a per-tenant count of indexed invoices, kept by a statement-level
-- trigger on every INSERT into invoices (scoring, batches, history import alike), so the
-- candidate search reads one row instead of counting the tenant. The count stops growing past
-- 10000 (5x the exact-search crossover of core/blocking.ts): once a tenant is past it,
-- the UPDATE matches no row and takes no row lock, so large tenants' writers never queue on it.
CREATE TABLE tenant_invoice_counts (
  tenant_id text PRIMARY KEY,
  invoices  bigint NOT NULL CHECK (invoices >= 0)
);

INSERT INTO tenant_invoice_counts (tenant_id, invoices)
  SELECT tenant_id, count(*) FROM invoices GROUP BY tenant_id;

CREATE FUNCTION count_tenant_invoices() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  WITH added AS (SELECT tenant_id, count(*) AS n FROM new_invoices GROUP BY tenant_id),
  bumped AS (
    UPDATE tenant_invoice_counts c SET invoices = c.invoices + a.n FROM added a
    WHERE c.tenant_id = a.tenant_id AND c.invoices <= 10000
    RETURNING c.tenant_id)
  INSERT INTO tenant_invoice_counts AS c (tenant_id, invoices)
    SELECT a.tenant_id, a.n FROM added a
    WHERE NOT EXISTS (SELECT 1 FROM tenant_invoice_counts t WHERE t.tenant_id = a.tenant_id)
  ON CONFLICT (tenant_id) DO UPDATE SET invoices = c.invoices + EXCLUDED.invoices;
  RETURN NULL;
END
$$;

CREATE TRIGGER invoices_count_tenant AFTER INSERT ON invoices
  REFERENCING NEW TABLE AS new_invoices
  FOR EACH STATEMENT EXECUTE FUNCTION count_tenant_invoices();
