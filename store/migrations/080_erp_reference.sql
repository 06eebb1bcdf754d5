-- 080: ERP reference data per tenant (the ERP stays the system of record; this is the copy the
-- procurement stage matches invoices against): purchase orders and their lines, goods
-- receipts, contracts / price lists, the quantities each scored invoice billed against a PO
-- line, and the ERP's status callbacks. Every record carries the ERP's version; a load with an
-- older version leaves the stored record alone.

CREATE TABLE erp_purchase_orders (
  tenant_id     text NOT NULL,
  po_number     text NOT NULL,
  vendor_id     text NOT NULL,
  facility_id   text,
  status        text NOT NULL CHECK (status IN ('open', 'closed')),
  order_date    date NOT NULL,
  version       bigint NOT NULL,
  content_sha256 text NOT NULL,
  record        jsonb NOT NULL,
  updated_at    timestamptz NOT NULL,
  PRIMARY KEY (tenant_id, po_number)
);
CREATE INDEX erp_purchase_orders_vendor ON erp_purchase_orders (tenant_id, vendor_id, status);

-- Goods receipts against a PO line; quantity in the stated unit (`uom`, `pack_qty` base units each).
CREATE TABLE erp_receipts (
  tenant_id      text NOT NULL,
  receipt_id     text NOT NULL,
  po_number      text NOT NULL,
  po_line_number integer NOT NULL,
  version        bigint NOT NULL,
  content_sha256 text NOT NULL,
  record         jsonb NOT NULL,
  updated_at     timestamptz NOT NULL,
  PRIMARY KEY (tenant_id, receipt_id)
);
CREATE INDEX erp_receipts_po ON erp_receipts (tenant_id, po_number);

-- Contracts and price lists (GPO or local) of a vendor: items, prices per unit, dates, facilities.
CREATE TABLE erp_contracts (
  tenant_id      text NOT NULL,
  contract_id    text NOT NULL,
  vendor_id      text NOT NULL,
  version        bigint NOT NULL,
  content_sha256 text NOT NULL,
  record         jsonb NOT NULL,
  updated_at     timestamptz NOT NULL,
  PRIMARY KEY (tenant_id, contract_id)
);
CREATE INDEX erp_contracts_vendor ON erp_contracts (tenant_id, vendor_id);

-- What each scored invoice billed against each PO line, in the PO line's base units, written in
-- the scoring transaction: "already invoiced" for the next invoice against the same line.
CREATE TABLE erp_po_invoiced (
  tenant_id      text NOT NULL,
  invoice_id     text NOT NULL,
  po_number      text NOT NULL,
  po_line_number integer NOT NULL,
  base_quantity  double precision NOT NULL,
  amount_cents   bigint NOT NULL,
  decision_id    uuid NOT NULL,
  created_at     timestamptz NOT NULL,
  PRIMARY KEY (tenant_id, invoice_id, po_number, po_line_number)
);
CREATE INDEX erp_po_invoiced_line ON erp_po_invoiced (tenant_id, po_number, po_line_number);

-- ERP status callbacks (posted / rejected / paid), one row per idempotency key.
CREATE TABLE erp_callbacks (
  tenant_id        text NOT NULL,
  idempotency_key  text NOT NULL,
  invoice_id       text NOT NULL,
  decision_id      uuid NOT NULL REFERENCES decisions (id),
  status           text NOT NULL CHECK (status IN ('posted', 'rejected', 'paid')),
  reason_code      text,
  reason_text      text,
  content_sha256   text NOT NULL,
  actor_key_id     text,
  created_at       timestamptz NOT NULL,
  PRIMARY KEY (tenant_id, idempotency_key)
);
CREATE INDEX erp_callbacks_decision ON erp_callbacks (decision_id, created_at);

ALTER TABLE decisions ADD COLUMN erp_status text CHECK (erp_status IN ('posted', 'rejected', 'paid'));

-- The procurement review queue (PO, receipt and contract exceptions).
ALTER TABLE decisions DROP CONSTRAINT decisions_queue_check;
ALTER TABLE decisions ADD CONSTRAINT decisions_queue_check
  CHECK (queue IN ('coding', 'ap', 'compliance', 'procurement'));

-- The `erp` role: the ERP integration loads reference data and posts status callbacks.
ALTER TABLE api_keys DROP CONSTRAINT api_keys_roles_check;
ALTER TABLE api_keys ADD CONSTRAINT api_keys_roles_check
  CHECK (cardinality(roles) > 0 AND roles <@ ARRAY['workflow', 'reviewer', 'data-scientist', 'auditor', 'admin', 'erp']);
