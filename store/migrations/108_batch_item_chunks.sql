-- 108_batch_item_chunks: the score-batch job (chunk) each batch item belongs to, chosen when the
-- batch is stored (inference/batch-partition.ts: items that share a vendor or PO fall in one
-- chunk). Items stored without one are in the contiguous range of their index (idx / chunk_size),
-- the chunk their queued job names.
ALTER TABLE batch_items ADD COLUMN chunk integer CHECK (chunk >= 0);
UPDATE batch_items i SET chunk = i.idx / b.chunk_size FROM batches b WHERE b.id = i.batch_id;
ALTER TABLE batch_items ALTER COLUMN chunk SET NOT NULL;
CREATE INDEX batch_items_chunk ON batch_items (batch_id, chunk, idx);
