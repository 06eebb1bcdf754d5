-- 010_batches: asynchronous batches of invoices (POST /v1/batches).
-- A batch and all its items are written in one transaction before the API answers 202, so an
-- accepted invoice never depends on Redis or on a worker staying alive: a recovery sweep
-- re-enqueues any batch whose items are still pending.
-- (Numbered 010 to leave 002-009 to the scoring-service migrations developed in parallel.)
CREATE TABLE batches (
  id               uuid PRIMARY KEY,
  tenant_id        text NOT NULL,
  -- Client's Idempotency-Key header; NULL when none was sent (NULLs never conflict).
  idempotency_key  text,
  -- sha256 of the canonical JSON of the invoices array: a re-sent key must carry the same request.
  request_sha256   text NOT NULL,
  item_count       integer NOT NULL CHECK (item_count > 0),
  -- Items per score-batch job; fixed per batch so job ids stay stable when the setting changes.
  chunk_size       integer NOT NULL CHECK (chunk_size > 0),
  created_at       timestamptz NOT NULL DEFAULT now(),
  completed_at     timestamptz,
  UNIQUE (tenant_id, idempotency_key)
);
CREATE INDEX batches_open ON batches (created_at) WHERE completed_at IS NULL;

CREATE TABLE batch_items (
  batch_id     uuid NOT NULL REFERENCES batches (id) ON DELETE CASCADE,
  -- Position in the submitted invoices array (0-based), as errors and results name it.
  idx          integer NOT NULL CHECK (idx >= 0),
  invoice_id   text NOT NULL,
  payload      jsonb NOT NULL,
  state        text NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'done', 'failed')),
  decision_id  uuid REFERENCES decisions (id),
  -- True when the invoice id had been scored before and the stored decision was reused.
  replayed     boolean,
  -- For failed items: { code, detail, errors } of the catalogued error.
  error        jsonb,
  -- Failed attempts at this item that were not a store outage; bounded by the processor.
  attempts     integer NOT NULL DEFAULT 0,
  updated_at   timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (batch_id, idx),
  UNIQUE (batch_id, invoice_id),
  CHECK ((state = 'done') = (decision_id IS NOT NULL)),
  CHECK ((state = 'failed') = (error IS NOT NULL))
);
CREATE INDEX batch_items_pending ON batch_items (batch_id, idx) WHERE state = 'pending';
