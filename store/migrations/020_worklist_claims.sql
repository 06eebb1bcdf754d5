-- 020: claims on worklist items, so that two reviewers do not work the same exception.
-- One row per claimed decision; a claim past expires_at is free to take (store/claims.ts).
CREATE TABLE worklist_claims (
  decision_id  uuid PRIMARY KEY REFERENCES decisions (id) ON DELETE CASCADE,
  tenant_id    text NOT NULL,
  key_id       text NOT NULL,
  claimed_at   timestamptz NOT NULL,
  expires_at   timestamptz NOT NULL
);
CREATE INDEX worklist_claims_tenant ON worklist_claims (tenant_id, expires_at);
