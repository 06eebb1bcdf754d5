-- 106_history_import_jobs: asynchronous history imports (POST /v1/history with
-- `Prefer: respond-async`). The accepted body's records are staged here in the transaction that
-- creates the import, before the 202, so an accepted import never depends on Redis or on a
-- worker staying alive: a job imports them chunk by chunk from `next_index`, each chunk's
-- progress committed with its invoices, and the recovery sweep re-enqueues an import left
-- queued or running.
CREATE TABLE history_imports (
  id                  uuid PRIMARY KEY,
  tenant_id           text NOT NULL,
  -- The API key that sent the import (actor of its audit entries), or NULL.
  submitted_by_key_id text,
  -- Client's Idempotency-Key header, scoped to the submitting key; NULL when none was sent.
  idempotency_key     text,
  -- sha256 of the records' payload fingerprints in order: a re-sent key must carry the same records.
  request_sha256      text NOT NULL,
  state               text NOT NULL DEFAULT 'queued' CHECK (state IN ('queued', 'running', 'done', 'failed')),
  records_total       integer NOT NULL CHECK (records_total > 0),
  -- Invoices per transaction of the job.
  chunk_size          integer NOT NULL CHECK (chunk_size > 0),
  -- Records before this index are imported (committed with their chunk).
  next_index          integer NOT NULL DEFAULT 0 CHECK (next_index >= 0 AND next_index <= records_total),
  imported            integer NOT NULL DEFAULT 0,
  skipped             integer NOT NULL DEFAULT 0,
  refused             integer NOT NULL DEFAULT 0,
  -- The first refused records: [{ location, errors }] (no invoice contents).
  refusals            jsonb NOT NULL DEFAULT '[]'::jsonb,
  -- { code, detail } when state = 'failed'.
  error               jsonb,
  created_at          timestamptz NOT NULL DEFAULT now(),
  started_at          timestamptz,
  finished_at         timestamptz
);
CREATE UNIQUE INDEX history_imports_idempotency
  ON history_imports (tenant_id, (COALESCE(submitted_by_key_id, '')), idempotency_key);
CREATE INDEX history_imports_open ON history_imports (created_at) WHERE state IN ('queued', 'running');

CREATE TABLE history_import_records (
  import_id  uuid NOT NULL REFERENCES history_imports (id) ON DELETE CASCADE,
  -- Record index in the body (`/N`), as errors name it.
  idx        integer NOT NULL CHECK (idx >= 0),
  -- File line of an NDJSON record, or NULL for a JSON array item.
  line       integer,
  -- The record's JSON text as validated; deleted once the import is done.
  record     text NOT NULL,
  PRIMARY KEY (import_id, idx)
);
