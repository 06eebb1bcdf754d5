-- 061_audit_outbox: audit entries written by the scoring transaction without touching the
-- tenant's chain head (no per-tenant lock while scoring). A single linker per tenant
-- (store/audit.ts linkAudit, under an advisory lock) moves them into audit_log in batches, in id
-- order, hashing each onto the chain, and deletes them in the same transaction. Verification
-- also checks the rows still waiting here (payload hash), so nothing committed escapes it.
CREATE TABLE audit_outbox (
  id              bigserial PRIMARY KEY,
  tenant_id       text NOT NULL,
  ts              timestamptz NOT NULL,
  actor_key_id    text,
  kind            text NOT NULL,
  subject_id      text NOT NULL,
  payload         text NOT NULL,
  payload_sha256  text NOT NULL
);
CREATE INDEX audit_outbox_tenant ON audit_outbox (tenant_id, id);
