-- 090: labels from outside the review flow (an ERP's posting, rejection or payment of an
-- invoice), with their provenance, as training reads them beside reviews (store/labels.ts).
-- Reviews stay in `reviews`; a review of a decision in `audit_samples` has provenance
-- audit_sample, any other review reviewer.
CREATE TABLE external_labels (
  id                       uuid PRIMARY KEY,
  tenant_id                text NOT NULL,
  decision_id              uuid NOT NULL REFERENCES decisions (id),
  source                   text NOT NULL CHECK (source IN ('erp')),
  task                     text NOT NULL CHECK (task IN ('coding-mismatch', 'duplicate')),
  line_number              integer CHECK (line_number >= 1),
  duplicate_of_invoice_id  text,
  label                    smallint NOT NULL CHECK (label IN (0, 1)),
  -- What the source reported (e.g. posted, rejected, paid) and its own reference for it.
  event                    text NOT NULL,
  reference                text,
  recorded_by              text,
  idempotency_key          text NOT NULL,
  request_sha256           text NOT NULL,
  created_at               timestamptz NOT NULL,
  UNIQUE (tenant_id, source, idempotency_key)
);
CREATE INDEX external_labels_decision ON external_labels (decision_id);
CREATE INDEX external_labels_tenant_created ON external_labels (tenant_id, created_at);
