-- 002: API keys with roles and tenants, the hash-chained audit log, routing policy versions,
-- vendor profiles, review state of decisions, priority components, credit-memo reversals.

-- API keys: only the sha256 of the key is stored; `prefix` (the first 12 characters) is shown.
CREATE TABLE api_keys (
  id          uuid PRIMARY KEY,
  tenant_id   text NOT NULL,
  name        text NOT NULL,
  roles       text[] NOT NULL CHECK (cardinality(roles) > 0 AND roles <@ ARRAY['workflow', 'reviewer', 'data-scientist', 'auditor', 'admin']),
  prefix      text NOT NULL,
  key_sha256  text NOT NULL UNIQUE,
  created_at  timestamptz NOT NULL,
  created_by  text,
  revoked_at  timestamptz,
  revoked_by  text
);
CREATE INDEX api_keys_tenant ON api_keys (tenant_id, created_at);

-- Audit log: one hash chain per tenant. hash = sha256(prev_hash || canonical JSON of the row),
-- see store/audit.ts. Append-only: the trigger refuses UPDATE and DELETE; verify() detects
-- anything done around it (altered rows, deleted rows as gaps in seq, a cut tail via audit_heads).
CREATE TABLE audit_log (
  tenant_id       text NOT NULL,
  seq             bigint NOT NULL,
  ts              timestamptz NOT NULL,
  actor_key_id    text,
  kind            text NOT NULL,
  subject_id      text NOT NULL,
  payload         text NOT NULL,
  payload_sha256  text NOT NULL,
  prev_hash       text NOT NULL,
  hash            text NOT NULL,
  PRIMARY KEY (tenant_id, seq)
);
CREATE INDEX audit_log_subject ON audit_log (tenant_id, subject_id);

-- Head of each tenant's chain, updated in the appending transaction (its row lock serialises appends).
CREATE TABLE audit_heads (
  tenant_id  text PRIMARY KEY,
  seq        bigint NOT NULL,
  hash       text NOT NULL
);

CREATE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'audit_log is append-only';
END;
$$;
CREATE TRIGGER audit_log_no_update BEFORE UPDATE OR DELETE ON audit_log
  FOR EACH ROW EXECUTE FUNCTION audit_log_append_only();

-- Routing policy versions per tenant (version 1 is the built-in/file default, never stored).
CREATE TABLE policies (
  tenant_id   text NOT NULL,
  version     integer NOT NULL CHECK (version >= 2),
  label       text NOT NULL,
  document    jsonb NOT NULL,
  sha256      text NOT NULL,
  created_at  timestamptz NOT NULL,
  created_by  text,
  PRIMARY KEY (tenant_id, version)
);

-- Vendor master profiles per tenant.
CREATE TABLE vendors (
  tenant_id                text NOT NULL,
  vendor_id                text NOT NULL,
  name                     text,
  category                 text,
  approved_betos           text[] NOT NULL DEFAULT '{}',
  approved_hcpcs_prefixes  text[] NOT NULL DEFAULT '{}',
  version                  integer NOT NULL,
  updated_at               timestamptz NOT NULL,
  updated_by               text,
  PRIMARY KEY (tenant_id, vendor_id)
);

-- Decisions: who scored them, worklist state, priority components, explanation.
ALTER TABLE decisions
  ADD COLUMN scored_by_key_id       text,
  ADD COLUMN review_status          text CHECK (review_status IN ('open', 'closed')),
  ADD COLUMN closed_at              timestamptz,
  ADD COLUMN closed_by_review       uuid,
  ADD COLUMN expected_loss_cents    bigint NOT NULL DEFAULT 0,
  ADD COLUMN discount_cents         bigint NOT NULL DEFAULT 0,
  ADD COLUMN discount_deadline      date,
  ADD COLUMN received_date          date,
  ADD COLUMN sla_cents_per_day      bigint NOT NULL DEFAULT 0,
  ADD COLUMN explanation            jsonb;
UPDATE decisions SET review_status = 'open' WHERE decision <> 'AUTO_APPROVE';
UPDATE decisions SET received_date = created_at::date, expected_loss_cents = round(priority * 100);
DROP INDEX decisions_worklist;
CREATE INDEX decisions_open_worklist ON decisions (tenant_id, queue) WHERE review_status = 'open';

-- Credit memos: the invoice a memo reverses (for rebill-after-credit and reviewers).
ALTER TABLE invoices ADD COLUMN reverses_invoice_pk uuid REFERENCES invoices (pk);
CREATE INDEX invoices_reverses ON invoices (reverses_invoice_pk) WHERE reverses_invoice_pk IS NOT NULL;
-- Vendor-scoped exact nearest-neighbour search (recall guard for filtered HNSW).
CREATE INDEX invoices_tenant_vendor_id ON invoices (tenant_id, vendor_id, invoice_date);
CREATE INDEX invoices_tenant_vendor_key ON invoices (tenant_id, vendor_key, invoice_date);

-- Reviews: task and label details; the label row is what training reads (store/reviews.ts listLabels).
ALTER TABLE reviews
  ADD COLUMN task               text NOT NULL DEFAULT 'other' CHECK (task IN ('coding-mismatch', 'duplicate', 'other')),
  ADD COLUMN corrected_code_system text,
  ADD COLUMN duplicate_of_invoice_id text,
  ADD COLUMN closes_item        boolean NOT NULL DEFAULT true,
  ADD COLUMN request_sha256     text NOT NULL DEFAULT '';
ALTER TABLE reviews ALTER COLUMN task DROP DEFAULT;
ALTER TABLE reviews ALTER COLUMN request_sha256 DROP DEFAULT;
ALTER TABLE reviews ALTER COLUMN created_at DROP DEFAULT;
CREATE INDEX reviews_decision ON reviews (decision_id);
CREATE INDEX reviews_tenant_created ON reviews (tenant_id, created_at);
