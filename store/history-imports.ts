/**
 * Asynchronous history imports (`POST /v1/history` with `Prefer: respond-async`): an import row
 * and its records, staged together in one transaction before the API answers 202, then worked
 * off chunk by chunk by the `import-history` job (jobs/history-import.ts). Each chunk's progress
 * (`next_index` and the counts) commits in the chunk's own transaction, guarded by the index it
 * started from, so a crash or a second run of the job never counts or imports a record twice and
 * a restarted job resumes at the first record not committed. Every read is tenant-scoped.
 */
import { randomUUID } from 'node:crypto';
import { setImmediate } from 'node:timers/promises';
import { TriageError } from '../core/errors.js';
import { appendAudit } from './audit.js';
import type { SqlDatabase, SqlExecutor } from './sql.js';
import { storedUnderKey, type IdempotentRequests } from './idempotency.js';

/** Asynchronous history imports as an Idempotency-Key conflict names them. */
const HISTORY_IMPORTS: IdempotentRequests = {
  table: 'history_imports',
  kind: 'history import',
  newWhat: 'records',
};

/** State of an import: waiting for its job, being imported, finished, or given up. */
export type HistoryImportState = 'queued' | 'running' | 'done' | 'failed';

/** One staged record: its index in the body (`/N`), its NDJSON file line, its JSON text. */
export interface StagedHistoryRecord {
  index: number;
  line?: number;
  text: string;
}

/** A new import to stage. */
export interface NewHistoryImport {
  tenantId: string;
  /** The API key that sent it (actor of the import's audit entries), or null. */
  submittedByKeyId: string | null;
  /** The client's `Idempotency-Key`, or null. */
  idempotencyKey: string | null;
  /** sha256 (hex) identifying the records; a re-sent key must come with the same hash. */
  requestSha256: string;
  /** Invoices per transaction of the job (≥ 1). */
  chunkSize: number;
  /** The validated records in body order (at least one); `index` runs from 0. */
  records: readonly StagedHistoryRecord[];
}

/** A record the job did not import, with why (field paths inside the invoice; no contents). */
export interface HistoryImportRefusal {
  location: string;
  errors: string[];
}

/** Progress of an import. Timestamps are ISO 8601 UTC. */
export interface HistoryImportStatus {
  id: string;
  tenantId: string;
  submittedByKeyId: string | null;
  state: HistoryImportState;
  /** Records accepted (staged). */
  recordsTotal: number;
  chunkSize: number;
  /** Records before this index are committed (imported, already stored or refused). */
  nextIndex: number;
  /** Invoices written by this import. */
  imported: number;
  /** Invoices already stored with the same content (an earlier import, a score, or repeated). */
  skipped: number;
  /** Records not imported (an invoice id stored with other content since the import was accepted). */
  refused: number;
  /** The first {@link MAX_REFUSALS} refused records. */
  refusals: HistoryImportRefusal[];
  /** Why the import failed, when `state` is `failed`. */
  error: { code: string; detail: string } | null;
  createdAt: string;
  startedAt: string | null;
  finishedAt: string | null;
}

/** Result of {@link HistoryImportStore.create}. */
export interface CreateHistoryImportResult {
  import: HistoryImportStatus;
  /** False when the idempotency key was already used for the same records (the stored import). */
  created: boolean;
}

/** What one chunk committed: counts of its records. */
export interface HistoryImportProgress {
  imported: number;
  skipped: number;
  refused: HistoryImportRefusal[];
}

/** Refused records kept on the import row (the count goes on). */
export const MAX_REFUSALS = 100;

/** History import storage operations. */
export interface HistoryImportStore {
  /**
   * Stages the import and all its records in one transaction (all or nothing), with an audit
   * entry `history.import_accepted`. Idempotency keys are scoped per submitting API key.
   * @throws TriageError `TRIAGE_IDEMPOTENCY_CONFLICT` when the submitter's idempotency key was
   *   used for other records.
   */
  create(imp: NewHistoryImport): Promise<CreateHistoryImportResult>;
  /** An import's progress, or null when it does not exist for this tenant. */
  get(tenantId: string, importId: string): Promise<HistoryImportStatus | null>;
  /** Staged records with index in [from, to), ascending. */
  records(importId: string, from: number, to: number): Promise<StagedHistoryRecord[]>;
  /** queued -> running (sets `started_at` once); a running import stays running. */
  start(importId: string): Promise<void>;
  /**
   * Records the chunk [from, to) as committed, only when the import's `next_index` is still
   * `from`; on `tx` when given (the chunk's transaction, so the progress commits with its invoices).
   * @returns false when another run moved the import on (nothing changed).
   */
  advance(
    importId: string,
    from: number,
    to: number,
    p: HistoryImportProgress,
    tx?: SqlExecutor,
  ): Promise<boolean>;
  /**
   * Marks a fully committed import done, deletes its staged records and appends the audit entry
   * `history.import_finished` (one transaction).
   * @returns false when it was not running with every record committed.
   */
  finish(importId: string): Promise<boolean>;
  /** Marks the import failed with the error (a permanent job error); no-op once done. */
  fail(importId: string, error: { code: string; detail: string }): Promise<void>;
  /** Imports queued or running created at least `olderThanMs` ago, oldest first. */
  open(olderThanMs: number, limit: number): Promise<{ tenantId: string; importId: string }[]>;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
/** Records per INSERT statement while staging, a turn of the event loop between them. */
const STAGE_STATEMENT_RECORDS = 500;

const iso = (v: unknown): string => new Date(v as string | Date).toISOString();
const isoOrNull = (v: unknown): string | null => (v === null || v === undefined ? null : iso(v));

const STATUS_COLUMNS = `id, tenant_id, submitted_by_key_id, state, records_total, chunk_size, next_index,
  imported, skipped, refused, refusals, error, created_at, started_at, finished_at`;

function toStatus(r: Record<string, unknown>): HistoryImportStatus {
  return {
    id: String(r.id),
    tenantId: String(r.tenant_id),
    submittedByKeyId: (r.submitted_by_key_id as string | null) ?? null,
    state: r.state as HistoryImportState,
    recordsTotal: Number(r.records_total),
    chunkSize: Number(r.chunk_size),
    nextIndex: Number(r.next_index),
    imported: Number(r.imported),
    skipped: Number(r.skipped),
    refused: Number(r.refused),
    refusals: (r.refusals as HistoryImportRefusal[] | null) ?? [],
    error: (r.error as { code: string; detail: string } | null) ?? null,
    createdAt: iso(r.created_at),
    startedAt: isoOrNull(r.started_at),
    finishedAt: isoOrNull(r.finished_at),
  };
}

async function status(
  ex: SqlExecutor,
  tenantId: string,
  importId: string,
): Promise<HistoryImportStatus | null> {
  if (!UUID.test(importId)) return null;
  const r = (
    await ex.query(`SELECT ${STATUS_COLUMNS} FROM history_imports WHERE id = $1 AND tenant_id = $2`, [
      importId,
      tenantId,
    ])
  )[0];
  return r ? toStatus(r) : null;
}

async function stageRecords(
  tx: SqlExecutor,
  importId: string,
  records: readonly StagedHistoryRecord[],
): Promise<void> {
  for (let from = 0; from < records.length; from += STAGE_STATEMENT_RECORDS) {
    // The embedded engine runs statements on this thread: a turn between them lets other
    // requests through (the staging stays one transaction).
    if (from > 0) await setImmediate();
    const part = records.slice(from, from + STAGE_STATEMENT_RECORDS);
    await tx.query(
      `INSERT INTO history_import_records (import_id, idx, line, record)
       SELECT $1, idx, line, record FROM unnest($2::int[], $3::int[], $4::text[]) AS u(idx, line, record)`,
      [importId, part.map((r) => r.index), part.map((r) => r.line ?? null), part.map((r) => r.text)],
    );
  }
}

/** Builds the history import store over an opened, migrated database. */
export function createHistoryImportStore(db: SqlDatabase): HistoryImportStore {
  return {
    create: (imp) =>
      db.transaction(async (tx) => {
        if (imp.records.length === 0) throw new RangeError('an import needs at least one record');
        const id = randomUUID();
        const inserted = await tx.query(
          `INSERT INTO history_imports (id, tenant_id, submitted_by_key_id, idempotency_key, request_sha256,
             records_total, chunk_size)
           VALUES ($1, $2, $3, $4, $5, $6, $7)
           ON CONFLICT (tenant_id, (COALESCE(submitted_by_key_id, '')), idempotency_key) DO NOTHING RETURNING id`,
          [
            id,
            imp.tenantId,
            imp.submittedByKeyId,
            imp.idempotencyKey,
            imp.requestSha256,
            imp.records.length,
            imp.chunkSize,
          ],
        );
        if (inserted.length === 0) {
          const priorId = await storedUnderKey(tx, HISTORY_IMPORTS, {
            tenantId: imp.tenantId,
            idempotencyKey: imp.idempotencyKey,
            submittedByKeyId: imp.submittedByKeyId,
            requestSha256: imp.requestSha256,
          });
          const stored = await status(tx, imp.tenantId, priorId);
          if (!stored) throw new TriageError('TRIAGE_INTERNAL', 'stored import vanished');
          return { import: stored, created: false };
        }
        await stageRecords(tx, id, imp.records);
        await appendAudit(tx, {
          tenantId: imp.tenantId,
          actorKeyId: imp.submittedByKeyId,
          kind: 'history.import_accepted',
          subjectId: `history-import:${id}`,
          payload: { records: imp.records.length, records_sha256: imp.requestSha256 },
        });
        const created = await status(tx, imp.tenantId, id);
        if (!created) throw new TriageError('TRIAGE_INTERNAL', 'import vanished inside its transaction');
        return { import: created, created: true };
      }),

    get: (tenantId, importId) => status(db, tenantId, importId),

    async records(importId, from, to) {
      const rows = await db.query<{ idx: number; line: number | null; record: string }>(
        `SELECT idx, line, record FROM history_import_records
         WHERE import_id = $1 AND idx >= $2 AND idx < $3 ORDER BY idx`,
        [importId, from, to],
      );
      return rows.map((r) => ({
        index: Number(r.idx),
        ...(r.line === null ? {} : { line: Number(r.line) }),
        text: r.record,
      }));
    },

    async start(importId) {
      await db.query(
        `UPDATE history_imports SET state = 'running', started_at = COALESCE(started_at, now())
         WHERE id = $1 AND state IN ('queued', 'running')`,
        [importId],
      );
    },

    async advance(importId, from, to, p, tx) {
      const rows = await (tx ?? db).query(
        `UPDATE history_imports SET next_index = $3, imported = imported + $4, skipped = skipped + $5,
           refused = refused + $6,
           refusals = CASE WHEN jsonb_array_length(refusals) >= $8 THEN refusals
             ELSE (SELECT COALESCE(jsonb_agg(e), '[]'::jsonb) FROM (
               SELECT e FROM jsonb_array_elements(refusals || $7::jsonb) WITH ORDINALITY AS t(e, n)
               ORDER BY n LIMIT $8) s) END
         WHERE id = $1 AND next_index = $2 AND state = 'running' RETURNING id`,
        [
          importId,
          from,
          to,
          p.imported,
          p.skipped,
          p.refused.length,
          JSON.stringify(p.refused),
          MAX_REFUSALS,
        ],
      );
      return rows.length > 0;
    },

    finish: (importId) =>
      db.transaction(async (tx) => {
        const rows = await tx.query(
          `UPDATE history_imports SET state = 'done', finished_at = now()
           WHERE id = $1 AND state = 'running' AND next_index = records_total
           RETURNING ${STATUS_COLUMNS}`,
          [importId],
        );
        const done = rows[0];
        if (!done) return false;
        const s = toStatus(done);
        await tx.query('DELETE FROM history_import_records WHERE import_id = $1', [importId]);
        await appendAudit(tx, {
          tenantId: s.tenantId,
          actorKeyId: s.submittedByKeyId,
          kind: 'history.import_finished',
          subjectId: `history-import:${importId}`,
          payload: { records: s.recordsTotal, imported: s.imported, skipped: s.skipped, refused: s.refused },
        });
        return true;
      }),

    async fail(importId, error) {
      await db.query(
        `UPDATE history_imports SET state = 'failed', error = $2::jsonb, finished_at = now()
         WHERE id = $1 AND state IN ('queued', 'running')`,
        [importId, JSON.stringify(error)],
      );
    },

    async open(olderThanMs, limit) {
      const rows = await db.query<{ id: string; tenant_id: string }>(
        `SELECT id, tenant_id FROM history_imports
         WHERE state IN ('queued', 'running')
           AND created_at <= now() - ($1::double precision * interval '1 millisecond')
         ORDER BY created_at LIMIT $2`,
        [olderThanMs, limit],
      );
      return rows.map((r) => ({ tenantId: String(r.tenant_id), importId: String(r.id) }));
    },
  };
}
