/**
 * The batch repository (`POST /v1/batches`): a batch row and one row per submitted invoice,
 * written together in one transaction before the API answers, then worked off item by item by
 * the `score-batch` jobs. Every read is tenant-scoped; every item transition is guarded by its
 * current state, so a retried or duplicated job never moves an item twice.
 */
import { randomUUID } from 'node:crypto';
import type { DecisionKind, DecisionResponse } from '../core/decision.js';
import type { FieldError } from '../core/errors.js';
import { TriageError } from '../core/errors.js';
import type { Invoice } from '../core/invoice.js';
import type { SqlDatabase, SqlExecutor } from './sql.js';
import { storedUnderKey, type IdempotentRequests } from './idempotency.js';
import { unpackResponse, type StoredResponse } from './stored-response.js';
import { batchChunks, batchLockKeys } from '../inference/batch-partition.js';

/** Batches as an Idempotency-Key conflict names them. */
const BATCHES: IdempotentRequests = { table: 'batches', kind: 'batch', newWhat: 'content' };

/** State of one batch item: waiting to be scored, scored (has a decision), or failed for good. */
export type BatchItemState = 'pending' | 'done' | 'failed';

/** A new batch to store. */
export interface NewBatch {
  tenantId: string;
  /** The client's `Idempotency-Key`, or null. */
  idempotencyKey: string | null;
  /** sha256 (hex) of the canonical request; a re-sent key must come with the same hash. */
  requestSha256: string;
  /**
   * sha256 of the request as sent, when its invoices' lines are not in `line_number` order (a
   * batch stored before they were put in order carries this hash).
   */
  requestSha256AsSent?: string;
  /**
   * Items per `score-batch` job (≥ 1), as inference/batch-partition.ts bounds a chunk with it: a
   * vendor's items all go to one job, and a job gathers 8 vendors before this bounds it.
   */
  chunkSize: number;
  /** The API key that submitted the batch (its items' decisions are stored as scored by it), or null. */
  submittedByKeyId: string | null;
  /** Validated invoices, in submission order (index = position). Invoice ids are unique. */
  invoices: readonly Invoice[];
}

/** Item counts by state. */
export interface BatchCounts {
  pending: number;
  done: number;
  failed: number;
}

/** Progress of a batch. Timestamps are ISO 8601 UTC. */
export interface BatchStatus {
  id: string;
  tenantId: string;
  itemCount: number;
  chunkSize: number;
  counts: BatchCounts;
  /** Decisions of the done items by kind. */
  decisions: Record<DecisionKind, number>;
  createdAt: string;
  /** When the last pending item was settled, or null while items are pending. */
  completedAt: string | null;
  /** The API key that submitted the batch (see {@link NewBatch}), or null. */
  submittedByKeyId: string | null;
}

/** The catalogued error a failed item ended with (no invoice contents). */
export interface BatchItemError {
  code: string;
  detail: string;
  errors?: FieldError[];
}

/** One item of the results listing. */
export interface BatchResultItem {
  /** 0-based position in the submitted `invoices` array. */
  index: number;
  invoiceId: string;
  state: BatchItemState;
  /** True when the invoice id had been scored before and that stored decision was reused. */
  replayed: boolean | null;
  decision: DecisionResponse | null;
  error: BatchItemError | null;
}

/** A page of results; `nextAfter` is the cursor for the next page, null on the last one. */
export interface BatchResultsPage {
  items: BatchResultItem[];
  nextAfter: number | null;
}

/** A still-pending item handed to a worker: its index and stored payload (validate before use). */
export interface PendingItem {
  index: number;
  payload: unknown;
  /** The API key that submitted the item's batch (see {@link NewBatch}), or null. */
  submittedByKeyId: string | null;
}

/** A batch with pending items and the chunks they fall in. */
export interface OpenBatch {
  tenantId: string;
  batchId: string;
  /** Chunk numbers with at least one pending item, ascending. */
  chunks: number[];
}

/**
 * A page of a chunk's items, in item order: the pending ones with their payloads, and how many
 * were already settled (done or failed).
 */
export interface ChunkPage {
  pending: PendingItem[];
  settled: number;
  /** Index of the page's last item (pending or not), the `after` of the next page; null when the page is empty. */
  last: number | null;
}

/** Result of {@link BatchRepository.create}. */
export interface CreateBatchResult {
  batch: BatchStatus;
  /** False when the idempotency key was already used for this same request (the stored batch). */
  created: boolean;
  /** The batch's chunks (`score-batch` jobs), numbered 0 to `chunks - 1`. */
  chunks: number;
}

/** What became of an item: its decision (`replayed`: stored before), or the error it failed with. */
export type SettledItem =
  { index: number; decisionId: string; replayed: boolean } | { index: number; error: BatchItemError };

/** Batch storage operations. */
export interface BatchRepository {
  /**
   * Stores the batch and all its items in one transaction (all or nothing).
   * Idempotency keys are scoped per submitting API key: another key's batch under the same
   * Idempotency-Key is neither returned nor a conflict.
   * @throws TriageError `TRIAGE_IDEMPOTENCY_CONFLICT` when the submitter's idempotency key was used
   *   for a different request.
   */
  create(batch: NewBatch): Promise<CreateBatchResult>;
  /** A batch's progress, or null when it does not exist for this tenant. */
  get(tenantId: string, batchId: string): Promise<BatchStatus | null>;
  /**
   * Items with index > `after`, ascending, at most `limit`, with their decisions; null when the
   * batch does not exist for this tenant.
   */
  results(tenantId: string, batchId: string, after: number, limit: number): Promise<BatchResultsPage | null>;
  /** The items of chunk `chunk` with index > `after`, ascending, at most `limit`. */
  chunkItems(
    tenantId: string,
    batchId: string,
    chunk: number,
    after: number,
    limit: number,
  ): Promise<ChunkPage>;
  /** pending -> done with the decision; false when the item was not pending any more. */
  markDone(batchId: string, index: number, decisionId: string, replayed: boolean): Promise<boolean>;
  /** pending -> failed with the error; false when the item was not pending any more. */
  markFailed(batchId: string, index: number, error: BatchItemError): Promise<boolean>;
  /**
   * {@link markDone} and {@link markFailed} of several items in one statement on `tx` (a batch
   * chunk's scoring transaction, so that the states commit with the decisions).
   * @returns the indexes that moved (those still pending).
   */
  settle(tx: SqlExecutor, batchId: string, items: readonly SettledItem[]): Promise<number[]>;
  /** Counts one failed attempt at an item; returns the new count. */
  recordAttempt(batchId: string, index: number): Promise<number>;
  /** Sets `completed_at` once no item is pending; true when this call completed the batch. */
  completeIfFinished(batchId: string): Promise<boolean>;
  /** Completes every open batch that has no pending item left (after a crash); returns how many. */
  completeFinished(): Promise<number>;
  /** Open batches created at least `olderThanMs` ago with pending items, oldest first. */
  openBatches(olderThanMs: number, limit: number): Promise<OpenBatch[]>;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
/** Rows per multi-row INSERT of items (6 parameters each). */
const INSERT_CHUNK = 200;

type Row = Record<string, unknown>;

const iso = (v: unknown): string => new Date(v as string | Date).toISOString();

const STATUS_SQL = `
  SELECT b.id, b.tenant_id, b.item_count, b.chunk_size, b.created_at, b.completed_at, b.submitted_by_key_id,
    count(*) FILTER (WHERE i.state = 'pending') AS pending,
    count(*) FILTER (WHERE i.state = 'done') AS done,
    count(*) FILTER (WHERE i.state = 'failed') AS failed,
    count(*) FILTER (WHERE d.decision = 'AUTO_APPROVE') AS auto_approve,
    count(*) FILTER (WHERE d.decision = 'REVIEW') AS review,
    count(*) FILTER (WHERE d.decision = 'HOLD') AS hold
  FROM batches b
  JOIN batch_items i ON i.batch_id = b.id
  LEFT JOIN decisions d ON d.id = i.decision_id
  WHERE b.id = $1 AND b.tenant_id = $2
  GROUP BY b.id`;

async function status(db: SqlExecutor, tenantId: string, batchId: string): Promise<BatchStatus | null> {
  if (!UUID.test(batchId)) return null;
  const r = (await db.query(STATUS_SQL, [batchId, tenantId]))[0];
  if (!r) return null;
  return {
    id: String(r.id),
    tenantId: String(r.tenant_id),
    itemCount: Number(r.item_count),
    chunkSize: Number(r.chunk_size),
    counts: { pending: Number(r.pending), done: Number(r.done), failed: Number(r.failed) },
    decisions: { AUTO_APPROVE: Number(r.auto_approve), REVIEW: Number(r.review), HOLD: Number(r.hold) },
    createdAt: iso(r.created_at),
    completedAt: r.completed_at === null || r.completed_at === undefined ? null : iso(r.completed_at),
    submittedByKeyId: (r.submitted_by_key_id as string | null) ?? null,
  };
}

/** Inserts the items with their chunks; returns the number of chunks. */
async function insertItems(
  tx: SqlExecutor,
  batchId: string,
  invoices: readonly Invoice[],
  chunkSize: number,
): Promise<number> {
  const chunks = batchChunks(invoices.map(batchLockKeys), chunkSize);
  for (let start = 0; start < invoices.length; start += INSERT_CHUNK) {
    const params: unknown[] = [];
    const tuples = invoices.slice(start, start + INSERT_CHUNK).map((inv, j) => {
      const b = params.length;
      params.push(batchId, start + j, inv.invoice_id, JSON.stringify(inv), 'pending', chunks[start + j]);
      return `($${b + 1},$${b + 2},$${b + 3},$${b + 4}::jsonb,$${b + 5},$${b + 6})`;
    });
    await tx.query(
      `INSERT INTO batch_items (batch_id, idx, invoice_id, payload, state, chunk) VALUES ${tuples.join(',')}`,
      params,
    );
  }
  return Math.max(...chunks) + 1;
}

function toResult(r: Row): BatchResultItem {
  return {
    index: Number(r.idx),
    invoiceId: String(r.invoice_id),
    state: r.state as BatchItemState,
    replayed: (r.replayed as boolean | null) ?? null,
    decision: r.response ? unpackResponse(r.response as StoredResponse) : null,
    error: (r.error as BatchItemError | null) ?? null,
  };
}

/** Builds the batch repository over an opened, migrated database (shares it with the triage repository). */
export function createBatchRepository(db: SqlDatabase): BatchRepository {
  return {
    create: (b) =>
      db.transaction(async (tx) => {
        if (b.invoices.length === 0) throw new RangeError('a batch needs at least one invoice');
        const id = randomUUID();
        const inserted = await tx.query(
          `INSERT INTO batches (id, tenant_id, idempotency_key, request_sha256, item_count, chunk_size, submitted_by_key_id)
           VALUES ($1, $2, $3, $4, $5, $6, $7)
           ON CONFLICT (tenant_id, (COALESCE(submitted_by_key_id, '')), idempotency_key) DO NOTHING RETURNING id`,
          [
            id,
            b.tenantId,
            b.idempotencyKey,
            b.requestSha256,
            b.invoices.length,
            b.chunkSize,
            b.submittedByKeyId,
          ],
        );
        if (inserted.length === 0) {
          const priorId = await storedUnderKey(tx, BATCHES, {
            tenantId: b.tenantId,
            idempotencyKey: b.idempotencyKey,
            submittedByKeyId: b.submittedByKeyId,
            requestSha256: b.requestSha256,
            ...(b.requestSha256AsSent === undefined ? {} : { alsoMatches: b.requestSha256AsSent }),
          });
          const batch = await status(tx, b.tenantId, priorId);
          if (!batch) throw new TriageError('TRIAGE_INTERNAL', 'stored batch has no items');
          const [c] = await tx.query<{ chunks: number }>(
            'SELECT max(chunk) + 1 AS chunks FROM batch_items WHERE batch_id = $1',
            [priorId],
          );
          return { batch, created: false, chunks: Number(c!.chunks) };
        }
        const chunks = await insertItems(tx, id, b.invoices, b.chunkSize);
        const batch = await status(tx, b.tenantId, id);
        if (!batch) throw new TriageError('TRIAGE_INTERNAL', 'batch vanished inside its transaction');
        return { batch, created: true, chunks };
      }),

    get: (tenantId, batchId) => status(db, tenantId, batchId),

    async results(tenantId, batchId, after, limit) {
      if (!UUID.test(batchId)) return null;
      const exists = await db.query('SELECT 1 FROM batches WHERE id = $1 AND tenant_id = $2', [
        batchId,
        tenantId,
      ]);
      if (exists.length === 0) return null;
      const rows = await db.query(
        `SELECT i.idx, i.invoice_id, i.state, i.replayed, i.error, d.response
         FROM batch_items i LEFT JOIN decisions d ON d.id = i.decision_id AND d.tenant_id = $2
         WHERE i.batch_id = $1 AND i.idx > $3 ORDER BY i.idx LIMIT $4`,
        [batchId, tenantId, after, limit + 1],
      );
      const items = rows.slice(0, limit).map(toResult);
      return { items, nextAfter: rows.length > limit ? items[items.length - 1]!.index : null };
    },

    async chunkItems(tenantId, batchId, chunk, after, limit) {
      const rows = await db.query(
        `SELECT i.idx, i.state = 'pending' AS pending, CASE WHEN i.state = 'pending' THEN i.payload END AS payload,
           b.submitted_by_key_id
         FROM batch_items i JOIN batches b ON b.id = i.batch_id
         WHERE i.batch_id = $1 AND b.tenant_id = $2 AND i.chunk = $3 AND i.idx > $4
         ORDER BY i.idx LIMIT $5`,
        [batchId, tenantId, chunk, after, limit],
        { name: 'batch_chunk_items' },
      );
      const pending = rows
        .filter((r) => r.pending === true)
        .map((r) => ({
          index: Number(r.idx),
          payload: r.payload,
          submittedByKeyId: (r.submitted_by_key_id as string | null) ?? null,
        }));
      const last = rows.at(-1);
      return { pending, settled: rows.length - pending.length, last: last ? Number(last.idx) : null };
    },

    async markDone(batchId, index, decisionId, replayed) {
      const rows = await db.query(
        `UPDATE batch_items SET state = 'done', decision_id = $3, replayed = $4, updated_at = now()
         WHERE batch_id = $1 AND idx = $2 AND state = 'pending' RETURNING idx`,
        [batchId, index, decisionId, replayed],
      );
      return rows.length > 0;
    },

    async markFailed(batchId, index, error) {
      const rows = await db.query(
        `UPDATE batch_items SET state = 'failed', error = $3::jsonb, updated_at = now()
         WHERE batch_id = $1 AND idx = $2 AND state = 'pending' RETURNING idx`,
        [batchId, index, JSON.stringify(error)],
      );
      return rows.length > 0;
    },

    async settle(tx, batchId, items) {
      if (items.length === 0) return [];
      const rows = await tx.query<{ idx: number }>(
        `UPDATE batch_items i SET state = s.state, decision_id = COALESCE(s.decision_id::uuid, i.decision_id),
           replayed = COALESCE(s.replayed, i.replayed), error = COALESCE(s.error::jsonb, i.error), updated_at = now()
         FROM unnest($2::int[], $3::text[], $4::text[], $5::bool[], $6::text[])
           AS s(idx, state, decision_id, replayed, error)
         WHERE i.batch_id = $1 AND i.idx = s.idx AND i.state = 'pending' RETURNING i.idx`,
        [
          batchId,
          items.map((x) => x.index),
          items.map((x) => ('error' in x ? 'failed' : 'done')),
          items.map((x) => ('error' in x ? null : x.decisionId)),
          items.map((x) => ('error' in x ? null : x.replayed)),
          items.map((x) => ('error' in x ? JSON.stringify(x.error) : null)),
        ],
        { name: 'batch_settle' },
      );
      return rows.map((r) => Number(r.idx));
    },

    async recordAttempt(batchId, index) {
      const rows = await db.query<{ attempts: number }>(
        `UPDATE batch_items SET attempts = attempts + 1, updated_at = now()
         WHERE batch_id = $1 AND idx = $2 RETURNING attempts`,
        [batchId, index],
      );
      return Number(rows[0]?.attempts ?? 0);
    },

    async completeIfFinished(batchId) {
      const rows = await db.query(
        `UPDATE batches b SET completed_at = now()
         WHERE b.id = $1 AND b.completed_at IS NULL
           AND NOT EXISTS (SELECT 1 FROM batch_items i WHERE i.batch_id = b.id AND i.state = 'pending')
         RETURNING b.id`,
        [batchId],
        { name: 'batch_complete_if_finished' },
      );
      return rows.length > 0;
    },

    async completeFinished() {
      const rows = await db.query(
        `UPDATE batches b SET completed_at = now()
         WHERE b.completed_at IS NULL
           AND NOT EXISTS (SELECT 1 FROM batch_items i WHERE i.batch_id = b.id AND i.state = 'pending')
         RETURNING b.id`,
      );
      return rows.length;
    },

    async openBatches(olderThanMs, limit) {
      const rows = await db.query(
        `SELECT b.id, b.tenant_id, array_agg(DISTINCT i.chunk ORDER BY i.chunk) AS chunks
         FROM batches b JOIN batch_items i ON i.batch_id = b.id AND i.state = 'pending'
         WHERE b.completed_at IS NULL
           AND b.created_at <= now() - ($1::double precision * interval '1 millisecond')
         GROUP BY b.id ORDER BY min(b.created_at) LIMIT $2`,
        [olderThanMs, limit],
      );
      return rows.map((r) => ({
        batchId: String(r.id),
        tenantId: String(r.tenant_id),
        chunks: (r.chunks as (number | string)[]).map(Number),
      }));
    },
  };
}
