/**
 * Claims on worklist items: a reviewer claims an open exception for a while (default 15
 * minutes) so that nobody else works it; the claim ends when it is released, when it expires,
 * or when the item is closed by a review. One row per claimed decision (`worklist_claims`,
 * migration 020).
 *
 * Every change of a claim is audited in the tenant's hash chain, in the transaction of the
 * change (subject: the decision id; actor: the API key whose request made the change; payload:
 * the decision id, the holder's key id and the claim's times, no invoice contents):
 * - `review.claimed`: a key takes an item nobody holds (`previous_key_id`: the holder of the
 *   expired claim it replaces, else null);
 * - `review.claim_renewed`: the holder extends its live claim;
 * - `review.released`: a live claim ends, released by its holder (`reason: released`) or because
 *   its item was closed (`reason: item_closed`: a review, store/reviews.ts, or an ERP callback
 *   that posts or pays the invoice, store/erp.ts; actor that request's key);
 * - `review.claim_expired`: an expired claim is removed or replaced (`applied_by`: `claim`,
 *   `release` or `item_closed`), written before the `review.claimed` of a key that takes it over.
 *
 * Expiry itself is not a write: a claim stops counting at `expires_at` and no process runs at
 * that moment, so nothing is audited then. Its end time is already in the chain (the
 * `expires_at` of its `review.claimed` / `review.claim_renewed` entry), and the expiry is
 * audited when a later change applies it, as above. There is no reassignment operation: another
 * reviewer takes an item only once its claim has expired (`review.claim_expired` followed by
 * `review.claimed` naming the previous holder).
 */
import { TriageError } from '../core/errors.js';
import { appendAudit } from './audit.js';
import type { SqlDatabase, SqlExecutor } from './sql.js';

/** An active claim. Times are ISO 8601 UTC. */
export interface WorklistClaim {
  decision_id: string;
  /** API key id of the claimant. */
  key_id: string;
  /** Name of the claimant's API key (shown to other reviewers). */
  key_name: string | null;
  claimed_at: string;
  expires_at: string;
}

/** Claim operations of one store. */
export interface ClaimStore {
  /**
   * Claims (or renews) an open item for `keyId` until `now + ttlSeconds`, audited (module doc).
   * @throws TriageError `TRIAGE_DECISION_NOT_FOUND` (404) when the tenant has no open item with that id;
   *   `TRIAGE_CLAIM_CONFLICT` (409) when another key holds an unexpired claim.
   */
  claim(
    tenantId: string,
    decisionId: string,
    keyId: string,
    now: Date,
    ttlSeconds: number,
  ): Promise<WorklistClaim>;
  /**
   * Releases the caller's claim, audited (module doc); releasing an item nobody claims, or
   * whose claim of another key has expired, is a no-op.
   * @returns true when a claim was released.
   * @throws TriageError `TRIAGE_CLAIM_CONFLICT` (409) when another key holds an unexpired claim.
   */
  release(tenantId: string, decisionId: string, keyId: string, now: Date): Promise<boolean>;
  /** Unexpired claims on the tenant's open items, oldest first. */
  active(tenantId: string, now: Date): Promise<WorklistClaim[]>;
}

const COLUMNS = `c.decision_id::text AS decision_id, c.key_id, k.name AS key_name,
  to_char(c.claimed_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS claimed_at,
  to_char(c.expires_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS expires_at`;

const toClaim = (r: Record<string, unknown>): WorklistClaim => ({
  decision_id: String(r.decision_id),
  key_id: String(r.key_id),
  key_name: (r.key_name as string | null) ?? null,
  claimed_at: String(r.claimed_at),
  expires_at: String(r.expires_at),
});

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** A claim row as stored, expired or not, with whether it is live at the time asked about. */
interface StoredClaim {
  key_id: string;
  claimed_at: string;
  expires_at: string;
  live: boolean;
}

/**
 * The stored claim on `decisionId` (expired or not), row-locked for the rest of the transaction.
 * `live`: it expires after `now`.
 */
async function lockedClaim(tx: SqlExecutor, tenantId: string, decisionId: string, now: Date) {
  const rows = await tx.query(
    `SELECT key_id,
       to_char(claimed_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS claimed_at,
       to_char(expires_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS expires_at,
       expires_at > $3 AS live
     FROM worklist_claims WHERE tenant_id = $1 AND decision_id = $2 FOR UPDATE`,
    [tenantId, decisionId, now.toISOString()],
  );
  return rows[0] ? storedClaim(rows[0]) : null;
}

const storedClaim = (r: Record<string, unknown>): StoredClaim => ({
  key_id: String(r.key_id),
  claimed_at: String(r.claimed_at),
  expires_at: String(r.expires_at),
  live: r.live === true,
});

/** What ended a claim: its holder released it, or its item was closed (a review, an ERP posting). */
type ClaimEnd = 'released' | 'item_closed';

/**
 * Appends the audit entry of a claim that ended (inside the transaction that removed it):
 * `review.released` when it was still live (`end` says why), `review.claim_expired` when it had
 * already expired and this change applied the expiry (`applied_by` = the operation). Actor: the
 * key whose request removed it; `key_id` in the payload: the claim's holder.
 */
async function auditClaimEnd(
  tx: SqlExecutor,
  tenantId: string,
  decisionId: string,
  actorKeyId: string | null,
  held: Pick<StoredClaim, 'key_id' | 'claimed_at' | 'expires_at' | 'live'>,
  end: ClaimEnd,
  now: Date,
): Promise<void> {
  const claim = { decision_id: decisionId, key_id: held.key_id, claimed_at: held.claimed_at };
  await appendAudit(
    tx,
    held.live
      ? {
          tenantId,
          actorKeyId,
          kind: 'review.released',
          subjectId: decisionId,
          payload: { ...claim, expires_at: held.expires_at, released_at: now.toISOString(), reason: end },
        }
      : {
          tenantId,
          actorKeyId,
          kind: 'review.claim_expired',
          subjectId: decisionId,
          payload: {
            ...claim,
            expired_at: held.expires_at,
            applied_by: end === 'released' ? 'release' : 'item_closed',
          },
        },
  );
}

/**
 * Ends the claim on an item that `tx` has just closed (a closed item has nothing left to claim),
 * audited as {@link auditClaimEnd} with reason `item_closed`: called by the review that closes
 * it (store/reviews.ts) and by the ERP callback that posts or pays it (store/erp.ts), with the
 * decision row locked by that change. `actorKeyId`: the key whose request closed it (null: the
 * system). Nothing when the item had no claim.
 */
export async function endClaimOfClosedItem(
  tx: SqlExecutor,
  tenantId: string,
  decisionId: string,
  actorKeyId: string | null,
  now: Date,
): Promise<void> {
  const ended = await tx.query(
    `DELETE FROM worklist_claims WHERE tenant_id = $1 AND decision_id = $2 RETURNING key_id,
       to_char(claimed_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS claimed_at,
       to_char(expires_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS expires_at,
       expires_at > $3 AS live`,
    [tenantId, decisionId, now.toISOString()],
  );
  for (const r of ended.map(storedClaim))
    await auditClaimEnd(tx, tenantId, decisionId, actorKeyId, r, 'item_closed', now);
}

/** The claim store over an opened, migrated database. */
export function createClaimStore(db: SqlDatabase): ClaimStore {
  const current = async (ex: SqlExecutor, tenantId: string, decisionId: string, now: Date) =>
    (
      await ex.query(
        `SELECT ${COLUMNS} FROM worklist_claims c LEFT JOIN api_keys k ON k.id::text = c.key_id
         WHERE c.tenant_id = $1 AND c.decision_id = $2 AND c.expires_at > $3`,
        [tenantId, decisionId, now.toISOString()],
      )
    ).map(toClaim)[0];
  const conflict = (held: WorklistClaim) =>
    new TriageError(
      'TRIAGE_CLAIM_CONFLICT',
      `decision ${held.decision_id} is claimed by another reviewer until ${held.expires_at}`,
      [{ path: '/params/id', message: 'is claimed by another reviewer' }],
    );
  const notOpen = (decisionId: string) =>
    new TriageError('TRIAGE_DECISION_NOT_FOUND', `no open worklist item ${decisionId}`);
  return {
    async claim(tenantId, decisionId, keyId, now, ttlSeconds) {
      if (!UUID.test(decisionId)) throw notOpen(decisionId);
      return db.transaction(async (tx) => {
        // The item's row lock serialises claims of one item with each other and with the review
        // that closes it, so each change reads the claim it replaces.
        const open = await tx.query(
          `SELECT 1 FROM decisions WHERE id = $1 AND tenant_id = $2 AND review_status = 'open' FOR UPDATE`,
          [decisionId, tenantId],
        );
        if (open.length === 0) throw notOpen(decisionId);
        const prev = await lockedClaim(tx, tenantId, decisionId, now);
        if (prev?.live && prev.key_id !== keyId)
          throw conflict((await current(tx, tenantId, decisionId, now))!);
        const at = now.toISOString();
        const expires = new Date(now.getTime() + ttlSeconds * 1000).toISOString();
        await tx.query(
          `INSERT INTO worklist_claims (decision_id, tenant_id, key_id, claimed_at, expires_at)
           VALUES ($2, $1, $3, $4, $5)
           ON CONFLICT (decision_id) DO UPDATE
             SET key_id = EXCLUDED.key_id, claimed_at = EXCLUDED.claimed_at, expires_at = EXCLUDED.expires_at`,
          [tenantId, decisionId, keyId, at, expires],
        );
        const entry = { tenantId, actorKeyId: keyId, subjectId: decisionId };
        const claim = { decision_id: decisionId, key_id: keyId, claimed_at: at, expires_at: expires };
        if (prev && !prev.live)
          await appendAudit(tx, {
            ...entry,
            kind: 'review.claim_expired',
            payload: {
              decision_id: decisionId,
              key_id: prev.key_id,
              claimed_at: prev.claimed_at,
              expired_at: prev.expires_at,
              applied_by: 'claim',
            },
          });
        await appendAudit(
          tx,
          prev?.live
            ? {
                ...entry,
                kind: 'review.claim_renewed',
                payload: {
                  ...claim,
                  previous_claimed_at: prev.claimed_at,
                  previous_expires_at: prev.expires_at,
                },
              }
            : {
                ...entry,
                kind: 'review.claimed',
                payload: { ...claim, ttl_seconds: ttlSeconds, previous_key_id: prev?.key_id ?? null },
              },
        );
        return (await current(tx, tenantId, decisionId, now))!;
      });
    },
    async release(tenantId, decisionId, keyId, now) {
      if (!UUID.test(decisionId)) return false;
      return db.transaction(async (tx) => {
        const held = await lockedClaim(tx, tenantId, decisionId, now);
        if (!held) return false;
        if (held.key_id !== keyId) {
          if (held.live) throw conflict((await current(tx, tenantId, decisionId, now))!);
          return false;
        }
        await tx.query('DELETE FROM worklist_claims WHERE tenant_id = $1 AND decision_id = $2', [
          tenantId,
          decisionId,
        ]);
        await auditClaimEnd(tx, tenantId, decisionId, keyId, held, 'released', now);
        return true;
      });
    },
    async active(tenantId, now) {
      const rows = await db.query(
        `SELECT ${COLUMNS} FROM worklist_claims c
           JOIN decisions d ON d.id = c.decision_id AND d.review_status = 'open'
           LEFT JOIN api_keys k ON k.id::text = c.key_id
         WHERE c.tenant_id = $1 AND c.expires_at > $2 ORDER BY c.claimed_at`,
        [tenantId, now.toISOString()],
      );
      return rows.map(toClaim);
    },
  };
}
