-- 066_history_import: invoices indexed from a tenant's past (POST /v1/history, `cli import`)
-- are stored like scored ones, for duplicate search and the vendor's history, but carry no
-- decision; `indexed_as` tells the two apart.
ALTER TABLE invoices ADD COLUMN indexed_as text NOT NULL DEFAULT 'scored'
  CHECK (indexed_as IN ('scored', 'history'));
