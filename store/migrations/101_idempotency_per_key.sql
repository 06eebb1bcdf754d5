-- 101_idempotency_per_key: a batch's Idempotency-Key is scoped to the API key that submitted
-- it, so that another key of the tenant re-using the same key value neither gets that batch back
-- nor a conflict. Batches without a submitter (before 099, the system's) share the '' scope.
ALTER TABLE batches DROP CONSTRAINT IF EXISTS batches_tenant_id_idempotency_key_key;
CREATE UNIQUE INDEX batches_idempotency_per_key
  ON batches (tenant_id, (COALESCE(submitted_by_key_id, '')), idempotency_key);
-- A review's idempotency key likewise belongs to the reviewer key that sent it: another reviewer
-- re-using the value records its own review instead of getting (or conflicting with) this one.
ALTER TABLE reviews DROP CONSTRAINT IF EXISTS reviews_tenant_id_idempotency_key_key;
CREATE UNIQUE INDEX reviews_idempotency_per_key ON reviews (tenant_id, reviewer, idempotency_key);
