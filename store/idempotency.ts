/**
 * The stored request an Idempotency-Key already names, for the routes whose accepted request is
 * one row keyed by (tenant, key, submitting API key) with the sha256 of its content: batches
 * (`batches`) and asynchronous history imports (`history_imports`).
 */
import { TriageError } from '../core/errors.js';
import type { SqlExecutor } from './sql.js';

/** A table of requests accepted under an Idempotency-Key, and how its errors name one. */
export interface IdempotentRequests {
  table: 'batches' | 'history_imports';
  /** The request as a conflict names it (`batch`, `history import`). */
  kind: string;
  /** What a new key is for (`content`, `records`). */
  newWhat: string;
}

/** The lookup of a request stored under a key, after an insert of a new one found it taken. */
export interface IdempotentLookup {
  tenantId: string;
  /** The key; null never matches a stored request. */
  idempotencyKey: string | null;
  /** The API key that submitted it; null for the system. */
  submittedByKeyId: string | null;
  /** sha256 (hex) of the request's content. */
  requestSha256: string;
  /** Another hash the stored request may carry for the same content (hashed as sent before). */
  alsoMatches?: string;
}

/**
 * The id of the request stored under the same tenant, Idempotency-Key and submitting key, when
 * it holds the same content (the caller answers it as a replay).
 * @throws TriageError `TRIAGE_IDEMPOTENCY_CONFLICT` naming `/headers/idempotency-key` when the
 *   stored request holds other content; `TRIAGE_INTERNAL` when none is stored (the insert's
 *   conflict came from a row this transaction cannot see).
 */
export async function storedUnderKey(
  tx: SqlExecutor,
  t: IdempotentRequests,
  q: IdempotentLookup,
): Promise<string> {
  const prior = (
    await tx.query<{ id: string; request_sha256: string }>(
      `SELECT id, request_sha256 FROM ${t.table}
       WHERE tenant_id = $1 AND idempotency_key = $2 AND COALESCE(submitted_by_key_id, '') = COALESCE($3, '')`,
      [q.tenantId, q.idempotencyKey, q.submittedByKeyId],
    )
  )[0];
  if (!prior)
    throw new TriageError('TRIAGE_INTERNAL', `idempotency key conflicted but no ${t.kind} was found`);
  if (prior.request_sha256 !== q.requestSha256 && prior.request_sha256 !== q.alsoMatches)
    throw new TriageError(
      'TRIAGE_IDEMPOTENCY_CONFLICT',
      `this Idempotency-Key was already used for a different ${t.kind}; use a new key for new ${t.newWhat}`,
      [{ path: '/headers/idempotency-key', message: 'already used for a different request' }],
    );
  return String(prior.id);
}
