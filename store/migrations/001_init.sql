-- 001_init: invoices, lines, decisions, reviews; pgvector embeddings with HNSW indexes.
-- Money is bigint cents; dates are DATE; embeddings are vector(128) (features/hashing.ts EMBEDDING_DIM).
CREATE EXTENSION IF NOT EXISTS vector;

CREATE TABLE invoices (
  pk                        uuid PRIMARY KEY,
  tenant_id                 text NOT NULL,
  invoice_id                text NOT NULL,
  payload                   jsonb NOT NULL,
  payload_sha256            text NOT NULL,
  vendor_id                 text NOT NULL,
  vendor_name               text NOT NULL,
  vendor_key                text NOT NULL,
  vendor_tax_id             text,
  vendor_npi                text,
  invoice_number            text NOT NULL,
  invoice_number_normalised text NOT NULL,
  invoice_number_canonical  text NOT NULL,
  invoice_date              date NOT NULL,
  due_date                  date,
  currency                  char(3) NOT NULL,
  total_cents               bigint NOT NULL,
  document_type             text NOT NULL CHECK (document_type IN ('invoice', 'credit_memo', 'debit_memo')),
  po_number                 text,
  facility_id               text,
  service_period_start      date,
  service_period_end        date,
  embedding                 vector(128) NOT NULL,
  created_at                timestamptz NOT NULL DEFAULT now(),
  UNIQUE (tenant_id, invoice_id)
);
CREATE INDEX invoices_number_key ON invoices (tenant_id, invoice_number_canonical);
CREATE INDEX invoices_vendor_total_date ON invoices (tenant_id, vendor_key, total_cents, invoice_date);
CREATE INDEX invoices_embedding_hnsw ON invoices USING hnsw (embedding vector_cosine_ops);

CREATE TABLE invoice_lines (
  invoice_pk        uuid NOT NULL REFERENCES invoices (pk) ON DELETE CASCADE,
  line_number       integer NOT NULL,
  description       text NOT NULL,
  code_system       text,
  code              text,
  modifiers         text[] NOT NULL DEFAULT '{}',
  quantity          numeric NOT NULL,
  unit_price_cents  bigint NOT NULL,
  amount_cents      bigint NOT NULL,
  service_date      date,
  match_key         text NOT NULL,
  embedding         vector(128) NOT NULL,
  PRIMARY KEY (invoice_pk, line_number)
);
CREATE INDEX invoice_lines_embedding_hnsw ON invoice_lines USING hnsw (embedding vector_cosine_ops);

CREATE TABLE decisions (
  id                     uuid PRIMARY KEY,
  tenant_id              text NOT NULL,
  invoice_pk             uuid NOT NULL UNIQUE REFERENCES invoices (pk) ON DELETE CASCADE,
  decision               text NOT NULL CHECK (decision IN ('AUTO_APPROVE', 'REVIEW', 'HOLD')),
  queue                  text CHECK (queue IN ('coding', 'ap', 'compliance')),
  priority               numeric(14, 2) NOT NULL,
  coding_mismatch_score  double precision NOT NULL,
  duplicate_score        double precision NOT NULL,
  reason_codes           text[] NOT NULL,
  response               jsonb NOT NULL,
  model_versions         jsonb NOT NULL,
  feature_schema_version text NOT NULL,
  policy_version         text NOT NULL,
  created_at             timestamptz NOT NULL
);
CREATE INDEX decisions_worklist ON decisions (tenant_id, queue, priority DESC) WHERE decision <> 'AUTO_APPROVE';

-- Reviewers' outcomes: the labels data scientists retrain from. Append-only.
CREATE TABLE reviews (
  id               uuid PRIMARY KEY,
  tenant_id        text NOT NULL,
  decision_id      uuid NOT NULL REFERENCES decisions (id),
  line_number      integer,
  outcome          text NOT NULL CHECK (outcome IN ('confirmed', 'false_positive', 'corrected_code')),
  corrected_code   text,
  reviewer         text NOT NULL,
  idempotency_key  text NOT NULL,
  created_at       timestamptz NOT NULL DEFAULT now(),
  UNIQUE (tenant_id, idempotency_key)
);
