/**
 * The audit log: an append-only, hash-chained record of every decision, review, policy
 * change, key change, vendor-profile change and (later) model promotion, one chain per tenant.
 *
 * Each row holds `seq` (1, 2, 3... per tenant), `ts`, `tenant_id`, `actor_key_id` (the API key
 * id that acted, or null for the system), `kind`, `subject_id`, `payload` (canonical JSON,
 * keys sorted, never invoice text or PHI: ids, codes, scores, versions), `payload_sha256`,
 * `prev_hash` and
 *
 *     hash = sha256(prev_hash || canonical JSON of {actor_key_id, kind, payload_sha256,
 *                                                 seq, subject_id, tenant_id, ts})
 *
 * with `prev_hash` of the first row = 64 zeros. Rows are appended inside the transaction of
 * the change they record ({@link appendAudit}), so a change and its audit row commit together.
 * {@link verifyAudit} recomputes the chain and names the first bad `seq`: an altered row
 * (hash or payload hash mismatch), a deleted row (gap in `seq` or broken `prev_hash` link) or
 * a cut tail (the chain ends before the head recorded in `audit_heads`).
 */
import { canonicalJson, sha256Hex } from '../core/canonical.js';
import type { SqlDatabase, SqlExecutor } from './sql.js';

/** `prev_hash` of the first row of every chain. */
export const GENESIS_HASH = '0'.repeat(64);

/**
 * Kinds of audited events: `decision.created`, `review.created`, `policy.changed`,
 * `key.created`, `key.revoked`, `vendor.updated`, `model.promoted`. Any `area.verb` string is
 * accepted so that later areas can add kinds without a migration.
 */
export type AuditKind =
  | 'decision.created'
  | 'review.created'
  | 'policy.changed'
  | 'key.created'
  | 'key.revoked'
  | 'vendor.updated'
  | 'model.promoted'
  | (string & { readonly __auditKind?: never });

/** What to append. `payload` must be JSON without invoice text or PHI. */
export interface AuditEntry {
  tenantId: string;
  /** API key id of the actor; null for the system (start-up, migrations). */
  actorKeyId: string | null;
  kind: AuditKind;
  /** Id of the thing the event is about (decision id, review id, key id, policy label...). */
  subjectId: string;
  payload: Record<string, unknown>;
}

/** A stored audit row. `ts` is ISO 8601 UTC with milliseconds. */
export interface AuditRow {
  tenantId: string;
  seq: number;
  ts: string;
  actorKeyId: string | null;
  kind: string;
  subjectId: string;
  payload: string;
  payloadSha256: string;
  prevHash: string;
  hash: string;
}

/** Result of {@link verifyAudit} for one tenant's chain. */
export interface AuditVerification {
  tenantId: string;
  ok: boolean;
  /** Rows read and checked. */
  rowsChecked: number;
  /** Head recorded in `audit_heads` (seq 0 and the genesis hash for an empty chain). */
  head: { seq: number; hash: string };
  /** First sequence number that fails, or null when the chain is intact. */
  firstBadSeq: number | null;
  /** What is wrong at `firstBadSeq`: altered, payload_altered, gap, broken_link, truncated, head_mismatch. */
  problem: string | null;
}

export { canonicalJson } from '../core/canonical.js';

/** The row hash: sha256(prev_hash || canonical JSON of the row's fields). */
export function auditRowHash(
  r: Pick<AuditRow, 'tenantId' | 'seq' | 'ts' | 'actorKeyId' | 'kind' | 'subjectId' | 'payloadSha256'>,
  prevHash: string,
): string {
  return sha256Hex(
    prevHash +
      canonicalJson({
        actor_key_id: r.actorKeyId,
        kind: r.kind,
        payload_sha256: r.payloadSha256,
        seq: r.seq,
        subject_id: r.subjectId,
        tenant_id: r.tenantId,
        ts: r.ts,
      }),
  );
}

/**
 * Appends one entry to the tenant's chain inside the caller's transaction `tx`. Takes the row
 * lock of the tenant's `audit_heads` row, so concurrent appends of one tenant are serialised
 * (call it last in the transaction to hold the lock briefly). Other code (e.g. model
 * promotion) calls this from its own transaction.
 * @returns the appended row.
 */
export async function appendAudit(tx: SqlExecutor, entry: AuditEntry): Promise<AuditRow> {
  await tx.query(
    'INSERT INTO audit_heads (tenant_id, seq, hash) VALUES ($1, 0, $2) ON CONFLICT (tenant_id) DO NOTHING',
    [entry.tenantId, GENESIS_HASH],
  );
  const head = await tx.query<{ seq: string; hash: string }>(
    'SELECT seq::text AS seq, hash FROM audit_heads WHERE tenant_id = $1 FOR UPDATE',
    [entry.tenantId],
  );
  const prev = head[0]!;
  const payload = canonicalJson(entry.payload);
  const row: AuditRow = {
    tenantId: entry.tenantId,
    seq: Number(prev.seq) + 1,
    ts: new Date().toISOString(),
    actorKeyId: entry.actorKeyId,
    kind: entry.kind,
    subjectId: entry.subjectId,
    payload,
    payloadSha256: sha256Hex(payload),
    prevHash: prev.hash,
    hash: '',
  };
  row.hash = auditRowHash(row, prev.hash);
  await tx.query(
    `INSERT INTO audit_log (tenant_id, seq, ts, actor_key_id, kind, subject_id, payload, payload_sha256, prev_hash, hash)
     VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10)`,
    [
      row.tenantId,
      row.seq,
      row.ts,
      row.actorKeyId,
      row.kind,
      row.subjectId,
      row.payload,
      row.payloadSha256,
      row.prevHash,
      row.hash,
    ],
  );
  await tx.query('UPDATE audit_heads SET seq = $2, hash = $3 WHERE tenant_id = $1', [
    row.tenantId,
    row.seq,
    row.hash,
  ]);
  return row;
}

const ROW_COLUMNS = `tenant_id, seq::text AS seq,
  to_char(ts AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS ts,
  actor_key_id, kind, subject_id, payload, payload_sha256, prev_hash, hash`;

function toRow(r: Record<string, unknown>): AuditRow {
  return {
    tenantId: String(r.tenant_id),
    seq: Number(r.seq),
    ts: String(r.ts),
    actorKeyId: (r.actor_key_id as string | null) ?? null,
    kind: String(r.kind),
    subjectId: String(r.subject_id),
    payload: String(r.payload),
    payloadSha256: String(r.payload_sha256),
    prevHash: String(r.prev_hash),
    hash: String(r.hash),
  };
}

/** Filters of {@link listAudit}; days are UTC `YYYY-MM-DD`, inclusive. */
export interface AuditListOptions {
  afterSeq?: number;
  /** Page size; default 100. */
  limit?: number;
  subjectId?: string;
  /** Any of these subjects (e.g. a decision and its reviews). */
  subjectIds?: string[];
  fromDay?: string;
  toDay?: string;
}

/**
 * Page of one tenant's audit rows with `seq > afterSeq`, in numeric order (the selected `seq`
 * is text, so the ORDER BY names the column, not that alias, or 10 would sort before 2).
 */
export async function listAudit(
  db: SqlExecutor,
  tenantId: string,
  opts: AuditListOptions = {},
): Promise<AuditRow[]> {
  const rows = await db.query(
    `SELECT ${ROW_COLUMNS} FROM audit_log WHERE tenant_id = $1 AND seq > $2
       AND ($4::text IS NULL OR subject_id = $4)
       AND ($5::text[] IS NULL OR subject_id = ANY ($5::text[]))
       AND ($6::date IS NULL OR ts >= ($6::date)::timestamp AT TIME ZONE 'UTC')
       AND ($7::date IS NULL OR ts < ($7::date + 1)::timestamp AT TIME ZONE 'UTC')
     ORDER BY audit_log.seq LIMIT $3`,
    [
      tenantId,
      opts.afterSeq ?? 0,
      opts.limit ?? 100,
      opts.subjectId ?? null,
      opts.subjectIds ?? null,
      opts.fromDay ?? null,
      opts.toDay ?? null,
    ],
  );
  return rows.map(toRow);
}

/** Tenants that have an audit chain (a head row). */
export async function auditTenants(db: SqlExecutor): Promise<string[]> {
  const rows = await db.query<{ tenant_id: string }>('SELECT tenant_id FROM audit_heads ORDER BY tenant_id');
  return rows.map((r) => r.tenant_id);
}

/**
 * Recomputes one tenant's chain from the first row, reading pages of `pageSize` rows, and
 * compares its end with the recorded head. Stops at the first problem.
 */
export async function verifyAudit(
  db: SqlDatabase | SqlExecutor,
  tenantId: string,
  pageSize = 1000,
): Promise<AuditVerification> {
  const headRows = await db.query<{ seq: string; hash: string }>(
    'SELECT seq::text AS seq, hash FROM audit_heads WHERE tenant_id = $1',
    [tenantId],
  );
  const head = headRows[0]
    ? { seq: Number(headRows[0].seq), hash: headRows[0].hash }
    : { seq: 0, hash: GENESIS_HASH };
  let expectedSeq = 1;
  let prevHash = GENESIS_HASH;
  let checked = 0;
  const fail = (seq: number, problem: string): AuditVerification => ({
    tenantId,
    ok: false,
    rowsChecked: checked,
    head,
    firstBadSeq: seq,
    problem,
  });
  for (;;) {
    const page = await listAudit(db, tenantId, { afterSeq: expectedSeq - 1, limit: pageSize });
    for (const r of page) {
      if (r.seq !== expectedSeq) return fail(expectedSeq, 'gap');
      checked++;
      if (r.prevHash !== prevHash) return fail(r.seq, 'broken_link');
      if (sha256Hex(r.payload) !== r.payloadSha256) return fail(r.seq, 'payload_altered');
      if (auditRowHash(r, prevHash) !== r.hash) return fail(r.seq, 'altered');
      prevHash = r.hash;
      expectedSeq++;
    }
    if (page.length < pageSize) break;
  }
  const last = expectedSeq - 1;
  if (last < head.seq) return fail(last + 1, 'truncated');
  if (last > head.seq || prevHash !== head.hash) return fail(head.seq === 0 ? 1 : head.seq, 'head_mismatch');
  return { tenantId, ok: true, rowsChecked: checked, head, firstBadSeq: null, problem: null };
}
