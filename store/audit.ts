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
 * The hot path (scoring) instead writes an outbox row in its transaction ({@link enqueueAudit},
 * no lock on the chain head); {@link linkAudit}, one linker per tenant under an advisory lock,
 * hashes outbox rows onto the chain in batches, in commit-visible id order. Every append and
 * every read (list, verify) links the pending rows first, so the chain order stays causal.
 * {@link verifyAudit} recomputes the chain and names the first bad `seq`: an altered row
 * (hash or payload hash mismatch), a deleted row (gap in `seq` or broken `prev_hash` link) or
 * a cut tail (the chain ends before the head recorded in `audit_heads`).
 */
import { canonicalJson, sha256Hex } from '../core/canonical.js';
import type { SqlDatabase, SqlExecutor } from './sql.js';

/** `prev_hash` of the first row of every chain. */
export const GENESIS_HASH = '0'.repeat(64);

/**
 * Kinds of audited events: `decision.created`, `review.created`, `decision.state_changed` (a
 * review moved the decision between open, confirmed and released, or its item to another queue;
 * store/reviews.ts), `review.claimed`, `review.claim_renewed`, `review.released`,
 * `review.claim_expired` (worklist claims, store/claims.ts), `policy.changed`, `key.created`,
 * `key.revoked`, `vendor.updated`, `model.registered`, `model.promoted`. Any `area.verb` string is
 * accepted so that later areas can add kinds without a migration.
 */
export type AuditKind =
  | 'decision.created'
  | 'review.created'
  | 'decision.state_changed'
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
  /**
   * What is wrong at `firstBadSeq`: altered, payload_altered, gap, broken_link, truncated,
   * head_mismatch, or pending_payload_altered (an outbox row not linked yet, numbered as it would be).
   */
  problem: string | null;
  /** Outbox rows committed but not linked yet (each checked against its payload hash). */
  pending: number;
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
  const prev = await lockHead(tx, entry.tenantId);
  // Outbox rows committed before this append come first in the chain.
  const pending = await tx.query(`${OUTBOX_SELECT} LIMIT $2`, [entry.tenantId, LINK_ALL]);
  const rows = chainRows(prev, [...pending.map(outboxEntry), entryRow(entry)]);
  await writeLinked(
    tx,
    entry.tenantId,
    rows,
    pending.map((r) => String(r.id)),
  );
  return rows[rows.length - 1]!;
}

/** An entry with its canonical payload and time, not yet on the chain. */
type Unlinked = Pick<
  AuditRow,
  'tenantId' | 'ts' | 'actorKeyId' | 'kind' | 'subjectId' | 'payload' | 'payloadSha256'
>;

/** No limit on the pending rows an append links first. */
const LINK_ALL = 1_000_000;

const OUTBOX_SELECT = `SELECT id::text AS id, tenant_id,
  to_char(ts AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS ts,
  actor_key_id, kind, subject_id, payload, payload_sha256
  FROM audit_outbox WHERE tenant_id = $1 ORDER BY id`;

function entryRow(entry: AuditEntry): Unlinked {
  const payload = canonicalJson(entry.payload);
  return {
    tenantId: entry.tenantId,
    ts: new Date().toISOString(),
    actorKeyId: entry.actorKeyId,
    kind: entry.kind,
    subjectId: entry.subjectId,
    payload,
    payloadSha256: sha256Hex(payload),
  };
}

function outboxEntry(r: Record<string, unknown>): Unlinked {
  return {
    tenantId: String(r.tenant_id),
    ts: String(r.ts),
    actorKeyId: (r.actor_key_id as string | null) ?? null,
    kind: String(r.kind),
    subjectId: String(r.subject_id),
    payload: String(r.payload),
    payloadSha256: String(r.payload_sha256),
  };
}

/** Creates the tenant's head if absent and locks it for the rest of the transaction. */
async function lockHead(tx: SqlExecutor, tenantId: string): Promise<{ seq: number; hash: string }> {
  const head = await tx.query<{ seq: string; hash: string }>(
    `INSERT INTO audit_heads AS h (tenant_id, seq, hash) VALUES ($1, 0, $2)
     ON CONFLICT (tenant_id) DO UPDATE SET seq = h.seq RETURNING seq::text AS seq, hash`,
    [tenantId, GENESIS_HASH],
    { name: 'audit_lock_head' },
  );
  return { seq: Number(head[0]!.seq), hash: head[0]!.hash };
}

/** The entries hashed onto the chain after `prev`, in order. */
function chainRows(prev: { seq: number; hash: string }, entries: readonly Unlinked[]): AuditRow[] {
  let { seq, hash } = prev;
  return entries.map((e) => {
    seq++;
    const row: AuditRow = { ...e, seq, prevHash: hash, hash: '' };
    row.hash = auditRowHash(row, hash);
    hash = row.hash;
    return row;
  });
}

/** Inserts the linked rows, moves the head and deletes their outbox rows, in one statement. */
async function writeLinked(
  tx: SqlExecutor,
  tenantId: string,
  rows: readonly AuditRow[],
  outboxIds: string[],
) {
  const last = rows[rows.length - 1];
  if (!last) return;
  await tx.query(
    `WITH ins AS (
       INSERT INTO audit_log (tenant_id, seq, ts, actor_key_id, kind, subject_id, payload, payload_sha256, prev_hash, hash)
       SELECT $1, * FROM unnest($2::bigint[], $3::timestamptz[], $4::text[], $5::text[], $6::text[], $7::text[],
         $8::text[], $9::text[], $10::text[])),
     head AS (UPDATE audit_heads SET seq = $11, hash = $12 WHERE tenant_id = $1)
     DELETE FROM audit_outbox WHERE id = ANY ($13::bigint[])`,
    [
      tenantId,
      rows.map((r) => r.seq),
      rows.map((r) => r.ts),
      rows.map((r) => r.actorKeyId),
      rows.map((r) => r.kind),
      rows.map((r) => r.subjectId),
      rows.map((r) => r.payload),
      rows.map((r) => r.payloadSha256),
      rows.map((r) => r.prevHash),
      rows.map((r) => r.hash),
      last.seq,
      last.hash,
      outboxIds,
    ],
    { name: 'audit_write_linked' },
  );
}

/**
 * Writes `entry` to the audit outbox inside the caller's transaction: one INSERT, no lock on the
 * chain head. It joins the chain when {@link linkAudit} (or any append or read of the tenant's
 * chain) runs after this transaction commits.
 */
export async function enqueueAudit(tx: SqlExecutor, entry: AuditEntry): Promise<void> {
  const e = entryRow(entry);
  await tx.query(
    `INSERT INTO audit_outbox (tenant_id, ts, actor_key_id, kind, subject_id, payload, payload_sha256)
     VALUES ($1, $2, $3, $4, $5, $6, $7)`,
    [e.tenantId, e.ts, e.actorKeyId, e.kind, e.subjectId, e.payload, e.payloadSha256],
    { name: 'audit_enqueue' },
  );
}

/** {@link enqueueAudit} for several entries in one statement, in order (outbox ids ascend with it). */
export async function enqueueAuditMany(tx: SqlExecutor, entries: readonly AuditEntry[]): Promise<void> {
  if (entries.length === 0) return;
  const rows = entries.map(entryRow);
  await tx.query(
    `INSERT INTO audit_outbox (tenant_id, ts, actor_key_id, kind, subject_id, payload, payload_sha256)
     SELECT e.tenant_id, e.ts, e.actor_key_id, e.kind, e.subject_id, e.payload, e.payload_sha256
     FROM unnest($1::text[], $2::timestamptz[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[])
       WITH ORDINALITY AS e(tenant_id, ts, actor_key_id, kind, subject_id, payload, payload_sha256, ord)
     ORDER BY ord`,
    [
      rows.map((e) => e.tenantId),
      rows.map((e) => e.ts),
      rows.map((e) => e.actorKeyId),
      rows.map((e) => e.kind),
      rows.map((e) => e.subjectId),
      rows.map((e) => e.payload),
      rows.map((e) => e.payloadSha256),
    ],
    { name: 'audit_enqueue_many' },
  );
}

/**
 * Links up to `batch` committed outbox rows of the tenant onto its chain, in one transaction
 * under the tenant's head lock (concurrent linkers and appenders queue on it; a crash rolls
 * the whole batch back and the rows stay in the outbox).
 * @returns the number of rows linked.
 */
export async function linkAudit(db: SqlDatabase, tenantId: string, batch = 1000): Promise<number> {
  return db.transaction(async (tx) => {
    // Whether anything waits, without reading the rows: the head is neither created nor locked
    // for nothing.
    const waiting = await tx.query<{ waiting: boolean }>(
      'SELECT EXISTS (SELECT 1 FROM audit_outbox WHERE tenant_id = $1) AS waiting',
      [tenantId],
      { name: 'audit_outbox_any' },
    );
    if (!waiting[0]!.waiting) return 0;
    const prev = await lockHead(tx, tenantId);
    // Read under the lock: another linker may have taken some rows meanwhile.
    const locked = await tx.query(`${OUTBOX_SELECT} LIMIT $2`, [tenantId, batch], {
      name: 'audit_outbox_batch',
    });
    await writeLinked(
      tx,
      tenantId,
      chainRows(prev, locked.map(outboxEntry)),
      locked.map((r) => String(r.id)),
    );
    return locked.length;
  });
}

/**
 * Links every outbox row of the tenant committed before the call (batches of 1000 until one
 * is short: its read under the head lock saw every row committed by then).
 * @returns the number of rows linked.
 */
export async function linkAllAudit(db: SqlDatabase, tenantId: string): Promise<number> {
  const batch = 1000;
  let total = 0;
  for (let n = batch; n === batch; total += n) n = await linkAudit(db, tenantId, batch);
  return total;
}

/** Tenants with outbox rows waiting to be linked. */
export async function pendingAuditTenants(db: SqlExecutor): Promise<string[]> {
  const rows = await db.query<{ tenant_id: string }>(
    'SELECT DISTINCT tenant_id FROM audit_outbox ORDER BY tenant_id',
  );
  return rows.map((r) => r.tenant_id);
}

const ROW_COLUMNS = `tenant_id, seq::text AS seq,
  to_char(ts AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS ts,
  actor_key_id, kind, subject_id, payload, payload_sha256, prev_hash, hash`;

function toRow(r: Record<string, unknown>): AuditRow {
  return { ...outboxEntry(r), seq: Number(r.seq), prevHash: String(r.prev_hash), hash: String(r.hash) };
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
    pending: 0,
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
  // The tail not linked yet: each waiting row must still match its payload hash.
  const pending = (await db.query(`${OUTBOX_SELECT} LIMIT $2`, [tenantId, LINK_ALL])).map(outboxEntry);
  const bad = pending.findIndex((e) => sha256Hex(e.payload) !== e.payloadSha256);
  if (bad >= 0) return { ...fail(last + 1 + bad, 'pending_payload_altered'), pending: pending.length };
  return {
    tenantId,
    ok: true,
    rowsChecked: checked,
    head,
    firstBadSeq: null,
    problem: null,
    pending: pending.length,
  };
}
