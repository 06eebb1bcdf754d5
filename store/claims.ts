/**
 * Claims on worklist items: a reviewer claims an open exception for a while (default 15
 * minutes) so that nobody else works it; the claim ends when it is released, when it expires,
 * or when the item is closed by a review. One row per claimed decision (`worklist_claims`,
 * migration 020); taking, renewing and stealing an expired claim is one atomic upsert.
 */
import { TriageError } from '../core/errors.js';
import type { SqlExecutor } from './sql.js';

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
   * Claims (or renews) an open item for `keyId` until `now + ttlSeconds`.
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
   * Releases the caller's claim; releasing an item nobody claims is a no-op.
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

/** The claim store over an opened, migrated database. */
export function createClaimStore(db: SqlExecutor): ClaimStore {
  const current = async (tenantId: string, decisionId: string, now: Date) =>
    (
      await db.query(
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
  return {
    async claim(tenantId, decisionId, keyId, now, ttlSeconds) {
      if (!UUID.test(decisionId))
        throw new TriageError('TRIAGE_DECISION_NOT_FOUND', `no open worklist item ${decisionId}`);
      const expires = new Date(now.getTime() + ttlSeconds * 1000);
      const taken = await db.query(
        `INSERT INTO worklist_claims (decision_id, tenant_id, key_id, claimed_at, expires_at)
         SELECT d.id, d.tenant_id, $3, $4, $5 FROM decisions d
         WHERE d.id = $2 AND d.tenant_id = $1 AND d.review_status = 'open'
         ON CONFLICT (decision_id) DO UPDATE
           SET key_id = EXCLUDED.key_id, claimed_at = EXCLUDED.claimed_at, expires_at = EXCLUDED.expires_at
           WHERE worklist_claims.key_id = EXCLUDED.key_id OR worklist_claims.expires_at <= EXCLUDED.claimed_at
         RETURNING decision_id`,
        [tenantId, decisionId, keyId, now.toISOString(), expires.toISOString()],
      );
      const held = await current(tenantId, decisionId, now);
      if (taken.length > 0 && held) return held;
      if (held) throw conflict(held);
      throw new TriageError('TRIAGE_DECISION_NOT_FOUND', `no open worklist item ${decisionId}`);
    },
    async release(tenantId, decisionId, keyId, now) {
      if (!UUID.test(decisionId)) return false;
      const held = await current(tenantId, decisionId, now);
      if (held && held.key_id !== keyId) throw conflict(held);
      const gone = await db.query(
        'DELETE FROM worklist_claims WHERE tenant_id = $1 AND decision_id = $2 AND key_id = $3 RETURNING decision_id',
        [tenantId, decisionId, keyId],
      );
      return gone.length > 0;
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
