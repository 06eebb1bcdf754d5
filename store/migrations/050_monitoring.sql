-- 050: model monitoring. Live drift counts, shadow challengers and their scores, the audit
-- sample of AUTO_APPROVE decisions and its per-tenant policy (see monitoring/).

-- Live binned counts per tenant, model version, hour and feature (`score` for the model's
-- score); flushes add to them (counts element-wise), so a row is the sum over replicas.
CREATE TABLE drift_counts (
  tenant_id     text NOT NULL,
  model         text NOT NULL,
  bucket_start  timestamptz NOT NULL,
  feature       text NOT NULL,
  counts        bigint[] NOT NULL,
  missing       bigint NOT NULL,
  PRIMARY KEY (tenant_id, model, bucket_start, feature)
);

-- A challenger version scoring a tenant's invoices in shadow (one active per tenant and model).
CREATE TABLE shadow_assignments (
  id          uuid PRIMARY KEY,
  tenant_id   text NOT NULL,
  model_name  text NOT NULL,
  version     text NOT NULL,
  started_at  timestamptz NOT NULL,
  started_by  text,
  stopped_at  timestamptz,
  stopped_by  text
);
CREATE UNIQUE INDEX shadow_assignments_active ON shadow_assignments (tenant_id, model_name) WHERE stopped_at IS NULL;

-- Invoice-level scores of the champion and the shadowed challenger for one decision.
CREATE TABLE shadow_scores (
  assignment_id     uuid NOT NULL REFERENCES shadow_assignments (id),
  tenant_id         text NOT NULL,
  decision_id       uuid NOT NULL REFERENCES decisions (id),
  champion          text NOT NULL,
  champion_score    double precision NOT NULL,
  challenger        text NOT NULL,
  challenger_score  double precision NOT NULL,
  created_at        timestamptz NOT NULL,
  PRIMARY KEY (assignment_id, decision_id)
);

-- Audit-sample policy per tenant (absent: the service default rate and seed `tenant:<id>`).
CREATE TABLE audit_sample_policies (
  tenant_id   text PRIMARY KEY,
  rate        double precision NOT NULL CHECK (rate >= 0 AND rate <= 1),
  seed        text NOT NULL,
  version     integer NOT NULL,
  updated_at  timestamptz NOT NULL,
  updated_by  text
);

-- AUTO_APPROVE decisions drawn into the post-payment audit sample (written with the decision).
CREATE TABLE audit_samples (
  decision_id  uuid PRIMARY KEY REFERENCES decisions (id),
  tenant_id    text NOT NULL,
  rate         double precision NOT NULL,
  draw         double precision NOT NULL,
  seed_sha256  text NOT NULL,
  created_at   timestamptz NOT NULL
);
CREATE INDEX audit_samples_tenant ON audit_samples (tenant_id, created_at);
