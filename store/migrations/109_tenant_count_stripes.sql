-- 109_tenant_count_stripes: the per-tenant invoice count of 060 kept in up to 16 rows per tenant
-- (stripes), summed on read, so that scoring transactions of several connections stop queueing
-- on the tenant's one row from their INSERT to their COMMIT.
--
-- The trigger adds a statement's invoices to the first stripe of the tenant it can lock without
-- waiting (its own backend's stripe, pg_backend_pid() % 16, first; FOR UPDATE SKIP LOCKED), and
-- creates a stripe (the first number from its own on that the tenant lacks) only when every
-- existing stripe is locked by another transaction: a tenant has as many rows as it ever had
-- concurrent writers (at most 16), and a writer waits only when all 16 exist and are locked, or
-- when another writer creates the same stripe number at the same moment. Each stripe is changed only under
-- its row lock, so the sum is the exact count of committed invoices.
--
-- The count still stops past 10,000 (5x the exact-search crossover of core/blocking.ts): a
-- statement whose tenant's committed sum is already past it counts nothing and locks nothing.
-- Counts only grow (no invoice is ever deleted), so once a reader sees a sum past 10,000 every
-- later reader does too, and below it every stored invoice was counted.
--
-- Backfill: the existing rows become stripe 0 of their tenant (the column's default), in the
-- ALTER itself. Re-running this file changes nothing.
ALTER TABLE tenant_invoice_counts
  ADD COLUMN IF NOT EXISTS stripe smallint NOT NULL DEFAULT 0 CHECK (stripe >= 0 AND stripe < 16);
ALTER TABLE tenant_invoice_counts DROP CONSTRAINT IF EXISTS tenant_invoice_counts_pkey;
ALTER TABLE tenant_invoice_counts ADD CONSTRAINT tenant_invoice_counts_pkey PRIMARY KEY (tenant_id, stripe);

CREATE OR REPLACE FUNCTION count_tenant_invoices() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  a record;
  own smallint := pg_backend_pid() % 16;
  s smallint;
BEGIN
  FOR a IN SELECT tenant_id, count(*) AS n FROM new_invoices GROUP BY tenant_id ORDER BY tenant_id LOOP
    CONTINUE WHEN (SELECT sum(c.invoices) FROM tenant_invoice_counts c WHERE c.tenant_id = a.tenant_id) > 10000;
    SELECT c.stripe INTO s FROM tenant_invoice_counts c WHERE c.tenant_id = a.tenant_id
      ORDER BY c.stripe = own DESC, c.stripe LIMIT 1 FOR UPDATE SKIP LOCKED;
    IF FOUND THEN
      UPDATE tenant_invoice_counts c SET invoices = c.invoices + a.n
      WHERE c.tenant_id = a.tenant_id AND c.stripe = s;
    ELSE
      -- A stripe number the tenant does not have yet, from its own on (its own when all exist).
      SELECT (own + g) % 16 INTO s FROM generate_series(0, 15) g
      WHERE NOT EXISTS (SELECT 1 FROM tenant_invoice_counts c
                        WHERE c.tenant_id = a.tenant_id AND c.stripe = (own + g) % 16)
      ORDER BY g LIMIT 1;
      INSERT INTO tenant_invoice_counts AS c (tenant_id, stripe, invoices)
        VALUES (a.tenant_id, coalesce(s, own), a.n)
      ON CONFLICT (tenant_id, stripe) DO UPDATE SET invoices = c.invoices + EXCLUDED.invoices;
    END IF;
  END LOOP;
  RETURN NULL;
END
$$;
