-- 099_batch_submitter: the API key that submitted each batch. Its items' decisions are stored
-- with it as `scored_by_key_id`, so that a workflow key reads the decisions (and events) of its
-- own batches as it does those it scored one by one. NULL for batches submitted before (their
-- decisions stay readable by auditor and reviewer keys only) and for batches of the system.
ALTER TABLE batches ADD COLUMN submitted_by_key_id text;
